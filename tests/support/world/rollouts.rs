//! What rollouts use besides Lambda, modelled: EventBridge Scheduler's one-time schedules (which
//! never fire by themselves: a test reads one and invokes the engine with its input, as the
//! scheduler would); CloudWatch is in `cloudwatch.rs`.

use super::{Call, World};
use aws_sdk_scheduler::operation::create_schedule::{CreateScheduleError, CreateScheduleOutput};
use aws_sdk_scheduler::operation::delete_schedule::{DeleteScheduleError, DeleteScheduleOutput};
use aws_sdk_scheduler::operation::list_schedules::{ListSchedulesError, ListSchedulesOutput};
use aws_sdk_scheduler::types::ScheduleSummary;
use aws_smithy_mocks::{MockResponse, MockResponseInterceptor, Rule, RuleMode, mock};
use aws_smithy_types::error::ErrorMetadata;
use std::time::{Duration, SystemTime};

/// A one-time schedule as the deployer created it.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub group: String,
    pub name: String,
    pub expression: String,
    pub timezone: Option<String>,
    pub flexible_off: bool,
    pub delete_after: bool,
    pub target_arn: String,
    pub role_arn: String,
    pub input: String,
}

impl Schedule {
    /// The time in `at(yyyy-mm-ddThh:mm:ss)`, UTC.
    pub fn at(&self) -> SystemTime {
        let inner = self
            .expression
            .strip_prefix("at(")
            .and_then(|s| s.strip_suffix(')'))
            .expect("an at() expression");
        let t = chrono::NaiveDateTime::parse_from_str(inner, "%Y-%m-%dT%H:%M:%S")
            .expect("at() holds a date and time");
        SystemTime::UNIX_EPOCH + Duration::from_secs(t.and_utc().timestamp() as u64)
    }

    /// The payload the scheduler would invoke the deployer with.
    pub fn payload(&self) -> serde_json::Value {
        serde_json::from_str(&self.input).expect("the input is JSON")
    }
}

fn error(code: &str, msg: &str) -> ErrorMetadata {
    ErrorMetadata::builder().code(code).message(msg).build()
}

impl World {
    pub fn schedules(&self) -> Vec<Schedule> {
        self.lock().schedules.values().cloned().collect()
    }

    /// The one pending schedule (a rollout has at most one at a time).
    pub fn only_schedule(&self) -> Schedule {
        let all = self.schedules();
        assert_eq!(all.len(), 1, "one pending schedule: {all:#?}");
        all.into_iter().next().expect("one")
    }

    /// Moves the world's clock to `t` (never backwards).
    pub fn advance_to(&self, t: SystemTime) {
        let now = aws_smithy_async::time::TimeSource::now(&self.time);
        if let Ok(d) = t.duration_since(now) {
            self.time.advance(d);
        }
    }

    pub fn scheduler_client(&self) -> aws_sdk_scheduler::Client {
        let create = self.create_schedule();
        let delete = self.delete_schedule();
        let list = self.list_schedules();
        let interceptor = MockResponseInterceptor::new()
            .rule_mode(RuleMode::MatchAny)
            .with_rule(&create)
            .with_rule(&delete)
            .with_rule(&list);
        // As the Lambda client: faults over HTTP (a timeout never answers), on virtual time.
        let conf = aws_sdk_scheduler::Config::builder()
            .with_test_defaults_v2()
            .region(aws_sdk_scheduler::config::Region::new(super::REGION))
            .http_client(super::faults::FaultyHttp::wrap(
                self.lock().timeout_next.clone(),
            ))
            .interceptor(interceptor)
            .time_source(self.time_source())
            .timeout_config(
                aws_sdk_scheduler::config::timeout::TimeoutConfig::builder()
                    .operation_attempt_timeout(Duration::from_secs(60))
                    .build(),
            )
            .sleep_impl(self.sleep_impl())
            .stalled_stream_protection(
                aws_sdk_scheduler::config::StalledStreamProtectionConfig::disabled(),
            )
            .retry_config(aws_sdk_scheduler::config::retry::RetryConfig::disabled())
            .build();
        aws_sdk_scheduler::Client::from_conf(conf)
    }

    /// CreateSchedule: kept as the deployer sent it; a name taken already is a conflict.
    fn create_schedule(&self) -> Rule {
        let st = self.state.clone();
        mock!(aws_sdk_scheduler::Client::create_schedule).then_compute_response(
            super::faults::lossy(
                st.clone(),
                move |req: &aws_sdk_scheduler::operation::create_schedule::CreateScheduleInput| {
                    let mut s = st.lock().expect("lock");
                    let name = req.name().unwrap_or_default().to_owned();
                    if let Some(f) = s.begin(Call {
                        op: "CreateSchedule",
                        function: name.clone(),
                        payload: req
                            .target()
                            .map(|t| t.input().unwrap_or_default().to_owned()),
                        ..Default::default()
                    }) {
                        return s.faulted(f, CreateScheduleError::generic);
                    }
                    if s.schedules.contains_key(&name) {
                        return MockResponse::Error(CreateScheduleError::generic(error(
                            "ConflictException",
                            "Schedule already exists.",
                        )));
                    }
                    let target = req.target().expect("a target");
                    let schedule = Schedule {
                        group: req.group_name().unwrap_or("default").to_owned(),
                        name: name.clone(),
                        expression: req.schedule_expression().unwrap_or_default().to_owned(),
                        timezone: req.schedule_expression_timezone().map(str::to_owned),
                        flexible_off: req
                            .flexible_time_window()
                            .is_some_and(|w| w.mode().as_str() == "OFF"),
                        delete_after: req
                            .action_after_completion()
                            .is_some_and(|a| a.as_str() == "DELETE"),
                        target_arn: target.arn().to_owned(),
                        role_arn: target.role_arn().to_owned(),
                        input: target.input().unwrap_or_default().to_owned(),
                    };
                    s.schedules.insert(name.clone(), schedule);
                    MockResponse::Output(
                        CreateScheduleOutput::builder()
                            .schedule_arn(format!(
                                "arn:aws:scheduler:eu-west-1:123456789012:schedule/default/{name}"
                            ))
                            .build()
                            .expect("valid output"),
                    )
                },
            ),
        )
    }

    /// DeleteSchedule: gone, or ResourceNotFoundException.
    fn delete_schedule(&self) -> Rule {
        let st = self.state.clone();
        mock!(aws_sdk_scheduler::Client::delete_schedule).then_compute_response(
            super::faults::lossy(
                st.clone(),
                move |req: &aws_sdk_scheduler::operation::delete_schedule::DeleteScheduleInput| {
                    let mut s = st.lock().expect("lock");
                    let name = req.name().unwrap_or_default().to_owned();
                    if let Some(f) = s.begin(Call {
                        op: "DeleteSchedule",
                        function: name.clone(),
                        ..Default::default()
                    }) {
                        return s.faulted(f, DeleteScheduleError::generic);
                    }
                    match s.schedules.remove(&name) {
                        Some(_) => MockResponse::Output(DeleteScheduleOutput::builder().build()),
                        None => MockResponse::Error(DeleteScheduleError::generic(error(
                            "ResourceNotFoundException",
                            "Schedule not found.",
                        ))),
                    }
                },
            ),
        )
    }

    /// ListSchedules: the schedules whose name has the prefix.
    fn list_schedules(&self) -> Rule {
        let st = self.state.clone();
        mock!(aws_sdk_scheduler::Client::list_schedules).then_compute_response(
            super::faults::lossy(
                st.clone(),
                move |req: &aws_sdk_scheduler::operation::list_schedules::ListSchedulesInput| {
                    let mut s = st.lock().expect("lock");
                    let prefix = req.name_prefix().unwrap_or_default().to_owned();
                    if let Some(f) = s.begin(Call {
                        op: "ListSchedules",
                        function: prefix.clone(),
                        ..Default::default()
                    }) {
                        return s.faulted(f, ListSchedulesError::generic);
                    }
                    let summaries: Vec<ScheduleSummary> = s
                        .schedules
                        .values()
                        .filter(|x| x.name.starts_with(&prefix))
                        .map(|x| {
                            ScheduleSummary::builder()
                                .name(&x.name)
                                .group_name(&x.group)
                                .build()
                        })
                        .collect();
                    MockResponse::Output(
                        ListSchedulesOutput::builder()
                            .set_schedules(Some(summaries))
                            .build()
                            .expect("valid output"),
                    )
                },
            ),
        )
    }
}
