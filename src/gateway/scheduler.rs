//! EventBridge Scheduler: the one-time schedules that bring a rollout's next check.

use super::{ApiError, ErrorKind, error_code};
use aws_sdk_scheduler::Client;
use aws_sdk_scheduler::types::{
    ActionAfterCompletion, FlexibleTimeWindow, FlexibleTimeWindowMode, Target,
};
use chrono::{DateTime, Utc};

#[derive(Clone, Debug)]
pub struct Scheduler {
    client: Client,
}

/// A one-time schedule: at `at`, invoke `target_arn` (as `role_arn`) with `input`.
#[derive(Debug, Clone, PartialEq)]
pub struct OneTime {
    pub group: String,
    pub name: String,
    pub at: DateTime<Utc>,
    pub target_arn: String,
    pub role_arn: String,
    pub input: String,
}

impl Scheduler {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// Creates the schedule. `Ok(false)`: one with this name exists already (a duplicate delivery
    /// of the check that creates it), which is as good.
    pub async fn create(&self, s: &OneTime) -> Result<bool, ApiError> {
        let target = Target::builder()
            .arn(&s.target_arn)
            .role_arn(&s.role_arn)
            .input(&s.input)
            .build()
            .map_err(|e| other("CreateSchedule", e.to_string()))?;
        let window = FlexibleTimeWindow::builder()
            .mode(FlexibleTimeWindowMode::Off)
            .build()
            .map_err(|e| other("CreateSchedule", e.to_string()))?;
        let res = self
            .client
            .create_schedule()
            .group_name(&s.group)
            .name(&s.name)
            .schedule_expression(format!("at({})", s.at.format("%Y-%m-%dT%H:%M:%S")))
            .schedule_expression_timezone("UTC")
            .flexible_time_window(window)
            .action_after_completion(ActionAfterCompletion::Delete)
            .target(target)
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(e) if error_code(&e) == Some("ConflictException") => Ok(false),
            Err(e) => Err(ApiError::from_sdk("CreateSchedule", &e)),
        }
    }

    /// Deletes a schedule; one that is gone already (it fired, or was deleted) is fine.
    pub async fn delete(&self, group: &str, name: &str) -> Result<(), ApiError> {
        match self
            .client
            .delete_schedule()
            .group_name(group)
            .name(name)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if error_code(&e) == Some("ResourceNotFoundException") => Ok(()),
            Err(e) => Err(ApiError::from_sdk("DeleteSchedule", &e)),
        }
    }

    /// The names of the schedules in `group` whose name starts with `prefix`, all pages.
    pub async fn list(&self, group: &str, prefix: &str) -> Result<Vec<String>, ApiError> {
        let mut names = Vec::new();
        let mut pages = self
            .client
            .list_schedules()
            .group_name(group)
            .name_prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| ApiError::from_sdk("ListSchedules", &e))?;
            names.extend(
                page.schedules()
                    .iter()
                    .filter_map(|s| s.name().map(str::to_owned)),
            );
        }
        Ok(names)
    }
}

fn other(op: &'static str, message: String) -> ApiError {
    ApiError {
        op,
        kind: ErrorKind::Other,
        message,
    }
}
