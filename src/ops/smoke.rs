//! Invoke `$LATEST` with the target's smoke payload and judge the answer.

use crate::config::Smoke;
use crate::gateway::Lambda;
use crate::report::SmokeResult;
use crate::text::{strip_controls, tail};
use serde_json::Value;
use std::time::Duration;

/// Bounds on what the report carries from the function's answer: enough to debug, never a flood.
pub const PAYLOAD_EXCERPT_CHARS: usize = 1000;
pub const LOG_TAIL_CHARS: usize = 2000;

/// Invokes `$LATEST` (RequestResponse, LogType Tail). An API error (throttled beyond the SDK's
/// retries, access denied, ...) is a failed smoke test too: the code was not shown to work.
/// The Invoke may take `smoke.timeout_secs`, whatever the API timeout is.
pub async fn run(lambda: &Lambda, function: &str, smoke: &Smoke) -> SmokeResult {
    let payload = serde_json::to_vec(&smoke.payload).unwrap_or_else(|_| b"null".to_vec());
    let timeout = Duration::from_secs(smoke.timeout_secs);
    match lambda.invoke(function, "$LATEST", payload, timeout).await {
        Ok(out) => {
            let mut r = judge(
                out.function_error.as_deref(),
                &out.payload,
                smoke.expect_status.as_deref(),
            );
            if !r.passed {
                r.log_tail = out.log_result.as_deref().map(decode_log_tail);
            }
            r
        }
        Err(e) => SmokeResult {
            passed: false,
            invoke_error: Some(e.message),
            status_code: None,
            function_error: None,
            payload_excerpt: None,
            log_tail: None,
        },
    }
}

/// The verdict, from what the function returned. Pure, so every branch is tested without AWS.
pub fn judge(function_error: Option<&str>, payload: &[u8], expect: Option<&[u16]>) -> SmokeResult {
    let text = String::from_utf8_lossy(payload);
    let status_code = serde_json::from_slice::<Value>(payload)
        .ok()
        .as_ref()
        .and_then(status_code_of);
    let passed = function_error.is_none()
        && match expect {
            None => true,
            Some(codes) => status_code.is_some_and(|s| codes.iter().any(|c| i64::from(*c) == s)),
        };
    SmokeResult {
        passed,
        invoke_error: None,
        status_code,
        function_error: function_error.map(str::to_owned),
        payload_excerpt: (!passed).then(|| excerpt(&text)),
        log_tail: None,
    }
}

/// Why a smoke result failed, in one sentence for the report.
pub fn failure_reason(r: &SmokeResult, expect: Option<&[u16]>) -> String {
    if let Some(e) = &r.invoke_error {
        return format!("the smoke test could not invoke $LATEST: {e}");
    }
    if let Some(fe) = &r.function_error {
        return format!("the function returned an error ({fe})");
    }
    match (r.status_code, expect) {
        (None, Some(_)) => "the response has no numeric statusCode".to_owned(),
        (Some(s), Some(codes)) => format!("statusCode {s} is not one of {codes:?}"),
        _ => "the smoke test did not pass".to_owned(),
    }
}

/// `statusCode` as a number, or as a numeric string (some frameworks send "200").
fn status_code_of(v: &Value) -> Option<i64> {
    match v.get("statusCode")? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Lambda's LogResult is the base64 of the last 4 KB of the invocation's log.
pub fn decode_log_tail(b64: &str) -> String {
    let bytes = aws_smithy_types::base64::decode(b64).unwrap_or_else(|_| b64.as_bytes().to_vec());
    tail(
        &strip_controls(&String::from_utf8_lossy(&bytes)),
        LOG_TAIL_CHARS,
    )
}

fn excerpt(s: &str) -> String {
    let s = strip_controls(s);
    if s.chars().count() > PAYLOAD_EXCERPT_CHARS {
        format!(
            "{}…",
            s.chars().take(PAYLOAD_EXCERPT_CHARS).collect::<String>()
        )
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_on_an_expected_status() {
        let r = judge(None, br#"{"statusCode":200,"body":"ok"}"#, Some(&[200]));
        assert!(r.passed);
        assert_eq!(r.status_code, Some(200));
        assert_eq!(r.payload_excerpt, None);
        assert!(judge(None, br#"{"statusCode":"204"}"#, Some(&[200, 204])).passed);
    }

    #[test]
    fn fails_on_other_statuses_missing_status_and_function_errors() {
        let r = judge(None, br#"{"statusCode":500,"body":"boom"}"#, Some(&[200]));
        assert!(!r.passed);
        assert_eq!(
            failure_reason(&r, Some(&[200])),
            "statusCode 500 is not one of [200]"
        );
        assert!(r.payload_excerpt.unwrap().contains("boom"));

        let r = judge(None, b"not json", Some(&[200]));
        assert!(!r.passed);
        assert_eq!(
            failure_reason(&r, Some(&[200])),
            "the response has no numeric statusCode"
        );

        let r = judge(Some("Unhandled"), br#"{"statusCode":200}"#, Some(&[200]));
        assert!(!r.passed, "a function error fails even with a good status");
        assert_eq!(
            failure_reason(&r, Some(&[200])),
            "the function returned an error (Unhandled)"
        );
    }

    #[test]
    fn null_expectation_checks_only_for_function_errors() {
        assert!(judge(None, b"\"anything\"", None).passed);
        assert!(!judge(Some("Handled"), b"{}", None).passed);
    }

    #[test]
    fn log_tails_are_decoded_bounded_and_cleaned() {
        let raw = format!("START\n{}\u{1b}[31mEND", "x".repeat(5000));
        let b64 = aws_smithy_types::base64::encode(raw.as_bytes());
        let tail = decode_log_tail(&b64);
        assert!(
            tail.ends_with("[31mEND"),
            "escape char dropped, text kept: {tail:?}"
        );
        assert!(!tail.contains('\u{1b}'));
        assert_eq!(tail.chars().count(), LOG_TAIL_CHARS + 1);
        let long = judge(None, "y".repeat(5000).as_bytes(), Some(&[200]));
        assert_eq!(
            long.payload_excerpt.unwrap().chars().count(),
            PAYLOAD_EXCERPT_CHARS + 1
        );
    }
}
