//! The email (and default) body: plain text for people.

use super::*;
use crate::notify::escape::{strip_controls, truncate};
use crate::report::{Deployment, Outcome, Report, step_name};

pub fn text(report: &Report, d: Option<&Deployment>, settings: &RenderSettings) -> String {
    let mut t = String::new();
    line(&mut t, &subject(report, d));
    line(&mut t, "");
    line(&mut t, &strip_controls(&headline(report, d)));
    line(&mut t, "");
    if let Some(d) = d {
        field(&mut t, "Function:", d.function.as_str());
        field(&mut t, "Alias:", &alias_line(d));
        field(&mut t, "Outcome:", d.outcome.as_str());
    }
    run_fields(&mut t, report);
    if let Some(d) = d {
        deployment_details(&mut t, d);
    }
    for (what, cmds) in next_steps(report, d, settings) {
        line(&mut t, "");
        line(&mut t, &what);
        for c in cmds {
            line(&mut t, &format!("  {c}"));
        }
    }
    line(&mut t, "");
    line(&mut t, "-- self-deployer");
    t
}

fn line(t: &mut String, s: &str) {
    t.push_str(s);
    t.push('\n');
}

fn field(t: &mut String, k: &str, v: &str) {
    line(t, &format!("{k:<14}{v}"));
}

/// Where the alias is, and whether this run moved it.
fn alias_line(d: &Deployment) -> String {
    if d.version.is_none() && d.previous_version.is_none() {
        format!("{}: unchanged", d.alias)
    } else if matches!(
        d.outcome,
        Outcome::WouldDeploy | Outcome::WouldRollBack | Outcome::WouldDispatch
    ) {
        format!(
            "{}: version {} (unchanged: dry run)",
            d.alias,
            v(d.previous_version)
        )
    } else if d.version == d.previous_version {
        format!("{}: version {} (unchanged)", d.alias, v(d.version))
    } else {
        format!(
            "{}: version {} (was {})",
            d.alias,
            v(d.version),
            v(d.previous_version)
        )
    }
}

/// What the run was about: the image, when it was pushed, who asked and why.
fn run_fields(t: &mut String, report: &Report) {
    let fields = [
        ("Repository:", report.repository.as_deref()),
        ("Tag:", report.image_tag.as_deref()),
        ("Digest:", report.image_digest.as_deref()),
        ("Image:", report.image_uri.as_deref()),
        ("Pushed:", report.event_time.as_deref()),
    ];
    for (k, value) in fields {
        if let Some(value) = value {
            field(t, k, value);
        }
    }
    if report.dry_run {
        field(t, "Dry run:", "yes, nothing was changed");
    }
    if let Some(why) = &report.request_reason {
        field(
            t,
            "Requested:",
            &truncate(&strip_controls(why.as_str()), MAX_REASON),
        );
    }
}

/// One function's story: the failure or detail, the smoke test, the image checks, warnings,
/// pruning and the steps' timings.
fn deployment_details(t: &mut String, d: &Deployment) {
    if let Some(step) = d.failed_step {
        line(t, "");
        field(t, "Failed step:", &step_name(step));
        field(
            t,
            "Reason:",
            &truncate(
                &strip_controls(d.reason.as_deref().unwrap_or("")),
                MAX_REASON,
            ),
        );
        if let Some(r) = &d.latest_restore {
            let what = if r.restored {
                "restored"
            } else {
                "NOT restored"
            };
            field(
                t,
                "$LATEST:",
                &format!("{what}: {}", strip_controls(&r.detail)),
            );
        }
    } else if let Some(reason) = d
        .reason
        .as_deref()
        .filter(|_| d.outcome != Outcome::Deployed)
    {
        field(t, "Detail:", &truncate(&strip_controls(reason), MAX_REASON));
    }
    if let Some(ix) = &d.index {
        // An image index: which of its images this function runs.
        let short = crate::text::short_digest;
        let what = format!(
            "{} ({}) from index {}",
            short(&ix.image_digest),
            ix.platform,
            short(&ix.index_digest)
        );
        field(t, "Image:", &strip_controls(&what));
    }
    if let Some(p) = &d.after_move.provisioned {
        let pc = format!(
            "{} ({} of {} allocated)",
            p.status, p.allocated, p.requested
        );
        field(t, "Provisioned:", &strip_controls(&pc));
    }
    if let Some(s) = &d.smoke_test {
        smoke_test(t, s);
    }
    if let Some(c) = &d.image_checks {
        image_checks(t, c);
    }
    for w in &d.warnings {
        field(t, "Warning:", &truncate(&strip_controls(w), MAX_REASON));
    }
    if !d.pruned_versions.is_empty() {
        let list: Vec<String> = d.pruned_versions.iter().map(|v| v.to_string()).collect();
        field(t, "Pruned:", &format!("versions {}", list.join(", ")));
    }
    if !d.steps.is_empty() {
        line(t, "");
        line(t, "Steps:");
        for s in &d.steps {
            line(t, &format!("  {:<16}{:>8} ms", step_name(s.step), s.ms));
        }
    }
}

fn smoke_test(t: &mut String, s: &crate::report::SmokeResult) {
    let status = s
        .status_code
        .map(|c| format!("statusCode {c}"))
        .unwrap_or_else(|| "no statusCode".into());
    let verdict = if s.passed { "passed" } else { "FAILED" };
    field(t, "Smoke test:", &format!("{verdict} ({status})"));
    if let Some(e) = &s.invoke_error {
        field(
            t,
            "Invoke error:",
            &truncate(&strip_controls(e), MAX_REASON),
        );
    }
    if let Some(p) = &s.payload_excerpt {
        line(t, "");
        line(t, "Smoke test answer:");
        indent(t, &truncate(&strip_controls(p), MAX_EXCERPT));
    }
    if let Some(l) = &s.log_tail {
        line(t, "");
        line(t, "Log tail:");
        indent(t, &truncate(&strip_controls(l), MAX_LOG_TAIL));
    }
}

fn indent(t: &mut String, block: &str) {
    for l in block.lines() {
        t.push_str("  ");
        t.push_str(l);
        t.push('\n');
    }
}

/// The image checks: verdict, scan, signature, and the most severe findings (bounded).
fn image_checks(t: &mut String, c: &crate::report::ImageChecksResult) {
    use crate::notify::escape::truncate;
    t.push('\n');
    t.push_str(&format!(
        "{:<14}{}\n",
        "Image checks:",
        image_checks_line(c)
    ));
    if let Some(s) = &c.signature {
        let reason = s
            .failure_reason
            .as_deref()
            .map(|r| format!(": {}", truncate(&strip_controls(r), MAX_REASON)))
            .unwrap_or_default();
        t.push_str(&format!(
            "{:<14}{} for {}{reason}\n",
            "Signature:",
            s.status,
            strip_controls(&s.signing_profile_arn)
        ));
    }
    if c.findings.is_empty() {
        return;
    }
    let total: u64 = c.counts.iter().map(|(_, n)| u64::from(n)).sum();
    let shown: Vec<_> = c.findings.iter().take(MAX_FINDINGS).collect();
    t.push_str(&format!(
        "Top findings ({} of {}):\n",
        shown.len(),
        total.max(shown.len() as u64)
    ));
    for f in shown {
        let field = |s: &str| truncate(&strip_controls(s).replace('\n', " "), MAX_FINDING_FIELD);
        let package = f.package.as_deref().map(field).unwrap_or_default();
        t.push_str(
            format!(
                "  {:<14} {:<20} {package}",
                field(&f.severity),
                field(&f.name)
            )
            .trim_end(),
        );
        t.push('\n');
    }
}
