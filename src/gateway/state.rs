//! What Lambda says about a function, a version or an alias, reduced to what the engine decides on.

use crate::record::AliasRecord;
use crate::types::{AliasTarget, Architecture, Digest, RevisionId, Version};
use aws_sdk_lambda::operation::get_alias::GetAliasOutput;
use aws_sdk_lambda::operation::get_function::GetFunctionOutput;
use aws_sdk_lambda::types::{LastUpdateStatus, PackageType, State};

/// An alias as found: where it points, its canary split, its lock token, and what we last wrote
/// into its description when we moved it.
#[derive(Debug, Clone, PartialEq)]
pub struct AliasState {
    pub revision_id: RevisionId,
    pub target: AliasTarget,
    /// `AdditionalVersionWeights`: at most one other published version and its share of traffic.
    pub routing: Vec<(Version, f64)>,
    pub description: String,
    /// Lambda is still moving traffic off this version after our move (it shows the old version
    /// with weight 1 for a while): left out of `routing`, since it is no split anyone set.
    pub transition: Option<Version>,
}

impl AliasState {
    /// Reads a GetAlias response; a target that is not a version or `$LATEST`, or a missing
    /// RevisionId (which the move's guard needs), is an error.
    pub fn from_output(out: &GetAliasOutput, alias: &str) -> Result<Self, String> {
        let raw = out.function_version().unwrap_or_default();
        let target = AliasTarget::parse(raw)
            .ok_or_else(|| format!("alias {alias} points to {raw:?}, which is not a version"))?;
        let revision_id = out
            .revision_id()
            .filter(|r| !r.is_empty())
            .map(RevisionId::new)
            .ok_or("GetAlias returned no RevisionId")?;
        let mut routing = weights(out.routing_config());
        let description = out.description().unwrap_or_default().to_owned();
        let transition = lambda_transition(&target, &routing, &description);
        if transition.is_some() {
            routing.clear();
        }
        Ok(Self {
            revision_id,
            target,
            routing,
            description,
            transition,
        })
    }

    pub fn has_routing(&self) -> bool {
        !self.routing.is_empty()
    }

    /// On `version` with exactly this split (weights compared to a millionth).
    pub fn is_exactly(&self, version: Version, routing: &[(Version, f64)]) -> bool {
        self.target == AliasTarget::Version(version)
            && self.routing.len() == routing.len()
            && self
                .routing
                .iter()
                .zip(routing)
                .all(|((v, w), (rv, rw))| v == rv && (w - rw).abs() < 1e-6)
    }

    /// The canary: the other version and its weight, when a split is set.
    pub fn canary(&self) -> Option<(Version, f64)> {
        self.routing.first().copied()
    }

    pub fn record(&self) -> Option<AliasRecord> {
        AliasRecord::parse(&self.description)
    }

    /// `2`, or `2 + 50% 3` while a split is set: how people read an alias.
    pub fn describe(&self) -> String {
        let mut s = self.target.to_string();
        for (v, w) in &self.routing {
            s.push_str(&format!(" + {}% {v}", (w * 100.0).round()));
        }
        s
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FunctionState {
    /// Always present in AWS; some emulators omit it, and then only CodeSha256 guards a publish.
    pub revision_id: Option<RevisionId>,
    pub code_sha256: String,
    /// The image pinned by digest: `{repository}@{digest}`.
    pub image_uri: Option<String>,
    pub package_type: Option<PackageType>,
    pub state: Option<State>,
    pub state_reason: Option<String>,
    /// `StateReasonCode` (`ImageDeleted`, `ImageAccessDenied`, …).
    pub state_reason_code: Option<String>,
    pub last_update_status: Option<LastUpdateStatus>,
    pub last_update_reason: Option<String>,
    pub description: String,
    /// `Architectures` (Lambda has one per function; x86_64 when it does not say, its default).
    pub architecture: Architecture,
}

impl FunctionState {
    /// Reads a GetFunction response; one without CodeSha256 (what the publish guard needs) is an
    /// error, never a default.
    pub fn from_output(out: &GetFunctionOutput) -> Result<Self, String> {
        let c = out
            .configuration()
            .ok_or("GetFunction returned no Configuration")?;
        let revision_id = c
            .revision_id()
            .filter(|r| !r.is_empty())
            .map(RevisionId::new);
        if revision_id.is_none() {
            tracing::warn!("GetFunction returned no RevisionId: calls are sent without that guard");
        }
        let code_sha256 = c
            .code_sha256()
            .filter(|s| !s.is_empty())
            .ok_or("GetFunction returned no CodeSha256")?;
        let image_uri = out
            .code()
            .and_then(|c| pinned_image_uri(c.image_uri(), c.resolved_image_uri()));
        Ok(Self {
            revision_id,
            code_sha256: code_sha256.to_owned(),
            image_uri,
            package_type: c.package_type().cloned(),
            state: c.state().cloned(),
            state_reason: c.state_reason().map(str::to_owned),
            state_reason_code: c.state_reason_code().map(|r| r.as_str().to_owned()),
            last_update_status: c.last_update_status().cloned(),
            last_update_reason: c.last_update_status_reason().map(str::to_owned),
            description: c.description().unwrap_or_default().to_owned(),
            architecture: c
                .architectures()
                .first()
                .and_then(|a| Architecture::parse(a.as_str()))
                .unwrap_or(Architecture::X86_64),
        })
    }

    /// Lambda is still applying a change: an update in progress, or a function/version being created.
    pub fn is_settling(&self) -> bool {
        matches!(self.last_update_status, Some(LastUpdateStatus::InProgress))
            || matches!(self.state, Some(State::Pending))
    }

    /// Lambda's own word that this version's image is gone from ECR (a lifecycle rule deleted it):
    /// it cannot start again. The sentence for a refusal.
    pub fn image_deleted(&self) -> Option<String> {
        (self.state_reason_code.as_deref() == Some("ImageDeleted")).then(|| {
            format!(
                "Lambda reports its image deleted (State {}, StateReasonCode ImageDeleted: {})",
                self.state.as_ref().map_or("unknown", |s| s.as_str()),
                self.state_reason.as_deref().unwrap_or("no reason given")
            )
        })
    }

    /// `Inactive`: unused for long, Lambda reclaimed its resources; it cannot run until an update
    /// (or an invocation) reactivates it.
    pub fn is_inactive(&self) -> bool {
        matches!(self.state, Some(State::Inactive))
    }

    /// Does this code run `digest`? By the resolved image URI when Lambda reports one, else by
    /// CodeSha256, which for an image function is the manifest digest.
    pub fn runs(&self, digest: &Digest) -> bool {
        match self.image_uri.as_deref().and_then(Digest::from_image_uri) {
            Some(d) => &d == digest,
            None => digest.matches_code_sha256(&self.code_sha256),
        }
    }

    /// The digest this code runs, if it can be told.
    pub fn digest(&self) -> Option<Digest> {
        self.image_uri
            .as_deref()
            .and_then(Digest::from_image_uri)
            .or_else(|| Digest::from_code_sha256(&self.code_sha256))
    }

    pub fn is_image(&self) -> bool {
        matches!(self.package_type, Some(PackageType::Image) | None)
    }

    /// The reason an update ended as it did, for the report.
    pub fn update_failure(&self) -> Option<String> {
        if matches!(self.last_update_status, Some(LastUpdateStatus::Failed)) {
            return Some(format!(
                "LastUpdateStatus is Failed: {}",
                self.last_update_reason
                    .as_deref()
                    .unwrap_or("Lambda gave no reason")
            ));
        }
        if matches!(self.state, Some(State::Failed)) {
            return Some(format!(
                "State is Failed: {}",
                self.state_reason
                    .as_deref()
                    .unwrap_or("Lambda gave no reason")
            ));
        }
        None
    }
}

/// `{repository}@{digest}` from what GetFunction reports: the repository from `ImageUri` (which may
/// carry a tag), the digest from `ResolvedImageUri` (or from `ImageUri` if that is already pinned).
/// Rebuilt rather than copied so that a tag or a malformed resolved URI (moto writes
/// `repo@sha256@sha256:…`) never reaches UpdateFunctionCode.
pub fn pinned_image_uri(image_uri: Option<&str>, resolved: Option<&str>) -> Option<String> {
    let digest = resolved
        .and_then(Digest::from_image_uri)
        .or_else(|| image_uri.and_then(Digest::from_image_uri))?;
    let source = image_uri.or(resolved)?;
    let without_digest = source.split('@').next().unwrap_or(source);
    // A tag follows the last ':' after the last '/' (a ':' before it is a registry port).
    let slash = without_digest.rfind('/').unwrap_or(0);
    let repository = match without_digest[slash..].find(':') {
        Some(i) => &without_digest[..slash + i],
        None => without_digest,
    };
    Some(format!("{repository}@{digest}"))
}

/// Lambda's own transition after an alias move: the alias on the new version with the old one at
/// weight 1 (hashicorp/terraform-provider-aws#48116), recognised only when our own record says we
/// moved it from exactly that old version to this one. A split anyone set (any other version or
/// weight, or an alias whose record does not describe this move) is a split.
pub fn lambda_transition(
    target: &AliasTarget,
    routing: &[(Version, f64)],
    description: &str,
) -> Option<Version> {
    let [(old, weight)] = routing else {
        return None;
    };
    let record = AliasRecord::parse(description)?;
    let ours = target.version() == Some(record.to) && record.from == Some(*old);
    (ours && (weight - 1.0).abs() < 1e-9).then_some(*old)
}

/// An alias's canary split, as GetAlias and ListAliases both carry it: (version, weight), sorted.
pub(super) fn weights(
    routing: Option<&aws_sdk_lambda::types::AliasRoutingConfiguration>,
) -> Vec<(Version, f64)> {
    let mut out: Vec<(Version, f64)> = routing
        .and_then(|r| r.additional_version_weights())
        .map(|w| {
            w.iter()
                .filter_map(|(k, v)| Version::parse(k).map(|k| (k, *v)))
                .collect()
        })
        .unwrap_or_default();
    out.sort_by_key(|(v, _)| *v);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambdas_transition_is_told_from_a_split_by_our_own_record() {
        let v = |n| Version::new(n).unwrap();
        let on42 = AliasTarget::Version(v(42));
        let ours = "self-deployer moved=2026-11-26T07:03:12Z kind=deploy to=42 from=41 run=r1";
        // Weight 1.0 parses, and names the version we moved from: Lambda's transition.
        assert_eq!(lambda_transition(&on42, &[(v(41), 1.0)], ours), Some(v(41)));
        // Any other weight, version, or record is somebody's split.
        assert_eq!(lambda_transition(&on42, &[(v(41), 0.3)], ours), None);
        assert_eq!(lambda_transition(&on42, &[(v(40), 1.0)], ours), None);
        assert_eq!(
            lambda_transition(&on42, &[(v(41), 1.0)], "a person's alias"),
            None
        );
        let theirs = "self-deployer moved=2026-11-26T07:03:12Z kind=deploy to=41 from=40 run=r1";
        assert_eq!(lambda_transition(&on42, &[(v(41), 1.0)], theirs), None);
        assert_eq!(lambda_transition(&on42, &[], ours), None);
    }

    const D: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    #[test]
    fn image_uris_are_rebuilt_pinned_by_digest() {
        let repo = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/api";
        let pinned = format!("{repo}@{D}");
        // AWS: configured by tag, resolved by digest.
        assert_eq!(
            pinned_image_uri(Some(&format!("{repo}:v1")), Some(&pinned)),
            Some(pinned.clone())
        );
        // Configured by digest.
        assert_eq!(pinned_image_uri(Some(&pinned), None), Some(pinned.clone()));
        // moto's malformed resolved URI.
        assert_eq!(
            pinned_image_uri(Some(&pinned), Some(&format!("{repo}@sha256@{D}"))),
            Some(pinned.clone())
        );
        // A registry with a port is not a tag.
        assert_eq!(
            pinned_image_uri(
                Some("localhost:5000/api:v1"),
                Some(&format!("localhost:5000/api@{D}"))
            ),
            Some(format!("localhost:5000/api@{D}"))
        );
        // No digest anywhere: cannot pin.
        assert_eq!(pinned_image_uri(Some(&format!("{repo}:v1")), None), None);
    }
}
