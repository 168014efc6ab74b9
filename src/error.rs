//! Errors that end an invocation. A failed deployment is not one of them inside the engine (it is
//! an outcome in the report); only at the Lambda boundary does it become an error, so that the
//! function's Errors metric and alarms see it.

use crate::config::ConfigError;
use crate::input::InputError;
use lambda_runtime::Diagnostic;

#[derive(Debug, thiserror::Error)]
pub enum DeployerError {
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    /// The AWS SDK could not be set up (no region, ...).
    #[error("cannot set up AWS: {0}")]
    Setup(String),
    #[error("invalid payload: {0}")]
    Input(#[from] InputError),
    /// The report of a run in which at least one deployment failed, as JSON.
    #[error("{report}")]
    DeploymentFailed { report: String },
    /// A status in which at least one function could not be read, as JSON.
    #[error("{report}")]
    StatusIncomplete { report: String },
}

impl DeployerError {
    pub fn kind(&self) -> &'static str {
        match self {
            DeployerError::Config(_) => "InvalidConfiguration",
            DeployerError::Setup(_) => "SetupFailed",
            DeployerError::Input(_) => "InvalidPayload",
            DeployerError::DeploymentFailed { .. } => "DeploymentFailed",
            DeployerError::StatusIncomplete { .. } => "StatusIncomplete",
        }
    }
}

impl From<DeployerError> for Diagnostic {
    fn from(e: DeployerError) -> Self {
        Diagnostic {
            error_type: e.kind().to_owned(),
            error_message: e.to_string(),
        }
    }
}
