//! Small domain types. Each one is validated once, where it enters the program, so the rest of the
//! engine cannot mix up a version with a revision id or deploy a tag instead of a digest.

use serde::{Serialize, Serializer};
use std::fmt;

/// A published, immutable Lambda version number. `$LATEST` is deliberately not representable:
/// the alias must only ever point at a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(u64);

impl Version {
    pub fn new(n: u64) -> Option<Self> {
        (n >= 1).then_some(Self(n))
    }

    /// Parses Lambda's string form ("12"). `$LATEST`, "0", signs and junk are `None`.
    pub fn parse(s: &str) -> Option<Self> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || s.len() > 19 {
            return None;
        }
        s.parse::<u64>().ok().and_then(Self::new)
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Versions are strings in every Lambda API response and CLI flag; the report follows that
/// convention so a version can be pasted into `aws lambda update-alias --function-version`.
impl Serialize for Version {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What an alias points at, as Lambda reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AliasTarget {
    /// The alias follows the mutable `$LATEST` (how the seed's Terraform creates it at first).
    Latest,
    Version(Version),
}

impl AliasTarget {
    pub fn parse(s: &str) -> Option<Self> {
        if s == "$LATEST" {
            Some(Self::Latest)
        } else {
            Version::parse(s).map(Self::Version)
        }
    }
}

/// An image digest, `sha256:` followed by 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Digest(String);

impl Digest {
    pub fn parse(s: &str) -> Result<Self, String> {
        let hex = s
            .strip_prefix("sha256:")
            .ok_or_else(|| format!("{s:?} is not a digest: it must start with \"sha256:\""))?;
        if hex.len() != 64 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(format!(
                "{s:?} is not a digest: \"sha256:\" must be followed by 64 lowercase hex digits"
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// Lambda reports an image function's `CodeSha256` as the bare hex of the manifest digest.
    pub fn hex(&self) -> &str {
        &self.0["sha256:".len()..]
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Does Lambda's `CodeSha256` (bare hex, or prefixed as some emulators report it) name this digest?
    pub fn matches_code_sha256(&self, code_sha256: &str) -> bool {
        let bare = code_sha256.strip_prefix("sha256:").unwrap_or(code_sha256);
        bare == self.hex()
    }

    /// The digest an image URI is pinned to (`...@sha256:...`), if it is pinned at all.
    pub fn from_image_uri(uri: &str) -> Option<Self> {
        uri.rsplit_once('@').and_then(|(_, d)| Self::parse(d).ok())
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// A container image in ECR, always addressed by digest when deployed: tags move, digests don't.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub account: String,
    pub region: String,
    pub repository: String,
    pub digest: Digest,
    pub tag: Option<String>,
}

impl ImageRef {
    /// `{account}.dkr.ecr.{region}.amazonaws.com/{repository}@{digest}` (`.com.cn` in China).
    pub fn uri(&self) -> String {
        let suffix = if self.region.starts_with("cn-") {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        };
        format!(
            "{}.dkr.ecr.{}.{}/{}@{}",
            self.account, self.region, suffix, self.repository, self.digest
        )
    }

    /// A short label for people: the tag if there is one, else the digest's first 12 hex digits.
    pub fn label(&self) -> String {
        match &self.tag {
            Some(t) => t.clone(),
            None => format!("sha256:{}", &self.digest.hex()[..12]),
        }
    }
}

/// The function as configured: a name (`api-dev`) or an unqualified ARN. The API accepts both; the
/// short name is what people and allow-lists compare.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FunctionRef(String);

impl FunctionRef {
    pub fn parse(s: &str) -> Result<Self, String> {
        if let Some(rest) = s.strip_prefix("arn:") {
            // arn:{partition}:lambda:{region}:{account}:function:{name}
            let parts: Vec<&str> = rest.split(':').collect();
            match parts.as_slice() {
                [partition, "lambda", region, account, "function", name]
                    if !partition.is_empty() && !region.is_empty() && is_account(account) =>
                {
                    check_function_name(name).map(|()| Self(s.to_owned()))
                }
                [_, "lambda", _, _, "function", _, _] => Err(format!(
                    "{s:?} is a qualified ARN: name the function, the deployer chooses the version"
                )),
                _ => Err(format!(
                    "{s:?} is not a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)"
                )),
            }
        } else {
            check_function_name(s).map(|()| Self(s.to_owned()))
        }
    }

    /// What the Lambda API gets: exactly what the user configured.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The bare function name, also for ARNs.
    pub fn name(&self) -> &str {
        self.0.rsplit(':').next().unwrap_or(&self.0)
    }
}

impl fmt::Display for FunctionRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for FunctionRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

fn check_function_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 64 {
        return Err(format!(
            "{name:?} is not a function name: it must be 1 to 64 characters"
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(format!(
            "{name:?} is not a function name: only letters, digits, '-' and '_' are allowed"
        ));
    }
    Ok(())
}

pub fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// An alias name as Lambda accepts it, excluding names that look like versions.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AliasName(String);

impl AliasName {
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.is_empty() || s.len() > 128 {
            return Err(format!(
                "{s:?} is not an alias name: it must be 1 to 128 characters"
            ));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(format!(
                "{s:?} is not an alias name: only letters, digits, '-' and '_' are allowed"
            ));
        }
        if s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "{s:?} is not an alias name: Lambda rejects all-digit alias names"
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AliasName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for AliasName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn versions_are_positive_numbers_only() {
        assert_eq!(Version::parse("12").map(Version::get), Some(12));
        for bad in [
            "",
            "0",
            "$LATEST",
            "-1",
            "+3",
            "1.5",
            " 7",
            "99999999999999999999",
        ] {
            assert_eq!(Version::parse(bad), None, "{bad:?}");
        }
        assert_eq!(AliasTarget::parse("$LATEST"), Some(AliasTarget::Latest));
        assert_eq!(
            serde_json::to_string(&Version::new(42).unwrap()).unwrap(),
            "\"42\""
        );
    }

    #[test]
    fn digests_are_validated_and_compared_with_code_sha256() {
        let d = Digest::parse(&format!("sha256:{HEX}")).unwrap();
        assert_eq!(d.hex(), HEX);
        assert!(d.matches_code_sha256(HEX));
        assert!(d.matches_code_sha256(&format!("sha256:{HEX}")));
        assert!(!d.matches_code_sha256(&HEX.replace('0', "1")));
        assert!(Digest::parse(HEX).unwrap_err().contains("must start with"));
        assert!(
            Digest::parse("sha256:ABC")
                .unwrap_err()
                .contains("64 lowercase hex")
        );
        assert_eq!(
            Digest::from_image_uri(&format!("1.dkr.ecr.x.amazonaws.com/r@sha256:{HEX}")),
            Some(d)
        );
        assert_eq!(
            Digest::from_image_uri("1.dkr.ecr.x.amazonaws.com/r:tag"),
            None
        );
    }

    #[test]
    fn image_uri_is_by_digest_and_knows_china() {
        let mut img = ImageRef {
            account: "123456789012".into(),
            region: "eu-west-1".into(),
            repository: "team/api".into(),
            digest: Digest::parse(&format!("sha256:{HEX}")).unwrap(),
            tag: Some("v1".into()),
        };
        assert_eq!(
            img.uri(),
            format!("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/api@sha256:{HEX}")
        );
        img.region = "cn-north-1".into();
        assert!(img.uri().contains(".amazonaws.com.cn/"));
        img.tag = None;
        assert_eq!(img.label(), "sha256:0123456789ab");
    }

    #[test]
    fn function_refs_accept_names_and_unqualified_arns() {
        assert_eq!(FunctionRef::parse("api-dev").unwrap().name(), "api-dev");
        let arn = FunctionRef::parse("arn:aws:lambda:eu-west-1:123456789012:function:api").unwrap();
        assert_eq!(arn.name(), "api");
        assert!(
            FunctionRef::parse("arn:aws:lambda:eu-west-1:123456789012:function:api:live")
                .unwrap_err()
                .contains("qualified")
        );
        assert!(
            FunctionRef::parse("arn:aws:s3:::bucket")
                .unwrap_err()
                .contains("not a Lambda")
        );
        assert!(FunctionRef::parse("").is_err());
        assert!(FunctionRef::parse("has space").is_err());
        assert!(FunctionRef::parse(&"x".repeat(65)).is_err());
    }

    #[test]
    fn alias_names_reject_versions_and_latest() {
        assert!(AliasName::parse("live").is_ok());
        assert!(AliasName::parse("42").unwrap_err().contains("all-digit"));
        assert!(AliasName::parse("$LATEST").is_err());
        assert!(AliasName::parse("").is_err());
    }
}

/// Lambda's optimistic-lock token for a function or alias. Passed back on every mutating call so
/// that a change made by someone else in between makes our call fail instead of overwriting it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionId(String);

impl RevisionId {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
