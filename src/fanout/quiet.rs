//! What a summarised fleet tells, and when: its batches tell only their failures (each left on
//! its function for the summary to read), its checks only the final summary.

use super::summary::FAILURE_TAG;
use crate::input::{FleetRequest, Request};
use crate::ops::Ctx;
use crate::report::{NotificationStatus, Outcome, Report};

/// What the notifier gets of `report`: a batch of a summarised fleet tells only its failures
/// (the summary tells the rest); a check tells only its final summary. `Err` is the report's
/// `notification` when nothing is told.
pub fn to_tell(request: &Request, report: &Report) -> Result<Report, NotificationStatus> {
    let quiet = |reason: &str| NotificationStatus {
        sent: false,
        message_ids: None,
        error: None,
        reason: Some(reason.into()),
    };
    match request {
        Request::Fleet(FleetRequest::Batch(b)) if b.summary.is_some() => {
            let mut r = report.clone();
            r.deployments.retain(|d| d.outcome == Outcome::Failed);
            if r.deployments.is_empty() {
                return Err(quiet("no failure: the fleet's summary tells the rest"));
            }
            Ok(r)
        }
        Request::Fleet(FleetRequest::Report(_)) if report.fleet.is_none() => {
            Err(quiet("the fleet is not done yet: checked again later"))
        }
        _ => Ok(report.clone()),
    }
}

/// Leaves each failed function's reason on the function, for the summary (best effort: a tag
/// that cannot be written becomes a warning, and the summary calls that function a straggler).
pub async fn leave_failures(ctx: &Ctx, key: &str, report: &mut Report) {
    for d in report
        .deployments
        .iter_mut()
        .filter(|d| d.outcome == Outcome::Failed)
    {
        let why = format!(
            "{key} {}",
            tag_safe(d.reason.as_deref().unwrap_or("failed"))
        );
        let why: String = why.chars().take(256).collect();
        let res = match ctx.lambda.function_arn(d.function.as_str()).await {
            Ok(arn) => ctx.lambda.set_tag(&arn, FAILURE_TAG, why.trim_end()).await,
            Err(e) => Err(e),
        };
        if let Err(e) = res {
            d.warnings.push(format!(
                "the fleet's summary will not see this failure: {e}"
            ));
        }
    }
}

/// A tag value holds letters, digits, spaces and `_.:/=+-@` only.
fn tag_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c) {
                c
            } else {
                ' '
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_values_keep_only_what_lambda_accepts() {
        assert_eq!(
            tag_safe("smoke test: status 500, \"boom\" (x)"),
            "smoke test: status 500 boom x"
        );
    }
}
