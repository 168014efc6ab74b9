//! The function's tags: where reconcile remembers rejected images and drift it told about.

use super::Lambda;
use crate::gateway::budget::Quota;
use crate::gateway::{ApiError, ErrorKind};
use std::collections::HashMap;

impl Lambda {
    /// The function's unqualified ARN (TagResource and ListTags take nothing else): the ARN as
    /// configured, else what GetFunction says.
    pub async fn function_arn(&self, function: &str) -> Result<String, ApiError> {
        let arn = if function.starts_with("arn:") {
            function.to_owned()
        } else {
            let out = self
                .budget
                .paced(Quota::GetFunction, &self.clock, || {
                    self.client.get_function().function_name(function).send()
                })
                .await
                .map_err(|e| ApiError::from_sdk("GetFunction", &e))?;
            out.configuration()
                .and_then(|c| c.function_arn())
                .map(str::to_owned)
                .ok_or_else(|| ApiError {
                    op: "GetFunction",
                    kind: ErrorKind::Other,
                    message: "returned no FunctionArn".into(),
                })?
        };
        let arn: crate::types::FunctionArn = arn.parse().map_err(|e| ApiError {
            op: "GetFunction",
            kind: ErrorKind::Other,
            message: e,
        })?;
        Ok(arn.unqualified().to_string())
    }

    /// The function's tags (`ListTags`).
    pub async fn tags(&self, arn: &str) -> Result<HashMap<String, String>, ApiError> {
        let out = self
            .budget
            .paced(Quota::ControlPlane, &self.clock, || {
                self.client.list_tags().resource(arn).send()
            })
            .await
            .map_err(|e| ApiError::from_sdk("ListTags", &e))?;
        Ok(out.tags().cloned().unwrap_or_default())
    }

    /// Sets one tag on the function (`TagResource`); other tags are left as they are.
    pub async fn set_tag(&self, arn: &str, key: &str, value: &str) -> Result<(), ApiError> {
        self.budget
            .paced(Quota::ControlPlane, &self.clock, || {
                self.client
                    .tag_resource()
                    .resource(arn)
                    .tags(key, value)
                    .send()
            })
            .await
            .map(|_| ())
            .map_err(|e| ApiError::from_sdk("TagResource", &e))
    }
}
