//! One HTTPS client: hyper with rustls (aws-lc-rs), the stack the AWS SDK already builds, on the
//! same tokio runtime, every exchange bounded by a timeout. GitHub's API ([`super::github`]) adds
//! its headers and its reading of refusals on top; an image config blob from ECR's download
//! address is a plain GET ([`Https::get`]).

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode, header};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// The largest answer read (GitHub's deployment objects are a few KB; an image config tens).
const MAX_BODY: usize = 1 << 20;

/// An exchange that got no answer to read: not connected, unreadable, or too slow.
#[derive(Debug, Clone, PartialEq)]
pub struct Unanswered {
    pub timed_out: bool,
    pub message: String,
}

#[derive(Clone, Debug)]
pub struct Https {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

impl Https {
    /// `timeout` bounds each exchange, answer included.
    pub fn new(timeout: Duration) -> Result<Self, String> {
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
            client: Client::builder(TokioExecutor::new()).build(https),
            timeout,
        })
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sends `req` to `host` (named in messages), reads the answer (bounded) within the timeout.
    pub async fn send(
        &self,
        req: Request<Full<Bytes>>,
        what: &str,
        host: &str,
    ) -> Result<(StatusCode, header::HeaderMap, Bytes), Unanswered> {
        let unreachable = |message: String| Unanswered {
            timed_out: false,
            message,
        };
        let exchange = async {
            let resp = self.client.request(req).await.map_err(|e| {
                unreachable(format!("{what}: could not reach {host}: {}", innermost(&e)))
            })?;
            let (parts, body) = resp.into_parts();
            let body = Limited::new(body, MAX_BODY)
                .collect()
                .await
                .map_err(|e| unreachable(format!("{what}: the answer could not be read: {e}")))?
                .to_bytes();
            Ok((parts.status, parts.headers, body))
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(r) => r,
            Err(_) => Err(Unanswered {
                timed_out: true,
                message: format!(
                    "{what}: no answer from {host} within {} s",
                    self.timeout.as_secs()
                ),
            }),
        }
    }

    /// A plain GET of an image config blob at ECR's pre-signed download address (no token): the
    /// body, or why not, in one line.
    pub async fn get(&self, url: &str) -> Result<Bytes, String> {
        let req = Request::builder()
            .method(Method::GET)
            .uri(url)
            .header(header::USER_AGENT, "self-deployer")
            .body(Full::new(Bytes::new()))
            .map_err(|e| format!("bad URL: {e}"))?;
        let (status, _, body) = self
            .send(req, "GET image config", "ECR's layer storage")
            .await
            .map_err(|e| e.message)?;
        if status.is_success() {
            Ok(body)
        } else {
            Err(blob_refused(status))
        }
    }
}

fn innermost(e: &dyn std::error::Error) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    crate::text::truncate(&crate::text::one_line(&cause.to_string()), 200)
}

/// The registry's blob store (S3 behind ECR's download address) would not give the image
/// config: said as the registry's answer, never as GitHub's.
fn blob_refused(status: StatusCode) -> String {
    format!(
        "GET image config: the registry's download address answered {}",
        status.as_u16()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_config_download_that_fails_names_the_registry_not_github() {
        let e = blob_refused(StatusCode::NOT_FOUND);
        assert_eq!(
            e,
            "GET image config: the registry's download address answered 404"
        );
        assert!(!e.contains("GitHub"));
    }
}
