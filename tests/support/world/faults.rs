//! What goes wrong: injected faults (a modeled error, or a raw HTTP answer the SDK parses for
//! real, or no answer at all), and the modeled errors the world's own rules answer with.

use super::WorldState;
use aws_smithy_mocks::MockResponse;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::error::ErrorMetadata;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// An error to return instead of doing the call, once, on the `nth` call of `op` (1-based).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    Conflict,
    Precondition,
    ServiceError,
    NotFound,
    AccessDenied,
    /// HTTP 429 TooManyRequestsException, as the SDK sees it once its retries are used up.
    Throttled,
    /// HTTP 502 with an HTML body (a proxy error): no modeled error at all.
    BadGateway,
    /// HTTP 200 with a body that is not JSON.
    Malformed,
    /// No answer: the SDK's attempt timeout fires. The call never reached AWS.
    Timeout,
    /// AWS applied the call, then its answer was lost, and the SDK sent the same call again:
    /// the caller gets the answer to the repeat (for a guarded change, our own guard tripping).
    Lost,
    /// AWS applied the call, its answer was lost (the caller gets a 502), and from then on the
    /// alias cannot be read (every GetAlias fails) until the test calls `World::heal`: a short
    /// Lambda API outage right after a change went through.
    LostBlind,
    /// The account's request rate is used up (see `rate.rs`): 429 with `Retry-After` seconds.
    RateExceeded(u32),
}

impl Fault {
    pub const ALL: [Fault; 9] = [
        Fault::Lost,
        Fault::Throttled,
        Fault::ServiceError,
        Fault::BadGateway,
        Fault::Timeout,
        Fault::Conflict,
        Fault::Precondition,
        Fault::Malformed,
        Fault::AccessDenied,
    ];

    /// The raw HTTP answer for faults that are not modeled errors.
    fn http(self) -> Option<HttpResponse> {
        if let Fault::RateExceeded(secs) = self {
            let mut resp = HttpResponse::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(429).expect("valid status"),
                aws_smithy_types::body::SdkBody::from(format!(
                    r#"{{"Type":"User","message":"Rate exceeded","Reason":"CallerRateLimitExceeded","retryAfterSeconds":"{secs}"}}"#
                )),
            );
            let headers = resp.headers_mut();
            headers.insert("x-amzn-errortype", "TooManyRequestsException");
            headers.insert("content-type", "application/json");
            headers.insert("Retry-After", secs.to_string());
            return Some(resp);
        }
        let (status, error_type, body) = match self {
            Fault::Throttled => (
                429,
                Some("TooManyRequestsException"),
                r#"{"Type":"User","message":"Rate exceeded","Reason":"CallerRateLimitExceeded"}"#,
            ),
            Fault::BadGateway => (502, None, "<html><body>502 Bad Gateway</body></html>"),
            Fault::Malformed => (200, None, "{\"Configuration\": [truncated"),
            // Answered with an empty 200 that the connector never delivers (see FaultyHttp).
            Fault::Timeout => (200, None, "{}"),
            _ => return None,
        };
        let mut resp = HttpResponse::new(
            aws_smithy_runtime_api::http::StatusCode::try_from(status).expect("valid status"),
            aws_smithy_types::body::SdkBody::from(body),
        );
        if let Some(t) = error_type {
            resp.headers_mut().insert("x-amzn-errortype", t);
        }
        resp.headers_mut()
            .insert("content-type", "application/json");
        Some(resp)
    }

    /// The modeled error, carrying the AWS error code the engine classifies by.
    fn error(self) -> ErrorMetadata {
        let (code, msg) = match self {
            Fault::Conflict => (
                "ResourceConflictException",
                "The operation cannot be performed at this time. An update is in progress for resource (injected)",
            ),
            Fault::Precondition => (
                "PreconditionFailedException",
                "The Revision Id provided does not match the latest Revision Id. (injected)",
            ),
            Fault::ServiceError => ("ServiceException", "internal failure (injected)"),
            Fault::NotFound => ("ResourceNotFoundException", "Function not found (injected)"),
            Fault::AccessDenied => (
                "AccessDeniedException",
                "User is not authorized to perform this action (injected)",
            ),
            Fault::Throttled
            | Fault::BadGateway
            | Fault::Malformed
            | Fault::Timeout
            | Fault::RateExceeded(_)
            | Fault::Lost
            | Fault::LostBlind => {
                unreachable!("answered over HTTP, or applied")
            }
        };
        ErrorMetadata::builder().code(code).message(msg).build()
    }
}

impl WorldState {
    /// The fault as the operation's answer: a raw HTTP response for transport-level faults (the
    /// SDK parses it for real), else the operation's modeled error built by `generic`.
    pub(super) fn faulted<O, E>(
        &self,
        fault: Fault,
        generic: impl FnOnce(ErrorMetadata) -> E,
    ) -> MockResponse<O, E> {
        if fault == Fault::Timeout {
            self.timeout_next.store(true, Ordering::SeqCst);
        }
        match fault.http() {
            Some(resp) => MockResponse::Http(resp),
            None => MockResponse::Error(generic(fault.error())),
        }
    }
}

/// Builds a modeled error `Op::Variant(Variant{message, meta.code})`.
macro_rules! err {
    ($op:ident, $variant:ident, $msg:expr) => {{
        let msg: String = $msg.into();
        $op::$variant(
            aws_sdk_lambda::types::error::$variant::builder()
                .message(msg.clone())
                .meta(
                    aws_smithy_types::error::ErrorMetadata::builder()
                        .code(stringify!($variant))
                        .message(msg)
                        .build(),
                )
                .build(),
        )
    }};
}
pub(super) use err;

/// Wraps a rule so that a call marked by a `Lost` fault is applied as usual, its answer is lost,
/// and the SDK sends the same request again: the caller sees the second answer. (aws-smithy-mocks
/// cannot show a rule the input of an SDK retry, so the world plays the retry itself.)
pub(super) fn lossy<I, O, E>(
    state: Arc<std::sync::Mutex<WorldState>>,
    rule: impl Fn(&I) -> MockResponse<O, E> + Send + Sync + 'static,
) -> impl Fn(&I) -> MockResponse<O, E> + Send + Sync + 'static {
    move |req| {
        let first = rule(req);
        let blind = std::mem::take(&mut state.lock().expect("world lock").lose_blind);
        if blind {
            drop(first);
            return Fault::BadGateway
                .http()
                .map(MockResponse::Http)
                .expect("a 502 is an HTTP answer");
        }
        let lost = std::mem::take(&mut state.lock().expect("world lock").lose_current);
        if lost {
            drop(first);
            return rule(req);
        }
        first
    }
}

/// A RevisionId guard that did not match, as Lambda words it.
pub(super) fn precondition<E>(make: impl FnOnce(ErrorMetadata) -> E) -> E {
    make(
        ErrorMetadata::builder()
            .code("PreconditionFailedException")
            .message("The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
            .build(),
    )
}

/// The mock HTTP client, except that a request marked by a Timeout fault is never answered.
#[derive(Debug, Clone)]
pub(super) struct FaultyHttp {
    inner: SharedHttpClient,
    timeout_next: Arc<AtomicBool>,
}

impl FaultyHttp {
    pub(super) fn wrap(timeout_next: Arc<AtomicBool>) -> SharedHttpClient {
        SharedHttpClient::new(Self {
            inner: aws_smithy_mocks::create_mock_http_client(),
            timeout_next,
        })
    }
}

#[derive(Debug)]
struct FaultyConnector {
    inner: SharedHttpConnector,
    timeout_next: Arc<AtomicBool>,
}

impl HttpClient for FaultyHttp {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(FaultyConnector {
            inner: self.inner.http_connector(settings, components),
            timeout_next: self.timeout_next.clone(),
        })
    }
}

impl HttpConnector for FaultyConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        if self.timeout_next.swap(false, Ordering::SeqCst) {
            return HttpConnectorFuture::new(std::future::pending());
        }
        self.inner.call(request)
    }
}

impl super::World {
    /// A rule in front of the world (for a client from `client_with`): GetAlias answers Lambda's
    /// 429 `times` times, with `Retry-After` when given, then the alias `live` of `function` as
    /// it stands now. The SDK's retries and the budget are what these tests are about, so the 429
    /// is a raw HTTP answer the SDK parses for real.
    pub fn get_alias_throttled(
        &self,
        function: &str,
        times: usize,
        retry_after: Option<&'static str>,
    ) -> aws_smithy_mocks::Rule {
        let (version, revision) = self.with_func(function, |f| {
            (
                f.aliases["live"].version.clone(),
                f.aliases["live"].revision.clone(),
            )
        });
        aws_smithy_mocks::mock!(aws_sdk_lambda::Client::get_alias)
            .sequence()
            .http_response(move || {
                let mut r = HttpResponse::new(
                    aws_smithy_runtime_api::http::StatusCode::try_from(429).unwrap(),
                    aws_smithy_types::body::SdkBody::from(r#"{"message":"Rate exceeded"}"#),
                );
                r.headers_mut()
                    .insert("x-amzn-errortype", "TooManyRequestsException");
                if let Some(after) = retry_after {
                    r.headers_mut().insert("Retry-After", after);
                }
                r
            })
            .times(times)
            .output(move || {
                aws_sdk_lambda::operation::get_alias::GetAliasOutput::builder()
                    .name("live")
                    .function_version(&version)
                    .revision_id(&revision)
                    .build()
            })
            .build()
    }
}
