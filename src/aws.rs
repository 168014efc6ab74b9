//! What every step needs from the SDK: error classification and the client's own clock.

use aws_sdk_lambda::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_async::rt::sleep::{AsyncSleep, SharedAsyncSleep, TokioSleep};
use aws_smithy_async::time::{SharedTimeSource, SystemTimeSource};
use std::time::{Duration, SystemTime};

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

    /// Time since `start`, zero if the clock went backwards.
    pub fn since(&self, start: SystemTime) -> Duration {
        self.now().duration_since(start).unwrap_or_default()
    }

    pub async fn sleep(&self, d: Duration) {
        self.sleep.sleep(d).await
    }
}

/// The AWS error code (`ResourceConflictException`, `ThrottlingException`, ...), if the service sent one.
pub fn error_code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<&str> {
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
            let detail: String = detail.chars().take(300).collect();
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

/// A guard tripped: somebody else changed the function or alias since we read it.
pub fn is_precondition_failed<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    error_code(err) == Some("PreconditionFailedException")
}

/// Lambda is busy with another update of this function.
pub fn is_conflict<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    error_code(err) == Some("ResourceConflictException")
}

pub fn is_not_found<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    error_code(err) == Some("ResourceNotFoundException")
}
