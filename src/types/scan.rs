//! What ECR says about an image's contents and origin: finding severities and signing profiles.

use super::checked_string;
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// A finding severity as ECR names it (basic and enhanced scanning alike), most severe first: the
/// derived order is the order people read them in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
    Informational,
    Undefined,
}

impl Severity {
    pub const ALL: [Severity; 6] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Informational,
        Severity::Undefined,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "CRITICAL",
            Severity::High => "HIGH",
            Severity::Medium => "MEDIUM",
            Severity::Low => "LOW",
            Severity::Informational => "INFORMATIONAL",
            Severity::Undefined => "UNDEFINED",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "{s:?} is not a finding severity: use CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL or UNDEFINED"
                )
            })
    }

    /// Where a severity name ECR reports sorts: known ones by severity, anything else (Inspector's
    /// `UNTRIAGED`, a future name) after them.
    pub fn rank(name: &str) -> usize {
        Self::ALL
            .iter()
            .position(|v| v.as_str() == name)
            .unwrap_or(Self::ALL.len())
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Severity {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Severity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

checked_string!(
    /// An AWS Signer signing profile ARN, `arn:PARTITION:signer:REGION:ACCOUNT:/signing-profiles/NAME`,
    /// as ECR managed signing names it.
    SigningProfileArn,
    check_signing_profile_arn
);

impl SigningProfileArn {
    /// Does the ARN ECR reports name this profile? A profile version ARN
    /// (`…/signing-profiles/NAME/VERSION`) is the same profile.
    pub fn matches(&self, reported: &str) -> bool {
        reported == self.0
            || reported
                .strip_prefix(self.0.as_str())
                .is_some_and(|rest| rest.starts_with('/') && !rest[1..].contains('/'))
    }
}

fn check_signing_profile_arn(s: &str) -> Result<(), String> {
    let bad = || {
        format!(
            "{s:?} is not a signing profile ARN (arn:aws:signer:REGION:ACCOUNT:/signing-profiles/NAME)"
        )
    };
    let arn: super::Arn = s.parse().map_err(|_| bad())?;
    if arn.service() != "signer" || arn.region().is_empty() {
        return Err(bad());
    }
    let name = arn
        .resource()
        .strip_prefix("/signing-profiles/")
        .ok_or_else(bad)?;
    let name_ok = (2..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !name_ok || s.len() > 2048 {
        return Err(bad());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_parse_exactly_and_sort_most_severe_first() {
        assert_eq!("CRITICAL".parse::<Severity>(), Ok(Severity::Critical));
        assert_eq!(
            "critical".parse::<Severity>().unwrap_err(),
            "\"critical\" is not a finding severity: use CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL or UNDEFINED"
        );
        assert!(Severity::Critical < Severity::High && Severity::Low < Severity::Undefined);
        assert_eq!(Severity::rank("HIGH"), 1);
        assert_eq!(Severity::rank("UNTRIAGED"), 6);
        let s: Severity = serde_json::from_str("\"MEDIUM\"").unwrap();
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"MEDIUM\"");
    }

    #[test]
    fn signing_profile_arns_check_themselves_and_match_their_versions() {
        let arn: SigningProfileArn = "arn:aws:signer:eu-west-1:123456789012:/signing-profiles/prod"
            .parse()
            .unwrap();
        assert!(arn.matches("arn:aws:signer:eu-west-1:123456789012:/signing-profiles/prod"));
        assert!(arn.matches("arn:aws:signer:eu-west-1:123456789012:/signing-profiles/prod/Ab12Cd"));
        assert!(!arn.matches("arn:aws:signer:eu-west-1:123456789012:/signing-profiles/prod2"));
        assert!(!arn.matches("arn:aws:signer:eu-west-1:123456789012:/signing-profiles/prod/a/b"));
        for bad in [
            "prod",
            "arn:aws:signer:eu-west-1:123456789012:signing-profiles/prod",
            "arn:aws:kms:eu-west-1:123456789012:/signing-profiles/prod",
            "arn:aws:signer:eu-west-1:1234:/signing-profiles/prod",
            "arn:aws:signer:eu-west-1:123456789012:/signing-profiles/p-d",
        ] {
            assert!(
                SigningProfileArn::parse(bad)
                    .unwrap_err()
                    .contains("is not a signing profile ARN"),
                "{bad}"
            );
        }
    }
}
