//! The GitHub REST API over HTTPS: hyper with rustls (aws-lc-rs), the stack the AWS SDK already
//! builds, on the same tokio runtime. Every call is bounded by a timeout; failures come back as one
//! line that never contains the token.

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode, header};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use std::time::Duration;

/// The largest answer read (GitHub's deployment objects are a few KB; an image config tens).
const MAX_BODY: usize = 1 << 20;

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
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

impl GitHubApi {
    /// `base` without a trailing slash; `timeout` bounds each call, answer included.
    pub fn new(base: &str, timeout: Duration) -> Result<Self, String> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(super::CONNECT_TIMEOUT));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| format!("no TLS root certificates: {e}"))?
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            client: Client::builder(TokioExecutor::new()).build(https),
            timeout,
        })
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
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

    /// A plain GET of a full URL (an ECR layer's pre-signed address), no token: the body.
    pub async fn get_url(&self, url: &str) -> Result<Bytes, GitHubError> {
        let req = Request::builder()
            .method(Method::GET)
            .uri(url)
            .header(header::USER_AGENT, "self-deployer")
            .body(Full::new(Bytes::new()))
            .map_err(|e| GitHubError::new(GitHubErrorKind::Unreachable, format!("bad URL: {e}")))?;
        let (status, _, body) = self.send(req, "GET image config").await?;
        if status.is_success() {
            Ok(body)
        } else {
            Err(blob_refused(status))
        }
    }

    async fn send(
        &self,
        req: Request<Full<Bytes>>,
        what: &str,
    ) -> Result<(StatusCode, header::HeaderMap, Bytes), GitHubError> {
        let exchange = async {
            let resp = self.client.request(req).await.map_err(|e| {
                GitHubError::new(
                    GitHubErrorKind::Unreachable,
                    format!("{what}: could not reach {}: {}", self.host(), innermost(&e)),
                )
            })?;
            let (parts, body) = resp.into_parts();
            let body = Limited::new(body, MAX_BODY)
                .collect()
                .await
                .map_err(|e| {
                    GitHubError::new(
                        GitHubErrorKind::Unreachable,
                        format!("{what}: the answer could not be read: {e}"),
                    )
                })?
                .to_bytes();
            Ok((parts.status, parts.headers, body))
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(r) => r,
            Err(_) => Err(GitHubError::new(
                GitHubErrorKind::Timeout,
                format!(
                    "{what}: no answer from {} within {} s",
                    self.host(),
                    self.timeout.as_secs()
                ),
            )),
        }
    }

    fn host(&self) -> &str {
        self.base
            .split("://")
            .nth(1)
            .and_then(|r| r.split('/').next())
            .unwrap_or(&self.base)
    }
}

fn innermost(e: &dyn std::error::Error) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    crate::text::truncate(&crate::text::one_line(&cause.to_string()), 200)
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

/// The registry's blob store (S3 behind ECR's download address) would not give the image
/// config: said as the registry's answer, never as GitHub's.
fn blob_refused(status: StatusCode) -> GitHubError {
    let kind = if status.is_server_error() {
        GitHubErrorKind::Server
    } else {
        GitHubErrorKind::Refused
    };
    GitHubError::new(
        kind,
        format!(
            "GET image config: the registry's download address answered {}",
            status.as_u16()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_config_download_that_fails_names_the_registry_not_github() {
        let e = blob_refused(StatusCode::NOT_FOUND);
        assert_eq!(
            e.message,
            "GET image config: the registry's download address answered 404"
        );
        assert!(!e.message.contains("GitHub"));
        assert_eq!(
            blob_refused(StatusCode::BAD_GATEWAY).kind,
            GitHubErrorKind::Server
        );
    }

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
