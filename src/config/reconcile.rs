//! What a reconcile sweep may do for a target: deploy a missed push, or only report it.

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReconcileMode {
    /// A missed push is deployed through the full pipeline, as its event would have.
    #[default]
    Deploy,
    /// Nothing is deployed: the sweep reports what it would do, and drift.
    Report,
}

impl ReconcileMode {
    /// DEPLOYER_RECONCILE: `deploy` (or unset/empty) or `report`.
    pub(super) fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim() {
            "" | "deploy" => Ok(Self::Deploy),
            "report" => Ok(Self::Report),
            other => Err(format!(
                "{other:?} is not a reconcile mode: use deploy or report"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_and_others_are_named_in_the_error() {
        assert_eq!(ReconcileMode::parse("deploy"), Ok(ReconcileMode::Deploy));
        assert_eq!(ReconcileMode::parse(" report "), Ok(ReconcileMode::Report));
        assert_eq!(ReconcileMode::parse(""), Ok(ReconcileMode::Deploy));
        let e = ReconcileMode::parse("dry").unwrap_err();
        assert!(
            e.contains("\"dry\"") && e.contains("deploy or report"),
            "{e}"
        );
    }
}
