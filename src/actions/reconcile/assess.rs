//! One function in a sweep, decided in the issue's order: a rollout in progress, drift, in sync,
//! rejected, else a missed push to deploy. Reads only, except the drift tag (notified once).

use super::Sweep;
use super::finding::{Finding, done};
use crate::config::Target;
use crate::gateway::AliasState;
use crate::gateway::ecr::RepoImage;
use crate::marks::{self, Marks};
use crate::record::{MoveKind, VersionRecord};
use crate::report::{Deployment, End, Step};
use crate::types::{AliasTarget, FunctionRef, ImageRef, Tag};
use chrono::{DateTime, SecondsFormat, Utc};

fn failed(mut dep: Deployment, e: impl std::fmt::Display) -> Finding {
    let reason = format!("the sweep could not read it: {e}");
    dep.fail(Step::Resolve, crate::report::FailureKind::Other, reason);
    Finding::Done(Box::new(dep))
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The image a sweep would deploy: the newest (by `imagePushedAt`) whose tag matches the target's
/// patterns (an untagged image only with `allow_untagged`), and the tag it matched by.
pub(super) fn newest<'a>(
    target: &Target,
    images: &'a [RepoImage],
) -> Option<(&'a RepoImage, Option<Tag>)> {
    images
        .iter()
        .filter_map(|i| {
            let tag = if i.tags.is_empty() {
                target.tag_mismatch(None).is_none().then_some(None)?
            } else {
                Some(
                    i.tags
                        .iter()
                        .find(|t| target.tag_mismatch(Some(t)).is_none())?
                        .clone(),
                )
            };
            Some((i, tag, i.pushed?))
        })
        .max_by_key(|(_, _, pushed)| *pushed)
        .map(|(i, tag, _)| (i, tag))
}

pub(super) async fn assess(sw: &Sweep<'_, '_>, function: &FunctionRef, target: &Target) -> Finding {
    let ctx = &sw.deps.ctx;
    let f = function.as_str();
    let mut dep = Deployment::new(function.clone(), target.alias.clone());
    let alias = match ctx.lambda.get_alias(f, &target.alias).await {
        Ok(a) => a,
        Err(e) => return failed(dep, e),
    };
    let on = alias.as_ref().and_then(|a| a.target.version());
    dep.version = on;
    dep.previous_version = on;
    // No alias (never created, or deleted by someone): a sweep never creates one. A first
    // deployment is a push's job, and a deleted alias is a person's decision.
    let Some(alias) = alias else {
        let why = format!(
            "no alias {}: a sweep never creates one (a push or a deploy by hand does)",
            target.alias
        );
        return done(dep, End::skipped(why));
    };

    // 1. A rollout in progress is its own checks' business, as long as one is coming.
    dep = match rollout(sw, dep, function, target, &alias).await {
        Ok(dep) => dep,
        Err(found) => return *found,
    };

    // 2. Not where we last put it: a person's move, never fought.
    if let Some(why) = drifted(&alias) {
        return drift(sw, dep, &alias, why).await;
    }
    against_newest(sw, dep, target, &alias).await
}

/// Steps 3 and 4, then 5: the newest image against what the alias runs, whether it was rejected
/// before, else a missed push to deploy.
async fn against_newest(
    sw: &Sweep<'_, '_>,
    dep: Deployment,
    target: &Target,
    alias: &AliasState,
) -> Finding {
    let ctx = &sw.deps.ctx;
    let f = dep.function.as_str();
    // 3. The newest image, and what the alias runs.
    let images = match ctx
        .ecr
        .images(target.registry_account.as_ref(), &target.repository)
        .await
    {
        Ok(i) => i,
        Err(e) => return failed(dep, e),
    };
    let Some((image, tag)) = newest(target, &images) else {
        return done(
            dep,
            End::in_sync(format!(
                "no image in repository {} matches the target's tags: nothing newer to deploy",
                target.repository
            )),
        );
    };
    let label = match &tag {
        Some(t) => format!("{t} ({})", image.digest.short()),
        None => image.digest.short(),
    };
    let pushed_s = image.pushed.map(time).unwrap_or_default();
    let newest = Newest {
        image,
        label: &label,
        pushed_s: &pushed_s,
    };
    let on = alias.target.version();
    let q = on.map(|v| v.to_string());
    let live = match ctx.lambda.get_function(f, q.as_deref()).await {
        Ok(s) => s,
        Err(e) => return failed(dep, e),
    };
    let dep = match runs_newest(dep, target, alias, &live, &newest) {
        Ok(dep) => dep,
        Err(found) => return *found,
    };
    let dep = match rejected(sw, dep, alias, &newest).await {
        Ok(dep) => dep,
        Err(found) => return *found,
    };
    missed(sw, dep, target, image, tag, on)
}

/// Step 4: rejected before (failed here, or rolled back): a sweep never retries it.
async fn rejected(
    sw: &Sweep<'_, '_>,
    dep: Deployment,
    alias: &AliasState,
    newest: &Newest<'_>,
) -> Result<Deployment, Box<Finding>> {
    let f = dep.function.as_str();
    let marks = match Marks::read(&sw.deps.ctx.lambda, f).await {
        Ok(m) => m,
        Err(e) => return Err(Box::new(failed(dep, e))),
    };
    let rolled_back = rolled_back(sw, f, alias, newest.image).await;
    if rolled_back || marks.is_rejected(&newest.image.digest) {
        let how = if rolled_back {
            "was rolled back"
        } else {
            "failed or was rolled back"
        };
        let (label, pushed_s) = (newest.label, newest.pushed_s);
        return Err(Box::new(done(
            dep,
            End::rejected(format!(
                "the newest image {label} (pushed {pushed_s}) {how} on this function: a sweep never retries it, only a new push or a manual deploy brings it back"
            )),
        )));
    }
    Ok(dep)
}

/// The newest matching image, and how the report names it.
struct Newest<'a> {
    image: &'a RepoImage,
    label: &'a str,
    pushed_s: &'a str,
}

/// Step 1: a rollout in progress (its own checks' business while one is coming), or a stalled one.
async fn rollout(
    sw: &Sweep<'_, '_>,
    mut dep: Deployment,
    function: &FunctionRef,
    target: &Target,
    a: &AliasState,
) -> Result<Deployment, Box<Finding>> {
    let pending = crate::rollout::pending_check(&sw.deps.ctx, function, &target.alias).await;
    if a.has_routing() && matches!(pending, Ok(None)) {
        return Err(Box::new(
            super::stalled::stalled(sw, dep, function, target, a).await,
        ));
    }
    let pending = pending.ok().flatten();
    if a.has_routing() || pending.is_some() {
        // Told by the run that started it; every sweep after that only looks.
        dep.notified_before = true;
        let at = pending
            .map(|t| format!(", next check at {t}"))
            .unwrap_or_default();
        return Err(Box::new(done(
            dep,
            End::rolling_out(format!(
                "a rollout is in progress on alias {} ({}){at}: left alone",
                target.alias,
                a.describe()
            )),
        )));
    }
    Ok(dep)
}

/// Step 3: the alias runs the newest image (or one chosen from it), or one pushed no earlier.
fn runs_newest(
    dep: Deployment,
    target: &Target,
    a: &AliasState,
    live: &crate::gateway::FunctionState,
    newest: &Newest<'_>,
) -> Result<Deployment, Box<Finding>> {
    let (image, label, pushed_s) = (newest.image, newest.label, newest.pushed_s);
    // An index runs as the image chosen from it, which the version record names it with.
    let from_index = VersionRecord::parse(&live.description)
        .and_then(|r| r.index)
        .is_some_and(|ix| ix == image.digest);
    if live.runs(&image.digest) || from_index {
        return Err(Box::new(done(
            dep,
            End::in_sync(format!(
                "alias {} ({}) runs the newest image {label}",
                target.alias,
                a.describe()
            )),
        )));
    }
    let record = VersionRecord::parse(&live.description);
    if let (Some(ours), Some(newest)) = (record.and_then(|r| r.pushed), image.pushed)
        && ours >= newest
    {
        return Err(Box::new(done(
            dep,
            End::in_sync(format!(
                "alias {} runs an image pushed at {}, not older than the newest matching image {label} ({pushed_s})",
                target.alias,
                time(ours)
            )),
        )));
    }
    Ok(dep)
}

/// Step 4: whether the alias's last move was a rollback away from this image (or the index it
/// was chosen from).
async fn rolled_back(sw: &Sweep<'_, '_>, f: &str, alias: &AliasState, image: &RepoImage) -> bool {
    let ctx = &sw.deps.ctx;
    match alias.record() {
        Some(r) if r.kind == MoveKind::Rollback => match r.from.filter(|v| *v != r.to) {
            Some(from) => ctx
                .lambda
                .get_function(f, Some(&from.to_string()))
                .await
                .ok()
                // The image it ran, or the index that image was chosen from.
                .is_some_and(|s| {
                    s.digest().is_some_and(|d| d == image.digest)
                        || VersionRecord::parse(&s.description)
                            .and_then(|r| r.index)
                            .is_some_and(|ix| ix == image.digest)
                }),
            None => false,
        },
        _ => false,
    }
}

/// Step 5: a push whose event never came (or was not acted on): deploy it, from this deployer's
/// registry rules.
fn missed(
    sw: &Sweep<'_, '_>,
    dep: Deployment,
    target: &Target,
    image: &RepoImage,
    tag: Option<Tag>,
    on: Option<crate::types::Version>,
) -> Finding {
    let pushed = image.pushed;
    let Some(home) = sw.deps.home else {
        return failed(
            dep,
            "this deployer's own account and region are unknown (see the log)",
        );
    };
    let account = image
        .registry
        .clone()
        .or_else(|| target.registry_account.clone())
        .unwrap_or_else(|| home.account.clone());
    if let Some(why) = home.refuses(target, &account, &home.region) {
        return failed(dep, why);
    }
    Finding::Missed {
        image: ImageRef {
            account,
            region: home.region.clone(),
            repository: target.repository.clone(),
            digest: image.digest.clone(),
            tag,
            manifest: image.manifest,
        },
        pushed,
        live: on,
    }
}

/// Why the alias is not where our record says we put it, if it is not. A sweep moves an alias only
/// when it is exactly where the deployer's own record says the deployer put it: a description
/// someone else wrote (runbooks write their own: `--description "emergency rollback INC-42"`) is a
/// person's move, and so is a split cleared by hand under our rollout record. An empty
/// description is a function this deployer never moved: its first deployment is a push's job.
fn drifted(a: &AliasState) -> Option<String> {
    let Some(r) = a.record() else {
        if a.description.trim().is_empty() {
            return None;
        }
        return Some(format!(
            "alias serves {}, and its description is not this deployer's record ({:?}): someone moved it by hand; a sweep never fights a person",
            a.describe(),
            crate::text::truncate(&a.description, 80)
        ));
    };
    if r.kind == MoveKind::Rollout && !a.has_routing() {
        return Some(format!(
            "alias serves {}, but this deployer last set a rollout weight on it ({} at {}, run {}): someone ended the rollout by hand; a sweep never fights a person",
            a.describe(),
            r.kind.as_str(),
            time(r.moved),
            r.run
        ));
    }
    if a.target == AliasTarget::Version(r.to) {
        return None;
    }
    Some(format!(
        "alias serves {}, but this deployer last put it on version {} ({} at {}, run {}): someone moved it by hand; a sweep never fights a person",
        a.describe(),
        r.to,
        r.kind.as_str(),
        time(r.moved),
        r.run
    ))
}

async fn drift(sw: &Sweep<'_, '_>, mut dep: Deployment, a: &AliasState, why: String) -> Finding {
    let lambda = &sw.deps.ctx.lambda;
    let revision = a.revision_id.as_str();
    match Marks::read(lambda, dep.function.as_str()).await {
        Ok(m) if m.drift_notified() == Some(revision) => dep.notified_before = true,
        Ok(m) if sw.writes => {
            if let Err(e) = marks::note_drift(lambda, &m.arn, revision).await {
                dep.warnings.push(format!(
                    "the drift could not be remembered ({e}): it will be notified again"
                ));
            }
        }
        Ok(_) => {}
        Err(e) => dep.warnings.push(format!(
            "the function's tags could not be read ({e}): the drift is notified again"
        )),
    }
    done(dep, End::drift(why))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::types::Digest;
    use chrono::TimeZone;

    fn target(json: &str) -> Target {
        Config::from_lookup(|k| (k == "DEPLOYER_TARGETS").then(|| json.to_owned()))
            .unwrap()
            .targets
            .remove(0)
    }

    fn image(c: char, tags: &[&str], minute: u32) -> RepoImage {
        RepoImage {
            digest: Digest::parse(&format!("sha256:{}", c.to_string().repeat(64))).unwrap(),
            tags: tags.iter().map(|t| Tag::parse(t).unwrap()).collect(),
            pushed: Some(Utc.with_ymd_and_hms(2026, 12, 1, 10, minute, 0).unwrap()),
            registry: None,
            manifest: Default::default(),
        }
    }

    #[test]
    fn the_newest_matching_image_wins_and_untagged_ones_only_when_allowed() {
        let images = [
            image('a', &["v1"], 0),
            image('b', &["dev-7", "v2"], 10),
            image('c', &["dev-8"], 20),
            image('d', &[], 30),
        ];
        let t = target(r#"[{"repository": "api", "functions": ["f"], "tags": ["v*"]}]"#);
        let (i, tag) = newest(&t, &images).unwrap();
        assert_eq!(
            (i.digest.hex().chars().next(), tag.unwrap().as_str()),
            (Some('b'), "v2")
        );

        let t = target(r#"[{"repository": "api", "functions": ["f"], "allow_untagged": true}]"#);
        let (i, tag) = newest(&t, &images).unwrap();
        assert_eq!((i.digest.hex().chars().next(), tag), (Some('d'), None));

        let t = target(r#"[{"repository": "api", "functions": ["f"], "tags": ["prod-*"]}]"#);
        assert!(newest(&t, &images).is_none());
        // An image ECR gives no push time is never "newest".
        let mut undated = image('e', &["v9"], 59);
        undated.pushed = None;
        let t = target(r#"[{"repository": "api", "functions": ["f"]}]"#);
        let two = [images[0].clone(), undated];
        let (i, _) = newest(&t, &two).unwrap();
        assert_eq!(i.digest.hex().chars().next(), Some('a'));
    }
}
