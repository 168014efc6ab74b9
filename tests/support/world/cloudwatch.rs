//! CloudWatch, modelled for rollouts: alarm states and `AWS/Lambda` metrics of alias traffic per
//! `ExecutedVersion` (errors, invocations, a p99 `Duration` per minute), in virtual time.

use super::{Call, World};
use aws_sdk_cloudwatch::operation::describe_alarms::{DescribeAlarmsError, DescribeAlarmsOutput};
use aws_sdk_cloudwatch::operation::get_metric_data::{GetMetricDataError, GetMetricDataOutput};
use aws_sdk_cloudwatch::types::{MetricAlarm, MetricDataResult, StateValue};
use aws_smithy_mocks::{MockResponse, MockResponseInterceptor, Rule, RuleMode, mock};
use std::time::{Duration, SystemTime};

/// Errors and invocations of one minute of alias traffic that ran `version`.
#[derive(Debug, Clone, PartialEq)]
pub struct Datapoint {
    pub function: String,
    pub resource: String,
    pub version: String,
    pub at: SystemTime,
    pub errors: f64,
    pub invocations: f64,
    /// That minute's p99 `Duration` (ms), if the test gave one.
    pub p99_ms: Option<f64>,
}

impl World {
    pub fn alarm(&self, name: &str, state: &str) {
        self.lock().alarms.insert(name.into(), state.into());
    }

    /// `errors` of `invocations` for `version` of `function` behind alias `live`, at the world's now.
    pub fn traffic(&self, function: &str, version: u64, errors: f64, invocations: f64) {
        self.datapoint(function, version, errors, invocations, None);
    }

    /// `errors` of `invocations` for `version` of `function` behind alias `live` at the world's
    /// now, with that minute's p99 `Duration` in ms.
    pub fn traffic_p99(
        &self,
        function: &str,
        version: u64,
        errors: f64,
        invocations: f64,
        p99: f64,
    ) {
        self.datapoint(function, version, errors, invocations, Some(p99));
    }

    fn datapoint(
        &self,
        function: &str,
        version: u64,
        errors: f64,
        invocations: f64,
        p99_ms: Option<f64>,
    ) {
        let mut s = self.lock();
        let at = s.t();
        s.metrics.push(Datapoint {
            function: function.into(),
            resource: format!("{function}:live"),
            version: version.to_string(),
            at,
            errors,
            invocations,
            p99_ms,
        });
    }

    /// What the GetMetricData calls asked, one `Metric:version` list per call.
    pub fn metrics_asked(&self) -> Vec<Vec<String>> {
        self.calls()
            .into_iter()
            .filter(|c| c.op == "GetMetricData")
            .map(|c| {
                c.payload
                    .unwrap_or_default()
                    .split(',')
                    .filter(|x| !x.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .collect()
    }

    pub fn cloudwatch_client(&self) -> aws_sdk_cloudwatch::Client {
        let alarms = self.describe_alarms();
        let metrics = self.get_metric_data();
        let interceptor = MockResponseInterceptor::new()
            .rule_mode(RuleMode::MatchAny)
            .with_rule(&alarms)
            .with_rule(&metrics);
        // As the Lambda client: faults over HTTP (a timeout never answers), on virtual time.
        let conf = aws_sdk_cloudwatch::Config::builder()
            .with_test_defaults_v2()
            .region(aws_sdk_cloudwatch::config::Region::new(super::REGION))
            .http_client(super::faults::FaultyHttp::wrap(
                self.lock().timeout_next.clone(),
            ))
            .interceptor(interceptor)
            .time_source(self.time_source())
            .timeout_config(
                aws_sdk_cloudwatch::config::timeout::TimeoutConfig::builder()
                    .operation_attempt_timeout(Duration::from_secs(60))
                    .build(),
            )
            .sleep_impl(self.sleep_impl())
            .stalled_stream_protection(
                aws_sdk_cloudwatch::config::StalledStreamProtectionConfig::disabled(),
            )
            .retry_config(aws_sdk_cloudwatch::config::retry::RetryConfig::disabled())
            .build();
        aws_sdk_cloudwatch::Client::from_conf(conf)
    }

    /// DescribeAlarms: each named alarm the world knows, in its state.
    fn describe_alarms(&self) -> Rule {
        let st = self.state.clone();
        mock!(aws_sdk_cloudwatch::Client::describe_alarms).then_compute_response(
            super::faults::lossy(
                st.clone(),
                move |req: &aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsInput| {
                    let mut s = st.lock().expect("lock");
                    let names = req.alarm_names().to_vec();
                    if let Some(f) = s.begin(Call {
                        op: "DescribeAlarms",
                        function: names.join(","),
                        ..Default::default()
                    }) {
                        return s.faulted(f, DescribeAlarmsError::generic);
                    }
                    let found: Vec<MetricAlarm> = names
                        .iter()
                        .filter_map(|n| {
                            s.alarms.get(n).map(|state| {
                                MetricAlarm::builder()
                                    .alarm_name(n)
                                    .state_value(StateValue::from(state.as_str()))
                                    .build()
                            })
                        })
                        .collect();
                    MockResponse::Output(
                        DescribeAlarmsOutput::builder()
                            .set_metric_alarms(Some(found))
                            .build(),
                    )
                },
            ),
        )
    }

    /// GetMetricData: the world's datapoints of the asked function, alias and version in the window (sums per minute, or the worst minute's p99), checking the query's shape.
    fn get_metric_data(&self) -> Rule {
        let st = self.state.clone();
        mock!(aws_sdk_cloudwatch::Client::get_metric_data).then_compute_response(
            super::faults::lossy(
                st.clone(),
                move |req: &aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataInput| {
                    let mut s = st.lock().expect("lock");
                    let asked = asked(req);
                    if let Some(f) = s.begin(Call {
                        op: "GetMetricData",
                        payload: Some(asked.join(",")),
                        ..Default::default()
                    }) {
                        return s.faulted(f, GetMetricDataError::generic);
                    }
                    let to_time = |t: Option<&aws_sdk_cloudwatch::primitives::DateTime>| {
                        t.map(|t| {
                            SystemTime::UNIX_EPOCH + Duration::from_secs(t.secs().max(0) as u64)
                        })
                    };
                    let (start, end) = (to_time(req.start_time()), to_time(req.end_time()));
                    let mut results = Vec::new();
                    for q in req.metric_data_queries() {
                        let Some(stat) = q.metric_stat() else {
                            continue;
                        };
                        let Some(metric) = stat.metric() else {
                            continue;
                        };
                        assert_eq!(metric.namespace(), Some("AWS/Lambda"));
                        // Sums per minute; a p99 over one period that spans the window.
                        let p99 = metric.metric_name() == Some("Duration");
                        if p99 {
                            assert_eq!(stat.stat(), Some("p99"));
                            assert!(stat.period().is_some_and(|p| p >= 60 && p % 60 == 0));
                        } else {
                            assert_eq!(stat.period(), Some(60));
                            assert_eq!(stat.stat(), Some("Sum"));
                        }
                        let dim = |k: &str| {
                            metric
                                .dimensions()
                                .iter()
                                .find(|d| d.name() == Some(k))
                                .and_then(|d| d.value())
                                .unwrap_or_default()
                                .to_owned()
                        };
                        assert_eq!(metric.dimensions().len(), 3, "exactly the three dimensions");
                        let points = s.metrics.iter().filter(|p| {
                            p.function == dim("FunctionName")
                                && p.resource == dim("Resource")
                                && p.version == dim("ExecutedVersion")
                                && start.is_none_or(|t| p.at >= t)
                                && end.is_none_or(|t| p.at <= t)
                        });
                        // The model keeps one p99 per minute; CloudWatch's p99 over the window
                        // is modelled as the worst minute's (one value, as one period gives).
                        let values: Vec<f64> = if p99 {
                            points
                                .filter_map(|p| p.p99_ms)
                                .reduce(f64::max)
                                .into_iter()
                                .collect()
                        } else {
                            points
                                .map(|p| match metric.metric_name() {
                                    Some("Errors") => p.errors,
                                    _ => p.invocations,
                                })
                                .collect()
                        };
                        results.push(
                            MetricDataResult::builder()
                                .id(q.id().unwrap_or_default())
                                .set_values(Some(values))
                                .build(),
                        );
                    }
                    MockResponse::Output(
                        GetMetricDataOutput::builder()
                            .set_metric_data_results(Some(results))
                            .build(),
                    )
                },
            ),
        )
    }
}

/// What a GetMetricData call asks, as `Metric:version` (the version of its ExecutedVersion
/// dimension), in the order of its queries.
fn asked(req: &aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataInput) -> Vec<String> {
    req.metric_data_queries()
        .iter()
        .filter_map(|q| q.metric_stat()?.metric())
        .map(|m| {
            let v = m
                .dimensions()
                .iter()
                .find(|d| d.name() == Some("ExecutedVersion"))
                .and_then(|d| d.value())
                .unwrap_or_default();
            format!("{}:{v}", m.metric_name().unwrap_or_default())
        })
        .collect()
}
