//! Errors that end an invocation. A failed deployment is not one of them inside the engine (it is
//! an outcome in the report); only at the Lambda boundary does it become an error, so that the
//! function's Errors metric and alarms see it.

use crate::config::ConfigError;
use crate::event::InputError;
use lambda_runtime::Diagnostic;

#[derive(Debug, thiserror::Error)]
pub enum DeployerError {
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("invalid payload: {0}")]
    Input(#[from] InputError),
    /// The report of a run in which at least one deployment failed, as JSON.
    #[error("{report}")]
    DeploymentFailed { report: String },
}

impl DeployerError {
    pub fn kind(&self) -> &'static str {
        match self {
            DeployerError::Config(_) => "InvalidConfiguration",
            DeployerError::Input(_) => "InvalidPayload",
            DeployerError::DeploymentFailed { .. } => "DeploymentFailed",
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
