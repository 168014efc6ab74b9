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

    /// `AWS/Lambda` metrics of the alias traffic that ran each asked version, from `start` to
    /// `end`, in one GetMetricData call (its price is per metric asked, so a check asks only what
    /// its gates need). Sums come in one-minute periods, added up; a p99 is asked over one period
    /// spanning the whole window, so CloudWatch computes it over every request in it (a maximum
    /// of per-minute p99s would overstate it). `None`: no datapoint.
    pub async fn version_metrics(
        &self,
        function: &str,
        alias: &str,
        asks: &[Ask],
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<Option<f64>>, ApiError> {
        let window = ((end - start).num_seconds().max(60) + 59) / 60 * 60;
        let query = |i: usize, ask: &Ask| {
            let mut m = Metric::builder()
                .namespace("AWS/Lambda")
                .metric_name(ask.metric.name());
            for (k, v) in [
                ("FunctionName", function.to_owned()),
                ("Resource", format!("{function}:{alias}")),
                ("ExecutedVersion", ask.version.clone()),
            ] {
                m = m.dimensions(Dimension::builder().name(k).value(v).build());
            }
            let (period, stat) = match ask.metric {
                MetricKind::P99Duration => (window as i32, "p99"),
                _ => (60, "Sum"),
            };
            MetricDataQuery::builder()
                .id(format!("m{i}"))
                .metric_stat(
                    MetricStat::builder()
                        .metric(m.build())
                        .period(period)
                        .stat(stat)
                        .build(),
                )
                .return_data(true)
                .build()
        };
        let to_time = |t: DateTime<Utc>| SmithyTime::from_secs(t.timestamp());
        let mut values: Vec<Vec<f64>> = vec![Vec::new(); asks.len()];
        let mut pages = self
            .client
            .get_metric_data()
            .set_metric_data_queries(Some(
                asks.iter().enumerate().map(|(i, a)| query(i, a)).collect(),
            ))
            .start_time(to_time(start))
            .end_time(to_time(end))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| ApiError::from_sdk("GetMetricData", &e))?;
            for r in page.metric_data_results() {
                let slot = r
                    .id()
                    .and_then(|id| id.strip_prefix('m'))
                    .and_then(|n| n.parse::<usize>().ok())
                    .and_then(|i| values.get_mut(i));
                if let Some(slot) = slot {
                    slot.extend(r.values().iter().filter(|v| v.is_finite()));
                }
            }
        }
        Ok(asks
            .iter()
            .zip(values)
            .map(|(ask, v)| match ask.metric {
                MetricKind::P99Duration => v.into_iter().reduce(f64::max),
                _ => Some(v.iter().sum()),
            })
            .collect())
    }
}

/// One metric of one version, as a rollout check asks it.
#[derive(Debug, Clone, PartialEq)]
pub struct Ask {
    pub version: String,
    pub metric: MetricKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    Errors,
    Invocations,
    /// The 99th percentile of `Duration`, in milliseconds.
    P99Duration,
}

impl MetricKind {
    fn name(self) -> &'static str {
        match self {
            Self::Errors => "Errors",
            Self::Invocations => "Invocations",
            Self::P99Duration => "Duration",
        }
    }
}

/// `ALARM`, as CloudWatch spells it.
pub fn is_alarm(state: &str) -> bool {
    state == StateValue::Alarm.as_str()
}
