//! Versions, what an alias points at, and Lambda's optimistic-lock token.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
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

impl std::str::FromStr for Version {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s).ok_or_else(|| {
            format!("{s:?} is not a published version number: a rollback targets an immutable version (1, 2, ...), never $LATEST")
        })
    }
}

/// Versions are strings in every Lambda API response and CLI flag; the report follows that
/// convention so a version can be pasted into `aws lambda update-alias --function-version`.
impl Serialize for Version {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Accepts `"12"` (Lambda's form) and `12` (what people type in JSON).
impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Version;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a version number such as \"12\"")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Version, E> {
                s.parse().map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Version, E> {
                Version::new(n).ok_or_else(|| {
                    E::custom(format!("{n} is not a published version number (1, 2, ...)"))
                })
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Version, E> {
                match u64::try_from(n) {
                    Ok(n) => self.visit_u64(n),
                    Err(_) => Err(E::custom(format!(
                        "{n} is not a published version number (1, 2, ...)"
                    ))),
                }
            }
            fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Version, E> {
                Err(E::custom(format!(
                    "{n} is not a published version number (1, 2, ...)"
                )))
            }
        }
        d.deserialize_any(V)
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

    pub fn version(self) -> Option<Version> {
        match self {
            Self::Version(v) => Some(v),
            Self::Latest => None,
        }
    }
}

impl fmt::Display for AliasTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Latest => f.write_str("$LATEST"),
            Self::Version(v) => write!(f, "{v}"),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let v: Version = serde_json::from_str("7").unwrap();
        assert_eq!(v.get(), 7);
        let v: Version = serde_json::from_str("\"8\"").unwrap();
        assert_eq!(v.get(), 8);
        let e = serde_json::from_str::<Version>("-1")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("-1 is not a published version number"), "{e}");
        let e = serde_json::from_str::<Version>("[1]")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("expected a version number such as \"12\""),
            "{e}"
        );
    }
}
