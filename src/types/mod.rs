//! Domain types. Each one validates itself where it enters the program (`FromStr`, and serde through
//! `try_from`), so the rest of the engine cannot mix up a version with a revision id, or deploy a tag
//! instead of a digest.

mod action;
mod arn;
#[cfg(test)]
mod arn_tests;
mod image;
pub mod labels;
pub mod manifest;
mod names;
mod scan;
mod version;

pub use action::{ACTIONS, ActionDef, ActionKind};
pub use arn::{Arn, FunctionArn, RoleArn};
pub use image::{Digest, ImageRef, Repository, Tag, TagPattern};
pub use labels::{Labels, LabelsRead};
pub use manifest::{Architecture, Index, IndexImage, Manifest, ManifestKind};
pub use names::{Account, AliasName, FunctionRef, Reason, Region};
pub use scan::{Severity, SigningProfileArn};
pub use version::{AliasTarget, RevisionId, Version};

/// A string newtype whose only constructor is its check: `FromStr`, `TryFrom<String>` and serde
/// all go through `$check`, which says what is wrong in words a user can act on.
macro_rules! checked_string {
    ($(#[$meta:meta])* $name:ident, $check:path) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Deserialize)]
        #[serde(try_from = "String")]
        pub struct $name(String);

        /// As the string itself: messages quote values with `{:?}`.
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(&self.0, f)
            }
        }

        impl $name {
            pub fn parse(s: &str) -> Result<Self, String> {
                $check(s).map(|()| Self(s.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                $check(&s)?;
                Ok(Self(s))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}
pub(crate) use checked_string;
