//! CloudWatch: the rollout gates and stage promotions read alarm states and the new version's own
//! metrics.

use super::ApiError;
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::primitives::DateTime as SmithyTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, StateValue};
use chrono::{DateTime, Utc};

#[derive(Clone, Debug)]
pub struct CloudWatch {
    client: Client,
}

/// An alarm's state, by name. `None`: no such alarm.
pub type AlarmStates = Vec<(String, Option<String>)>;

impl CloudWatch {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// The same client, signing with `assumed`: a target in another account has its alarms and
    /// its functions' metrics there.
    pub fn with_credentials(&self, assumed: &super::sts::Assumed) -> Self {
        Self {
            client: signed_with!(self.client, assumed),
        }
    }

    /// The state (`OK`, `ALARM`, `INSUFFICIENT_DATA`) of each named alarm, metric or composite.
    pub async fn alarm_states(&self, names: &[String]) -> Result<AlarmStates, ApiError> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let out = self
            .client
            .describe_alarms()
            .set_alarm_names(Some(names.to_vec()))
            .alarm_types(aws_sdk_cloudwatch::types::AlarmType::MetricAlarm)
            .alarm_types(aws_sdk_cloudwatch::types::AlarmType::CompositeAlarm)
            .send()
            .await
            .map_err(|e| ApiError::from_sdk("DescribeAlarms", &e))?;
        let mut found: Vec<(String, String)> = Vec::new();
        for a in out.metric_alarms() {
            if let (Some(n), Some(s)) = (a.alarm_name(), a.state_value()) {
                found.push((n.to_owned(), s.as_str().to_owned()));
            }
        }
        for a in out.composite_alarms() {
            if let (Some(n), Some(s)) = (a.alarm_name(), a.state_value()) {
                found.push((n.to_owned(), s.as_str().to_owned()));
            }
        }
        Ok(names
            .iter()
            .map(|n| {
                let state = found.iter().find(|(f, _)| f == n).map(|(_, s)| s.clone());
                (n.clone(), state)
            })
            .collect())
    }

    /// Sums of `AWS/Lambda` `Errors` and `Invocations` (period 60, Sum) for the alias traffic that
    /// ran `version`, from `start` to `end`.
    pub async fn version_errors(
        &self,
        function: &str,
        alias: &str,
        version: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<(f64, f64), ApiError> {
        let dims = [
            ("FunctionName", function.to_owned()),
            ("Resource", format!("{function}:{alias}")),
            ("ExecutedVersion", version.to_owned()),
        ];
        let query = |id: &str, metric: &str| {
            let mut m = Metric::builder()
                .namespace("AWS/Lambda")
                .metric_name(metric);
            for (k, v) in &dims {
                m = m.dimensions(Dimension::builder().name(*k).value(v).build());
            }
            MetricDataQuery::builder()
                .id(id)
                .metric_stat(
                    MetricStat::builder()
                        .metric(m.build())
                        .period(60)
                        .stat("Sum")
                        .build(),
                )
                .return_data(true)
                .build()
        };
        let to_time = |t: DateTime<Utc>| SmithyTime::from_secs(t.timestamp());
        let mut errors = 0.0;
        let mut invocations = 0.0;
        let mut pages = self
            .client
            .get_metric_data()
            .metric_data_queries(query("errors", "Errors"))
            .metric_data_queries(query("invocations", "Invocations"))
            .start_time(to_time(start))
            .end_time(to_time(end))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| ApiError::from_sdk("GetMetricData", &e))?;
            for r in page.metric_data_results() {
                let sum: f64 = r.values().iter().sum();
                match r.id() {
                    Some("errors") => errors += sum,
                    Some("invocations") => invocations += sum,
                    _ => {}
                }
            }
        }
        Ok((errors, invocations))
    }
}

/// `ALARM`, as CloudWatch spells it.
pub fn is_alarm(state: &str) -> bool {
    state == StateValue::Alarm.as_str()
}
