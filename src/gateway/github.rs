//! The GitHub REST API over [`Https`]: its headers, its token, and what its refusals mean. Every
//! call is bounded by the client's timeout; failures come back as one line that never contains
//! the token.

use super::https::Https;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode, header};
use serde_json::Value;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GitHubErrorKind {
    /// 401: the token is wrong, expired or revoked.
    Unauthorized,
    /// 403 or 429 with GitHub's rate-limit signs.
    RateLimited,
    /// Any other 4xx: the request was refused (no permission, no such repository, a bad ref).
    Refused,
    /// 5xx.
    Server,
    /// No answer within the timeout.
    Timeout,
    /// No connection, or an answer that could not be read.
    Unreachable,
}

/// A failed call, in one line for a warning.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct GitHubError {
    pub kind: GitHubErrorKind,
    pub message: String,
}

impl GitHubError {
    fn new(kind: GitHubErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

/// A client for one API root (`https://api.github.com`, or GitHub Enterprise Server's `/api/v3`).
#[derive(Clone, Debug)]
pub struct GitHubApi {
    base: String,
    https: Https,
}

impl GitHubApi {
    /// `base` without a trailing slash; `timeout` bounds each call, answer included.
    pub fn new(base: &str, timeout: Duration) -> Result<Self, String> {
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            https: Https::new(timeout)?,
        })
    }

    /// The HTTPS client under it (an image config's blob is fetched with the same one).
    pub fn https(&self) -> &Https {
        &self.https
    }

    pub fn timeout(&self) -> Duration {
        self.https.timeout()
    }

    /// `method` on `path` (from the API root) with `Authorization: Bearer {token}`; the answer's JSON.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> Result<Value, GitHubError> {
        let url = format!("{}{path}", self.base);
        let mut req = Request::builder()
            .method(method.clone())
            .uri(&url)
            .header(header::ACCEPT, "application/vnd.github+json")
            .header(header::USER_AGENT, "self-deployer")
            .header("x-github-api-version", "2022-11-28")
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
        let bytes = match body {
            Some(b) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Bytes::from(b.to_string())
            }
            None => Bytes::new(),
        };
        let what = format!("{method} {path}");
        let req = req.body(Full::new(bytes)).map_err(|e| {
            GitHubError::new(
                GitHubErrorKind::Unreachable,
                format!("{what}: bad request: {e}"),
            )
        })?;
        let (status, headers, body) = self.send(req, &what).await?;
        if status.is_success() {
            if body.is_empty() {
                return Ok(Value::Null);
            }
            return serde_json::from_slice(&body).map_err(|_| {
                GitHubError::new(
                    GitHubErrorKind::Unreachable,
                    format!("{what}: the answer ({status}) is not JSON"),
                )
            });
        }
        Err(classify(&what, status, &headers, &body))
    }

    async fn send(
        &self,
        req: Request<Full<Bytes>>,
        what: &str,
    ) -> Result<(StatusCode, header::HeaderMap, Bytes), GitHubError> {
        self.https.send(req, what, self.host()).await.map_err(|e| {
            let kind = if e.timed_out {
                GitHubErrorKind::Timeout
            } else {
                GitHubErrorKind::Unreachable
            };
            GitHubError::new(kind, e.message)
        })
    }

    fn host(&self) -> &str {
        self.base
            .split("://")
            .nth(1)
            .and_then(|r| r.split('/').next())
            .unwrap_or(&self.base)
    }
}

/// What GitHub's refusal means, with its own message (bounded) and, when rate limited, until when.
fn classify(
    what: &str,
    status: StatusCode,
    headers: &header::HeaderMap,
    body: &[u8],
) -> GitHubError {
    let said = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
        .map(|m| {
            format!(
                ": {}",
                crate::text::truncate(&crate::text::one_line(&m), 200)
            )
        })
        .unwrap_or_default();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let code = status.as_u16();
    let limited = code == 429
        || (code == 403
            && (header("retry-after").is_some() || header("x-ratelimit-remaining") == Some("0")));
    if limited {
        let when = match (header("retry-after"), header("x-ratelimit-reset")) {
            (Some(secs), _) => format!(", retry after {} s", secs.trim()),
            (None, Some(reset)) => reset
                .trim()
                .parse::<i64>()
                .ok()
                .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
                .map(|t| format!(", the limit resets at {}", t.format("%Y-%m-%dT%H:%M:%SZ")))
                .unwrap_or_default(),
            _ => String::new(),
        };
        return GitHubError::new(
            GitHubErrorKind::RateLimited,
            format!("{what}: rate limited by GitHub ({code}){when}{said}"),
        );
    }
    let (kind, meaning) = match code {
        401 => (GitHubErrorKind::Unauthorized, "GitHub refused the token"),
        500..=599 => (GitHubErrorKind::Server, "GitHub failed"),
        _ => (GitHubErrorKind::Refused, "GitHub refused the request"),
    };
    GitHubError::new(kind, format!("{what}: {meaning} ({code}){said}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> header::HeaderMap {
        let mut h = header::HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    /// An answer GitHub gave, and what is said of it: its kind and its message, each where the
    /// case is about it.
    type Case = (
        StatusCode,
        &'static [(&'static str, &'static str)],
        &'static [u8],
        Option<GitHubErrorKind>,
        Option<&'static str>,
    );

    #[test]
    fn refusals_say_what_they_mean() {
        use GitHubErrorKind::*;
        let cases: [Case; 5] = [
            (
                StatusCode::UNAUTHORIZED,
                &[],
                br#"{"message":"Bad credentials"}"#,
                Some(Unauthorized),
                Some("POST /x: GitHub refused the token (401): Bad credentials"),
            ),
            (
                StatusCode::FORBIDDEN,
                &[
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", "1800000000"),
                ],
                b"",
                Some(RateLimited),
                Some(
                    "POST /x: rate limited by GitHub (403), the limit resets at 2027-01-15T08:00:00Z",
                ),
            ),
            (
                StatusCode::TOO_MANY_REQUESTS,
                &[("retry-after", "30")],
                b"",
                None,
                Some("POST /x: rate limited by GitHub (429), retry after 30 s"),
            ),
            (
                StatusCode::FORBIDDEN,
                &[],
                br#"{"message":"Resource not accessible by integration"}"#,
                Some(Refused),
                None,
            ),
            (
                StatusCode::BAD_GATEWAY,
                &[],
                b"<html>",
                Some(Server),
                Some("POST /x: GitHub failed (502)"),
            ),
        ];
        for (status, pairs, body, kind, message) in cases {
            let e = classify("POST /x", status, &headers(pairs), body);
            if let Some(kind) = kind {
                assert_eq!(e.kind, kind, "{status}");
            }
            if let Some(message) = message {
                assert_eq!(e.message, message);
            }
        }
    }
}
