//! `image_checks`: what ECR must say about an image before it may replace what runs. Per target, or
//! for all targets from DEPLOYER_IMAGE_CHECKS (same JSON).

use super::ConfigError;
use crate::types::{Severity, SigningProfileArn};
use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor, value::MapAccessDeserializer};
use std::collections::BTreeMap;
use std::time::Duration;

pub const MAX_SCAN_WAIT_SECS: u64 = 900;

/// Read from a JSON object only (see the `Deserialize` impl below).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct ImageChecks {
    /// The most findings allowed per severity; severities not named are not limited. `None`:
    /// findings are reported, never block.
    #[serde(default)]
    pub max_findings: Option<BTreeMap<Severity, u32>>,
    /// An image without a usable scan blocks (otherwise it is deployed with a warning).
    #[serde(default)]
    pub require_scan: bool,
    /// How long a scan (or signing) still in progress is waited for.
    #[serde(default = "default_scan_wait")]
    pub scan_wait_secs: u64,
    #[serde(default)]
    pub require_signature: Option<RequireSignature>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequireSignature {
    pub signing_profile_arn: SigningProfileArn,
}

/// Only an object: serde's derive would also take `[]` (every field defaulted), which for a safety
/// check is a typo that must not pass.
impl<'de> Deserialize<'de> for ImageChecks {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Object;
        impl<'de> Visitor<'de> for Object {
            type Value = ImageChecks;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "an object with max_findings, require_scan, scan_wait_secs, require_signature",
                )
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ImageChecks, A::Error> {
                ImageChecks::deserialize(MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(Object)
    }
}

fn default_scan_wait() -> u64 {
    300
}

impl ImageChecks {
    pub fn scan_wait(&self) -> Duration {
        Duration::from_secs(self.scan_wait_secs)
    }

    /// Whether the scan decides anything: without limits or `require_scan`, a missing or
    /// unreadable scan is only a warning.
    pub fn scan_enforced(&self) -> bool {
        self.max_findings.is_some() || self.require_scan
    }

    /// What serde cannot check: the field and the problem.
    pub(super) fn check(&self) -> Result<(), (&'static str, String)> {
        if self.scan_wait_secs > MAX_SCAN_WAIT_SECS {
            return Err((
                "scan_wait_secs",
                format!(
                    "{} is out of range: it must be between 0 and {MAX_SCAN_WAIT_SECS}",
                    self.scan_wait_secs
                ),
            ));
        }
        Ok(())
    }
}

/// Parses `raw` as DEPLOYER_IMAGE_CHECKS (`variable`), naming the field of any problem.
pub(super) fn parse_default(
    variable: &'static str,
    raw: &str,
) -> Result<Option<ImageChecks>, ConfigError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    let de = &mut serde_json::Deserializer::from_str(raw);
    let checks: ImageChecks = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        // `?`: a key that could not be read (the text ended, or was not JSON).
        let path = path.trim_end_matches('?').trim_end_matches('.');
        let path = if path.is_empty() {
            String::new()
        } else {
            format!(".{path}")
        };
        ConfigError::new(variable, path, e.into_inner().to_string())
    })?;
    checks
        .check()
        .map_err(|(field, p)| ConfigError::new(variable, format!(".{field}"), p))?;
    Ok(Some(checks))
}
