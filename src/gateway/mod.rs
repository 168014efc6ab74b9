//! The only code that talks to AWS. Each service has one file; each returns domain types and
//! [`ApiError`]s that say what happened in one line, so the rest of the program never sees the SDK.

/// `$client` (an SDK `Client`, the caller's import) rebuilt to sign with `$assumed`'s credentials:
/// a target in another account. Every SDK's config has the same builder, but no shared type.
macro_rules! signed_with {
    ($client:expr, $assumed:expr) => {
        Client::from_conf(
            $client
                .config()
                .to_builder()
                .credentials_provider($assumed.credentials())
                .build(),
        )
    };
}

pub mod budget;
pub mod cloudwatch;
pub mod ecr;
pub mod ecr_config;
mod ecr_manifest;
pub mod events;
pub mod github;
pub mod https;
pub mod lambda;
pub mod scheduler;
pub mod secrets;
pub mod sns;
mod state;
pub mod sts;

pub use lambda::Lambda;
pub use state::{AliasState, FunctionState};

use aws_sdk_lambda::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_async::rt::sleep::{AsyncSleep, SharedAsyncSleep, TokioSleep};
use aws_smithy_async::time::{SharedTimeSource, SystemTimeSource};
use std::time::{Duration, SystemTime};

/// How long a connection to AWS may take to open.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The sleep and time source configured on the Lambda client. Production gets tokio and the
/// system clock; tests give the client virtual time, and every wait in the engine follows it.
#[derive(Clone, Debug)]
pub struct Clock {
    sleep: SharedAsyncSleep,
    time: SharedTimeSource,
}

impl Clock {
    pub fn of(conf: &aws_sdk_lambda::Config) -> Self {
        Self {
            sleep: conf
                .sleep_impl()
                .unwrap_or_else(|| SharedAsyncSleep::new(TokioSleep::new())),
            time: conf
                .time_source()
                .unwrap_or_else(|| SharedTimeSource::new(SystemTimeSource::new())),
        }
    }

    pub fn now(&self) -> SystemTime {
        self.time.now()
    }

    pub fn now_utc(&self) -> chrono::DateTime<chrono::Utc> {
        self.now().into()
    }

    /// Time since `start`, zero if the clock went backwards.
    pub fn since(&self, start: SystemTime) -> Duration {
        self.now().duration_since(start).unwrap_or_default()
    }

    pub async fn sleep(&self, d: Duration) {
        self.sleep.sleep(d).await
    }
}

/// The AWS error code (`ResourceConflictException`, `ThrottlingException`, ...), if the service sent one.
pub(crate) fn error_code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<&str> {
    err.code()
}

/// One line for the report: `Code: message` for service errors, the full cause chain otherwise
/// (timeouts, connection failures, responses that could not be parsed).
pub fn describe<E, R>(err: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match (err.code(), err.message()) {
        (Some(code), Some(msg)) => format!("{code}: {msg}"),
        (Some(code), None) => code.to_owned(),
        _ => {
            let kind = match err {
                SdkError::TimeoutError(_) => "timed out",
                SdkError::DispatchFailure(_) => "could not reach AWS",
                SdkError::ResponseError(_) => "unreadable response",
                SdkError::ServiceError(_) => "unexpected response",
                SdkError::ConstructionFailure(_) => "request not built",
                _ => "request failed",
            };
            // The innermost cause says what happened ("Connection refused"); the layers between
            // are SDK plumbing. Keep it to one readable line.
            let mut cause: &dyn std::error::Error = err;
            while let Some(next) = cause.source() {
                cause = next;
            }
            let detail = cause.to_string();
            let detail = crate::text::truncate(&crate::text::one_line(&detail), 300);
            if detail.is_empty() || detail == err.to_string() {
                format!(
                    "{kind}: {}",
                    DisplayErrorContext(err)
                        .to_string()
                        .chars()
                        .take(300)
                        .collect::<String>()
                )
            } else {
                format!("{kind}: {detail}")
            }
        }
    }
}

/// What kind of failure an API call ended in: the engine decides on the kind, people read the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A RevisionId guard tripped: the function or alias changed since we read it (perhaps by our
    /// own earlier attempt whose response was lost: callers re-read before blaming anyone).
    PreconditionFailed,
    /// A CodeSha256 guard tripped (Lambda says InvalidParameterValue, naming CodeSHA256).
    CodeShaMismatch,
    /// Lambda is busy with another update of this function, or the resource already exists.
    Conflict,
    NotFound,
    /// Throttled beyond the SDK's retries (`TooManyRequestsException`, `ThrottlingException`, ...).
    Throttled,
    /// The caller's credentials may not do this.
    AccessDenied,
    /// No answer in time (the attempt or the whole call timed out, or AWS could not be reached).
    TimedOut,
    /// Anything else: a service error, an unreadable answer.
    Other,
}

/// A failed API call: which operation, what kind of failure, and one line for the report.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{op} failed: {message}")]
pub struct ApiError {
    pub op: &'static str,
    pub kind: ErrorKind,
    pub message: String,
}

impl ApiError {
    pub(crate) fn from_sdk<E, R>(op: &'static str, err: &SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let message = describe(err);
        let kind = match error_code(err) {
            Some("PreconditionFailedException") => ErrorKind::PreconditionFailed,
            Some("ResourceConflictException") => ErrorKind::Conflict,
            Some("ResourceNotFoundException") => ErrorKind::NotFound,
            code if is_throttle_code(code) => ErrorKind::Throttled,
            Some("AccessDeniedException" | "AccessDenied" | "UnauthorizedOperation") => {
                ErrorKind::AccessDenied
            }
            None if matches!(
                err,
                SdkError::TimeoutError(_) | SdkError::DispatchFailure(_)
            ) =>
            {
                ErrorKind::TimedOut
            }
            Some("InvalidParameterValueException")
                if message.to_ascii_lowercase().contains("codesha256") =>
            {
                ErrorKind::CodeShaMismatch
            }
            _ => ErrorKind::Other,
        };
        Self { op, kind, message }
    }

    pub fn is(&self, kind: ErrorKind) -> bool {
        self.kind == kind
    }
}
/// The error codes AWS services throttle with (Lambda's 429 is `TooManyRequestsException`).
pub(crate) fn is_throttle_code(code: Option<&str>) -> bool {
    matches!(
        code,
        Some(
            "TooManyRequestsException"
                | "ThrottlingException"
                | "Throttling"
                | "ThrottledException"
                | "RequestLimitExceeded"
        )
    )
}
