//! What ECR said about an image, in the report.

use serde::Serialize;

/// What ECR said about an image: its scan and signature, and whether they let it through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageChecksResult {
    pub verdict: ImageVerdict,
    /// ECR's scan status (`COMPLETE`, `ACTIVE`, `IN_PROGRESS`, `FAILED`, `UNSUPPORTED_IMAGE`, …),
    /// `NONE` when ECR has no scan of the image, `UNREADABLE` when it could not be asked.
    pub scan_status: String,
    /// ECR's description of the scan status, or why it could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scan_detail: Option<String>,
    /// Findings per severity, as ECR counts them.
    pub counts: SeverityCounts,
    /// The most severe findings ECR listed (bounded).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
    /// The signature check, when `require_signature` is set.
    pub signature: Option<SignatureCheck>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageVerdict {
    Passed,
    Blocked,
    /// Shown for information (a rollback's target): rollbacks are never gated.
    NotGated,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The vulnerability (`CVE-2026-0001`).
    pub name: String,
    pub severity: String,
    /// The package and version it was found in, when ECR says.
    pub package: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureCheck {
    pub signing_profile_arn: String,
    /// ECR's signing status for that profile (`COMPLETE`, `IN_PROGRESS`, `FAILED`), `NONE` when the
    /// image has none for it, `UNREADABLE` when it could not be asked.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
}

/// Findings per severity name, most severe first; serialized as `{"CRITICAL": 2, "HIGH": 5}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeverityCounts(Vec<(String, u32)>);

impl SeverityCounts {
    /// From ECR's names and counts: sorted most severe first (unknown names last), zeros kept.
    pub fn new(counts: impl IntoIterator<Item = (String, u32)>) -> Self {
        let mut v: Vec<(String, u32)> = counts.into_iter().collect();
        v.sort_by(|a, b| {
            crate::types::Severity::rank(&a.0)
                .cmp(&crate::types::Severity::rank(&b.0))
                .then_with(|| a.0.cmp(&b.0))
        });
        v.dedup_by(|a, b| a.0 == b.0);
        Self(v)
    }

    pub fn get(&self, severity: &str) -> u32 {
        self.0
            .iter()
            .find(|(s, _)| s == severity)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, u32)> {
        self.0.iter().map(|(s, n)| (s.as_str(), *n))
    }

    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|(_, n)| *n == 0)
    }

    /// `CRITICAL 2, HIGH 5`, or `none`.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = self
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(s, n)| format!("{s} {n}"))
            .collect();
        if parts.is_empty() {
            "no findings".into()
        } else {
            parts.join(", ")
        }
    }
}

impl Serialize for SeverityCounts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}
