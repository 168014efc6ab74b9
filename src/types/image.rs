//! Container images: repositories, tags, digests, and an image pinned by digest.

use super::{Account, Region, checked_string};
use std::fmt;

checked_string!(
    /// An image digest, `sha256:` followed by 64 lowercase hex digits.
    Digest,
    check_digest
);

fn check_digest(s: &str) -> Result<(), String> {
    let hex = s
        .strip_prefix("sha256:")
        .ok_or_else(|| format!("{s:?} is not a digest: it must start with \"sha256:\""))?;
    if hex.len() != 64 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(format!(
            "{s:?} is not a digest: \"sha256:\" must be followed by 64 lowercase hex digits"
        ));
    }
    Ok(())
}

impl Digest {
    /// Lambda reports an image function's `CodeSha256` as the bare hex of the manifest digest.
    pub fn hex(&self) -> &str {
        &self.0["sha256:".len()..]
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

    /// From a bare or prefixed CodeSha256.
    pub fn from_code_sha256(sha: &str) -> Option<Self> {
        Self::parse(&format!("sha256:{}", sha.trim_start_matches("sha256:"))).ok()
    }

    /// `sha256:` and 12 hex digits, for people.
    pub fn short(&self) -> String {
        crate::text::short_digest(&self.0)
    }
}

checked_string!(
    /// An ECR repository name: 2-256 characters, lowercase components separated by `.`, `_`, `-`, `/`.
    Repository,
    check_repository
);

fn check_repository(name: &str) -> Result<(), String> {
    let ok_chars = name.bytes().all(|b| {
        b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-' | b'/')
    });
    let sep = |c: char| matches!(c, '.' | '_' | '-' | '/');
    if !(2..=256).contains(&name.len())
        || !ok_chars
        || name.starts_with(sep)
        || name.ends_with(sep)
        || name.contains("//")
    {
        return Err(format!(
            "{name:?} is not an ECR repository name (2-256 characters: lowercase letters, digits, '.', '_', '-', '/')"
        ));
    }
    Ok(())
}

checked_string!(
    /// An ECR image tag: 1-128 characters of letters, digits, `.`, `_`, `-`.
    Tag,
    check_tag
);

fn check_tag(tag: &str) -> Result<(), String> {
    if tag.is_empty() || tag.len() > 128 {
        return Err(format!(
            "{tag:?} is not an image tag: it must be 1 to 128 characters"
        ));
    }
    if !tag
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err(format!(
            "{tag:?} is not an image tag: only letters, digits, '.', '_' and '-' are allowed"
        ));
    }
    Ok(())
}

checked_string!(
    /// A tag glob: tag characters plus the wildcards `*` and `?`.
    TagPattern,
    check_tag_pattern
);

fn check_tag_pattern(p: &str) -> Result<(), String> {
    if p.is_empty() || p.len() > 128 {
        return Err(format!(
            "{p:?} is not a tag pattern: it must be 1 to 128 characters"
        ));
    }
    if !p
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'*' | b'?'))
    {
        return Err(format!(
            "{p:?} is not a tag pattern: only tag characters (letters, digits, '.', '_', '-') and the wildcards '*' and '?' are allowed"
        ));
    }
    Ok(())
}

impl TagPattern {
    pub fn matches(&self, tag: &Tag) -> bool {
        wildmatch::WildMatch::new(&self.0).matches(tag.as_str())
    }

    pub fn any() -> Self {
        Self("*".into())
    }
}

/// A container image in ECR, always addressed by digest when deployed: tags move, digests don't.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub account: Account,
    pub region: Region,
    pub repository: Repository,
    pub digest: Digest,
    pub tag: Option<Tag>,
    /// What ECR said the digest is, when it said (an event's or a listing's media type); an
    /// `Unknown` image is read with BatchGetImage before it is deployed.
    pub manifest: super::ManifestKind,
}

impl ImageRef {
    /// `{account}.dkr.ecr.{region}.amazonaws.com/{repository}@{digest}` (`.com.cn` in China).
    pub fn uri(&self) -> String {
        let suffix = if self.region.as_str().starts_with("cn-") {
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
            Some(t) => t.to_string(),
            None => self.digest.short(),
        }
    }
}

/// `{account}.dkr.ecr.{region}.amazonaws.com[.cn]/{repository}@sha256:{hex}`: an ECR image pinned by
/// digest (Lambda runs only ECR images; a tag could move between check and deploy).
impl std::str::FromStr for ImageRef {
    type Err = String;
    fn from_str(uri: &str) -> Result<Self, String> {
        let (name, digest) = uri.rsplit_once('@').ok_or_else(|| {
            format!("{uri:?} is not pinned by digest: use REPOSITORY_URI@sha256:...")
        })?;
        let digest = Digest::parse(digest)?;
        let (host, repository) = name
            .split_once('/')
            .ok_or_else(|| format!("{uri:?} has no repository path"))?;
        let bad_host = || {
            format!(
                "{host:?} is not an ECR registry ({{account}}.dkr.ecr.{{region}}.amazonaws.com)"
            )
        };
        let parts: Vec<&str> = host.split('.').collect();
        let (account, region) = match parts.as_slice() {
            [account, "dkr", "ecr", region, "amazonaws", "com"]
            | [account, "dkr", "ecr", region, "amazonaws", "com", "cn"] => (*account, *region),
            _ => return Err(bad_host()),
        };
        let account = Account::parse(account).map_err(|_| bad_host())?;
        let region = Region::parse(region).map_err(|_| bad_host())?;
        if repository.contains(':') {
            return Err(format!(
                "{uri:?} carries a tag as well as a digest: give the digest only"
            ));
        }
        Ok(ImageRef {
            account,
            region,
            repository: Repository::parse(repository)?,
            digest,
            tag: None,
            manifest: super::ManifestKind::Unknown,
        })
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.uri())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

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
            Some(d.clone())
        );
        assert_eq!(
            Digest::from_image_uri("1.dkr.ecr.x.amazonaws.com/r:tag"),
            None
        );
        assert_eq!(Digest::from_code_sha256(HEX), Some(d));
    }

    #[test]
    fn image_uri_is_by_digest_and_knows_china() {
        let uri = format!("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/api@sha256:{HEX}");
        let mut img: ImageRef = uri.parse().unwrap();
        assert_eq!(img.uri(), uri);
        assert_eq!(img.repository, "team/api");
        img.region = "cn-north-1".parse().unwrap();
        assert!(img.uri().contains(".amazonaws.com.cn/"));
        assert_eq!(img.label(), "sha256:0123456789ab");
        for (bad, why) in [
            (
                "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:v1",
                "is not pinned by digest",
            ),
            ("docker.io/library/api@sha256:x", "is not a digest"),
        ] {
            assert!(bad.parse::<ImageRef>().unwrap_err().contains(why), "{bad}");
        }
        let e = format!("docker.io/library/api@sha256:{HEX}")
            .parse::<ImageRef>()
            .unwrap_err();
        assert_eq!(
            e,
            "\"docker.io\" is not an ECR registry ({account}.dkr.ecr.{region}.amazonaws.com)"
        );
    }

    #[test]
    fn repositories_tags_and_patterns_check_themselves() {
        assert!(Repository::parse("team/api").is_ok());
        assert!(Repository::parse("../etc").is_err());
        assert!(Repository::parse("API").is_err());
        assert!(Tag::parse("v1.2_3-x").is_ok());
        assert!(
            Tag::parse("v 1")
                .unwrap_err()
                .contains("is not an image tag")
        );
        let p = TagPattern::parse("rc-?").unwrap();
        assert!(p.matches(&Tag::parse("rc-1").unwrap()));
        assert!(!p.matches(&Tag::parse("rc-12").unwrap()));
        assert!(
            TagPattern::parse("v 1")
                .unwrap_err()
                .contains("is not a tag pattern")
        );
    }
}
