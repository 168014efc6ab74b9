//! A small, strict model of the Lambda control plane, served to the real SDK client through
//! aws-smithy-mocks. Unlike stock moto it enforces what the engine relies on: RevisionId and
//! CodeSha256 guards, updates that stay InProgress for a while (in virtual time), Invoke of a
//! qualifier, version numbers that are never reused, aliases that protect their versions.
//! Every call is recorded with the guard values it carried, so tests can assert them exactly.

#![allow(dead_code)]

use aws_sdk_lambda::Client;
use aws_sdk_lambda::config::retry::RetryConfig;
use aws_sdk_lambda::config::{Region, StalledStreamProtectionConfig};
use aws_sdk_lambda::operation::create_alias::{CreateAliasError, CreateAliasOutput};
use aws_sdk_lambda::operation::delete_function::{DeleteFunctionError, DeleteFunctionOutput};
use aws_sdk_lambda::operation::get_alias::{GetAliasError, GetAliasOutput};
use aws_sdk_lambda::operation::get_function::{GetFunctionError, GetFunctionOutput};
use aws_sdk_lambda::operation::invoke::{InvokeError, InvokeOutput};
use aws_sdk_lambda::operation::list_aliases::{ListAliasesError, ListAliasesOutput};
use aws_sdk_lambda::operation::list_versions_by_function::{
    ListVersionsByFunctionError, ListVersionsByFunctionOutput,
};
use aws_sdk_lambda::operation::publish_version::{PublishVersionError, PublishVersionOutput};
use aws_sdk_lambda::operation::update_alias::{UpdateAliasError, UpdateAliasOutput};
use aws_sdk_lambda::operation::update_function_code::{
    UpdateFunctionCodeError, UpdateFunctionCodeOutput,
};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    AliasConfiguration, AliasRoutingConfiguration, FunctionCodeLocation, FunctionConfiguration,
    LastUpdateStatus, PackageType, State as LambdaState,
};
use aws_smithy_async::test_util::{InstantSleep, ManualTimeSource, instant_time_and_sleep};
use aws_smithy_async::time::TimeSource;
use aws_smithy_mocks::{MockResponse, MockResponseInterceptor, Rule, RuleMode, mock};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_types::error::ErrorMetadata;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "eu-west-1";

/// A digest made from one hex character, easy to read in assertions: `digest('a')`.
pub fn digest(c: char) -> String {
    format!("sha256:{}", c.to_string().repeat(64))
}

/// The hex part, which is what Lambda reports as an image function's CodeSha256.
pub fn sha(c: char) -> String {
    c.to_string().repeat(64)
}

pub fn image_uri(repo: &str, c: char) -> String {
    format!(
        "{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{repo}@{}",
        digest(c)
    )
}

/// The code a function or version runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Code {
    pub image_uri: String,
    pub sha: String,
}

impl Code {
    pub fn of(repo: &str, c: char) -> Self {
        Self {
            image_uri: image_uri(repo, c),
            sha: sha(c),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Snapshot {
    pub code: Code,
    pub description: String,
    pub state: LambdaState,
}

#[derive(Debug, Clone)]
pub struct Alias {
    pub version: String,
    pub revision: String,
    pub routing: HashMap<String, f64>,
}

#[derive(Debug, Clone)]
pub struct Func {
    pub latest: Code,
    pub revision: String,
    pub package_type: PackageType,
    pub status: LastUpdateStatus,
    pub status_reason: Option<String>,
    /// While `status` is InProgress: when the update completes, and how.
    pub done_at: Option<SystemTime>,
    pub pending_outcome: LastUpdateStatus,
    pub versions: BTreeMap<u64, Snapshot>,
    /// Never reused, as in AWS (moto reuses numbers after deletions).
    pub next_version: u64,
    pub aliases: HashMap<String, Alias>,
    /// How long each UpdateFunctionCode stays InProgress.
    pub update_takes: Duration,
    /// Published versions come out Pending first, for this long.
    pub version_pending_for: Duration,
    pub version_active_at: HashMap<u64, SystemTime>,
}

/// What Invoke of `$LATEST` returns for an image: the payload and the FunctionError header.
#[derive(Debug, Clone)]
pub struct Answer {
    pub payload: String,
    pub function_error: Option<String>,
    pub log: String,
}

impl Answer {
    pub fn status(code: u16) -> Self {
        Self {
            payload: format!(r#"{{"statusCode":{code},"body":"status {code}"}}"#),
            function_error: None,
            log: format!("START RequestId: 1\nhandled with {code}\nEND RequestId: 1\n"),
        }
    }
}

/// A recorded API call with the values that matter for the guards.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Call {
    pub op: &'static str,
    pub function: String,
    pub qualifier: Option<String>,
    pub image_uri: Option<String>,
    pub revision_id: Option<String>,
    pub code_sha256: Option<String>,
    pub version: Option<String>,
    pub description: Option<String>,
    pub payload: Option<String>,
    pub at: Option<SystemTime>,
}

/// An error to return instead of doing the call, once, on the `nth` call of `op` (1-based).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    Conflict,
    Precondition,
    ServiceError,
    NotFound,
    AccessDenied,
    /// HTTP 429 TooManyRequestsException, as the SDK sees it once its retries are used up.
    Throttled,
    /// HTTP 502 with an HTML body (a proxy error): no modeled error at all.
    BadGateway,
    /// HTTP 200 with a body that is not JSON.
    Malformed,
    /// No answer: the SDK's attempt timeout fires.
    Timeout,
}

impl Fault {
    pub const ALL: [Fault; 8] = [
        Fault::Throttled,
        Fault::ServiceError,
        Fault::BadGateway,
        Fault::Timeout,
        Fault::Conflict,
        Fault::Precondition,
        Fault::Malformed,
        Fault::AccessDenied,
    ];

    /// The raw HTTP answer for faults that are not modeled errors.
    fn http(self) -> Option<HttpResponse> {
        let (status, error_type, body) = match self {
            Fault::Throttled => (
                429,
                Some("TooManyRequestsException"),
                r#"{"Type":"User","message":"Rate exceeded","Reason":"CallerRateLimitExceeded"}"#,
            ),
            Fault::BadGateway => (502, None, "<html><body>502 Bad Gateway</body></html>"),
            Fault::Malformed => (200, None, "{\"Configuration\": [truncated"),
            // Answered with an empty 200 that the connector never delivers (see FaultyHttp).
            Fault::Timeout => (200, None, "{}"),
            _ => return None,
        };
        let mut resp = HttpResponse::new(
            aws_smithy_runtime_api::http::StatusCode::try_from(status).expect("valid status"),
            aws_smithy_types::body::SdkBody::from(body),
        );
        if let Some(t) = error_type {
            resp.headers_mut().insert("x-amzn-errortype", t);
        }
        resp.headers_mut()
            .insert("content-type", "application/json");
        Some(resp)
    }
}

/// Hooks run just before a call is served: e.g. "someone moves the alias during our deploy".
type Hook = Box<dyn FnMut(&mut WorldState) + Send>;

pub struct WorldState {
    /// Set by a Timeout fault: the connector never answers the request being served.
    pub timeout_next: Arc<std::sync::atomic::AtomicBool>,
    pub functions: HashMap<String, Func>,
    /// ECR: repository → images (digest, tags).
    pub images: HashMap<String, Vec<(String, Vec<String>)>>,
    pub calls: Vec<Call>,
    pub answers: HashMap<String, Answer>,
    faults: Vec<(&'static str, usize, Fault)>,
    hooks: Vec<(&'static str, usize, Hook)>,
    pub now: ManualTimeSource,
    revision_counter: u64,
}

pub const MUTATING: &[&str] = &[
    "UpdateFunctionCode",
    "PublishVersion",
    "UpdateAlias",
    "CreateAlias",
    "DeleteFunction",
];

impl WorldState {
    fn next_revision(&mut self) -> String {
        self.revision_counter += 1;
        format!("rev-{}", self.revision_counter)
    }

    fn t(&self) -> SystemTime {
        self.now.now()
    }

    /// Settles updates and versions whose time has come.
    fn tick(&mut self) {
        let now = self.t();
        let mut finished = Vec::new();
        for (name, f) in self.functions.iter_mut() {
            if f.status == LastUpdateStatus::InProgress && f.done_at.is_some_and(|d| now >= d) {
                finished.push(name.clone());
            }
        }
        for name in finished {
            let rev = self.next_revision();
            let f = self.functions.get_mut(&name).expect("listed above");
            f.status = f.pending_outcome.clone();
            if f.status == LastUpdateStatus::Failed {
                f.status_reason = Some("ImageAccessDenied: Lambda could not pull the image".into());
            }
            f.done_at = None;
            // Lambda gives the function a new RevisionId when an update completes.
            f.revision = rev;
        }
        for f in self.functions.values_mut() {
            let done: Vec<u64> = f
                .version_active_at
                .iter()
                .filter(|(_, at)| now >= **at)
                .map(|(v, _)| *v)
                .collect();
            for v in done {
                f.version_active_at.remove(&v);
                if let Some(s) = f.versions.get_mut(&v) {
                    s.state = LambdaState::Active;
                }
            }
        }
    }

    /// Records the call, runs hooks, and returns the fault to inject, if any.
    fn begin(&mut self, mut call: Call) -> Option<Fault> {
        call.at = Some(self.t());
        let op = call.op;
        self.calls.push(call);
        let n = self.calls.iter().filter(|c| c.op == op).count();
        let mut hooks = std::mem::take(&mut self.hooks);
        for (hop, hn, hook) in hooks.iter_mut() {
            if *hop == op && *hn == n {
                hook(self);
            }
        }
        self.hooks = hooks;
        self.tick();
        self.faults
            .iter()
            .find(|(fop, fnth, _)| *fop == op && *fnth == n)
            .map(|(_, _, f)| *f)
    }

    pub fn func(&mut self, name: &str) -> Option<&mut Func> {
        let name = name.rsplit(':').next().unwrap_or(name).to_owned();
        self.functions.get_mut(&name)
    }
}

#[derive(Clone)]
pub struct World {
    pub state: Arc<Mutex<WorldState>>,
    pub time: ManualTimeSource,
    /// Sleeps end at once and move `time` forward by their length: minutes pass in microseconds.
    pub sleep: InstantSleep,
}

/// Builds a modeled error `Op::Variant(Variant{message, meta.code})`.
macro_rules! err {
    ($op:ident, $variant:ident, $msg:expr) => {{
        let msg: String = $msg.into();
        $op::$variant(
            aws_sdk_lambda::types::error::$variant::builder()
                .message(msg.clone())
                .meta(
                    ErrorMetadata::builder()
                        .code(stringify!($variant))
                        .message(msg)
                        .build(),
                )
                .build(),
        )
    }};
}

/// The fault as the operation's answer: a raw HTTP response for transport-level faults (the SDK
/// parses it for real), else the operation's modeled error.
macro_rules! fault_resp {
    ($op:ident, $fault:expr, $state:expr) => {{
        let fault: Fault = $fault;
        if fault == Fault::Timeout {
            $state
                .timeout_next
                .store(true, std::sync::atomic::Ordering::SeqCst);
        }
        match fault.http() {
            Some(resp) => MockResponse::Http(resp),
            None => MockResponse::Error(fault_err!($op, fault)),
        }
    }};
}

/// The fault as the operation's error, carrying the AWS error code the engine classifies by.
macro_rules! fault_err {
    ($op:ident, $fault:expr) => {{
        let (code, msg) = match $fault {
            Fault::Conflict => ("ResourceConflictException", "The operation cannot be performed at this time. An update is in progress for resource (injected)"),
            Fault::Precondition => ("PreconditionFailedException", "The Revision Id provided does not match the latest Revision Id. (injected)"),
            Fault::ServiceError => ("ServiceException", "internal failure (injected)"),
            Fault::NotFound => ("ResourceNotFoundException", "Function not found (injected)"),
            Fault::AccessDenied => ("AccessDeniedException", "User is not authorized to perform this action (injected)"),
            Fault::Throttled | Fault::BadGateway | Fault::Malformed | Fault::Timeout => unreachable!("answered over HTTP"),
        };
        $op::generic(ErrorMetadata::builder().code(code).message(msg).build())
    }};
}

fn precondition<E>(make: impl FnOnce(ErrorMetadata) -> E) -> E {
    make(
        ErrorMetadata::builder()
            .code("PreconditionFailedException")
            .message("The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
            .build(),
    )
}

fn config_of(
    name: &str,
    version: &str,
    code: &Code,
    revision: &str,
    description: &str,
) -> aws_sdk_lambda::types::builders::FunctionConfigurationBuilder {
    FunctionConfiguration::builder()
        .function_name(name)
        .function_arn(format!(
            "arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}:{version}"
        ))
        .version(version)
        .code_sha256(&code.sha)
        .revision_id(revision)
        .package_type(PackageType::Image)
        .description(description)
}

impl World {
    pub fn new() -> Self {
        let (time, sleep) = instant_time_and_sleep(UNIX_EPOCH + Duration::from_secs(1_800_000_000));
        let state = WorldState {
            timeout_next: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            functions: HashMap::new(),
            images: HashMap::new(),
            calls: Vec::new(),
            answers: HashMap::new(),
            faults: Vec::new(),
            hooks: Vec::new(),
            now: time.clone(),
            revision_counter: 0,
        };
        Self {
            state: Arc::new(Mutex::new(state)),
            time,
            sleep,
        }
    }

    pub fn lock(&self) -> std::sync::MutexGuard<'_, WorldState> {
        self.state.lock().expect("world lock")
    }

    /// A function whose `$LATEST` runs `latest`, with no versions and no alias.
    pub fn add_function(&self, name: &str, latest: Code) -> &Self {
        let mut s = self.lock();
        let revision = s.next_revision();
        s.functions.insert(
            name.to_owned(),
            Func {
                latest,
                revision,
                package_type: PackageType::Image,
                status: LastUpdateStatus::Successful,
                status_reason: None,
                done_at: None,
                pending_outcome: LastUpdateStatus::Successful,
                versions: BTreeMap::new(),
                next_version: 1,
                aliases: HashMap::new(),
                update_takes: Duration::from_secs(3),
                version_pending_for: Duration::ZERO,
                version_active_at: HashMap::new(),
            },
        );
        drop(s);
        self
    }

    /// Publishes a version of the function's current `$LATEST` directly (setup, not a recorded call).
    pub fn publish(&self, name: &str, description: &str) -> u64 {
        let mut s = self.lock();
        let f = s.func(name).expect("function exists");
        let v = f.next_version;
        f.next_version += 1;
        let code = f.latest.clone();
        f.versions.insert(
            v,
            Snapshot {
                code,
                description: description.into(),
                state: LambdaState::Active,
            },
        );
        v
    }

    pub fn set_alias(&self, name: &str, alias: &str, version: &str) {
        let mut s = self.lock();
        let rev = s.next_revision();
        let f = s.func(name).expect("function exists");
        f.aliases.insert(
            alias.into(),
            Alias {
                version: version.into(),
                revision: rev,
                routing: HashMap::new(),
            },
        );
    }

    /// The usual starting point: `$LATEST` and version 1 run image `c`, alias `live` → 1.
    pub fn live_function(&self, name: &str, repo: &str, c: char) -> &Self {
        self.add_function(name, Code::of(repo, c));
        let v = self.publish(name, "initial");
        self.set_alias(name, "live", &v.to_string());
        self
    }

    /// An image in ECR (a push), optionally tagged; a tag moves from any earlier image.
    pub fn ecr_image(&self, repo: &str, c: char, tag: Option<&str>) {
        let mut s = self.lock();
        let images = s.images.entry(repo.to_owned()).or_default();
        if let Some(t) = tag {
            for (_, tags) in images.iter_mut() {
                tags.retain(|x| x != t);
            }
        }
        match images.iter_mut().find(|(d, _)| *d == digest(c)) {
            Some((_, tags)) => tags.extend(tag.map(str::to_owned)),
            None => images.push((digest(c), tag.map(str::to_owned).into_iter().collect())),
        }
    }

    /// What a lifecycle rule does.
    pub fn delete_ecr_image(&self, repo: &str, c: char) {
        let mut s = self.lock();
        if let Some(images) = s.images.get_mut(repo) {
            images.retain(|(d, _)| *d != digest(c));
        }
    }

    /// An ECR client that answers DescribeImages from this world.
    pub fn ecr_client(&self) -> aws_sdk_ecr::Client {
        use aws_sdk_ecr::operation::describe_images::{DescribeImagesError, DescribeImagesOutput};
        use aws_sdk_ecr::types::ImageDetail;
        let st = self.state.clone();
        let rule = mock!(aws_sdk_ecr::Client::describe_images).then_compute_response(move |req| {
            let mut s = st.lock().expect("lock");
            let repo = req.repository_name().unwrap_or_default().to_owned();
            let ids = req.image_ids().to_vec();
            let detail = ids
                .first()
                .map(|i| format!("{:?}/{:?}", i.image_digest(), i.image_tag()));
            s.calls.push(Call {
                op: "DescribeImages",
                function: repo.clone(),
                qualifier: detail,
                ..Default::default()
            });
            let Some(images) = s.images.get(&repo) else {
                return MockResponse::Error(DescribeImagesError::generic(
                    ErrorMetadata::builder()
                        .code("RepositoryNotFoundException")
                        .message(format!("repository {repo} not found"))
                        .build(),
                ));
            };
            let mut out = DescribeImagesOutput::builder();
            for id in &ids {
                let hit = images.iter().find(|(d, tags)| {
                    id.image_digest().is_some_and(|x| x == d)
                        || id.image_tag().is_some_and(|t| tags.iter().any(|x| x == t))
                });
                match hit {
                    Some((d, tags)) => {
                        out = out.image_details(
                            ImageDetail::builder()
                                .registry_id(ACCOUNT)
                                .repository_name(&repo)
                                .image_digest(d)
                                .set_image_tags(Some(tags.clone()))
                                .build(),
                        );
                    }
                    None => {
                        return MockResponse::Error(DescribeImagesError::generic(
                            ErrorMetadata::builder()
                                .code("ImageNotFoundException")
                                .message("The image requested does not exist")
                                .build(),
                        ));
                    }
                }
            }
            MockResponse::Output(out.build())
        });
        let interceptor = MockResponseInterceptor::new()
            .rule_mode(RuleMode::MatchAny)
            .with_rule(&rule);
        let conf = aws_sdk_ecr::Config::builder()
            .with_test_defaults_v2()
            .region(aws_sdk_ecr::config::Region::new(REGION))
            .http_client(aws_smithy_mocks::create_mock_http_client())
            .interceptor(interceptor)
            .retry_config(aws_sdk_ecr::config::retry::RetryConfig::disabled())
            .build();
        aws_sdk_ecr::Client::from_conf(conf)
    }

    pub fn answer(&self, c: char, a: Answer) {
        self.lock().answers.insert(sha(c), a);
    }

    pub fn fault(&self, op: &'static str, nth: usize, fault: Fault) {
        self.lock().faults.push((op, nth, fault));
    }

    pub fn hook(
        &self,
        op: &'static str,
        nth: usize,
        f: impl FnMut(&mut WorldState) + Send + 'static,
    ) {
        self.lock().hooks.push((op, nth, Box::new(f)));
    }

    pub fn with_func<T>(&self, name: &str, f: impl FnOnce(&mut Func) -> T) -> T {
        let mut s = self.lock();
        f(s.func(name).expect("function exists"))
    }

    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// How many calls of `op` were made.
    pub fn count(&self, op: &str) -> usize {
        self.lock().calls.iter().filter(|c| c.op == op).count()
    }

    pub fn ops(&self) -> Vec<&'static str> {
        self.lock().calls.iter().map(|c| c.op).collect()
    }

    /// Operations in order, with consecutive GetFunction polls collapsed to one entry.
    pub fn ops_collapsed(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for op in self.ops() {
            if op == "GetFunction" && out.last() == Some(&"GetFunction") {
                continue;
            }
            out.push(op);
        }
        out
    }

    pub fn mutating_calls(&self) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| MUTATING.contains(&c.op))
            .collect()
    }

    pub fn alias_version(&self, name: &str, alias: &str) -> Option<String> {
        self.with_func(name, |f| f.aliases.get(alias).map(|a| a.version.clone()))
    }

    pub fn latest_image(&self, name: &str) -> String {
        self.with_func(name, |f| f.latest.image_uri.clone())
    }

    pub fn versions(&self, name: &str) -> Vec<u64> {
        self.with_func(name, |f| f.versions.keys().copied().collect())
    }

    pub fn version_description(&self, name: &str, v: u64) -> String {
        self.with_func(name, |f| f.versions[&v].description.clone())
    }

    /// A Lambda client that talks to this world, on virtual time, with SDK retries off so that
    /// every injected fault reaches the engine exactly once.
    pub fn client(&self) -> Client {
        self.client_with(Vec::new(), RetryConfig::disabled())
    }

    /// A client with `before` rules consulted ahead of the world (MatchAny: the first rule with a
    /// response left wins) and the given retry policy, for tests of the SDK's own retries.
    pub fn client_with(&self, before: Vec<Rule>, retry: RetryConfig) -> Client {
        let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
        for rule in before.iter().chain(self.rules().iter()) {
            interceptor = interceptor.with_rule(rule);
        }
        let conf = aws_sdk_lambda::Config::builder()
            .with_test_defaults_v2()
            .region(Region::new(REGION))
            .http_client(FaultyHttp::wrap(self.lock().timeout_next.clone()))
            .interceptor(interceptor)
            .time_source(self.time.clone())
            // Needed by the Timeout fault; answers that arrive are ready at once and always win.
            .timeout_config(
                aws_sdk_lambda::config::timeout::TimeoutConfig::builder()
                    .operation_attempt_timeout(Duration::from_secs(60))
                    .build(),
            )
            .sleep_impl(aws_smithy_async::rt::sleep::SharedAsyncSleep::new(
                YieldingSleep(self.sleep.clone()),
            ))
            .retry_config(retry)
            .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
            .build();
        Client::from_conf(conf)
    }

    fn rules(&self) -> Vec<Rule> {
        vec![
            self.get_alias(),
            self.get_function(),
            self.update_function_code(),
            self.invoke(),
            self.publish_version(),
            self.update_alias(),
            self.create_alias(),
            self.list_versions(),
            self.list_aliases(),
            self.delete_function(),
        ]
    }

    fn get_alias(&self) -> Rule {
        let st = self.state.clone();
        mock!(Client::get_alias).then_compute_response(move |req| {
            let mut s = st.lock().expect("lock");
            let function = req.function_name().unwrap_or_default().to_owned();
            let alias = req.name().unwrap_or_default().to_owned();
            if let Some(f) = s.begin(Call { op: "GetAlias", function: function.clone(), qualifier: Some(alias.clone()), ..Default::default() }) {
                return fault_resp!(GetAliasError, f, s);
            }
            let Some(func) = s.func(&function) else {
                return MockResponse::Error(err!(GetAliasError, ResourceNotFoundException, format!("Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}")));
            };
            match func.aliases.get(&alias) {
                None => MockResponse::Error(err!(GetAliasError, ResourceNotFoundException, format!("Alias not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}:{alias}"))),
                Some(a) => {
                    let mut b = GetAliasOutput::builder().name(&alias).function_version(&a.version).revision_id(&a.revision);
                    if !a.routing.is_empty() {
                        b = b.routing_config(AliasRoutingConfiguration::builder().set_additional_version_weights(Some(a.routing.clone())).build());
                    }
                    MockResponse::Output(b.build())
                }
            }
        })
    }

    fn get_function(&self) -> Rule {
        let st = self.state.clone();
        mock!(Client::get_function).then_compute_response(move |req| {
            let mut s = st.lock().expect("lock");
            let function = req.function_name().unwrap_or_default().to_owned();
            let qualifier = req.qualifier().map(str::to_owned);
            if let Some(f) = s.begin(Call {
                op: "GetFunction",
                function: function.clone(),
                qualifier: qualifier.clone(),
                ..Default::default()
            }) {
                return fault_resp!(GetFunctionError, f, s);
            }
            let Some(func) = s.func(&function) else {
                return MockResponse::Error(err!(
                    GetFunctionError,
                    ResourceNotFoundException,
                    format!("Function not found: {function}")
                ));
            };
            let q = qualifier.unwrap_or_else(|| "$LATEST".into());
            let name = function.rsplit(':').next().unwrap_or(&function).to_owned();
            let (conf, code) = if q == "$LATEST" {
                let mut c = config_of(&name, "$LATEST", &func.latest, &func.revision, "")
                    .package_type(func.package_type.clone())
                    .state(LambdaState::Active)
                    .last_update_status(func.status.clone());
                if let Some(r) = &func.status_reason {
                    c = c.last_update_status_reason(r);
                }
                (c.build(), func.latest.clone())
            } else if let Some(snap) = q.parse::<u64>().ok().and_then(|v| func.versions.get(&v)) {
                let c = config_of(&name, &q, &snap.code, "rev-version", &snap.description)
                    .state(snap.state.clone())
                    .last_update_status(LastUpdateStatus::Successful)
                    .build();
                (c, snap.code.clone())
            } else if let Some(a) = func.aliases.get(&q) {
                let v: u64 = a.version.parse().unwrap_or(0);
                let snap = func
                    .versions
                    .get(&v)
                    .cloned()
                    .expect("alias points to a version");
                let c = config_of(
                    &name,
                    &a.version,
                    &snap.code,
                    "rev-version",
                    &snap.description,
                )
                .state(LambdaState::Active)
                .last_update_status(LastUpdateStatus::Successful)
                .build();
                (c, snap.code)
            } else {
                return MockResponse::Error(err!(
                    GetFunctionError,
                    ResourceNotFoundException,
                    format!("Function not found: {function}:{q}")
                ));
            };
            let loc = FunctionCodeLocation::builder()
                .repository_type("ECR")
                .image_uri(&code.image_uri)
                .resolved_image_uri(&code.image_uri)
                .build();
            MockResponse::Output(
                GetFunctionOutput::builder()
                    .configuration(conf)
                    .code(loc)
                    .build(),
            )
        })
    }

    fn update_function_code(&self) -> Rule {
        let st = self.state.clone();
        mock!(Client::update_function_code).then_compute_response(move |req| {
            let mut s = st.lock().expect("lock");
            let function = req.function_name().unwrap_or_default().to_owned();
            let call = Call {
                op: "UpdateFunctionCode",
                function: function.clone(),
                image_uri: req.image_uri().map(str::to_owned),
                revision_id: req.revision_id().map(str::to_owned),
                ..Default::default()
            };
            if let Some(f) = s.begin(call) {
                return fault_resp!(UpdateFunctionCodeError, f, s);
            }
            let now = s.t();
            let rev = s.next_revision();
            let Some(func) = s.func(&function) else {
                return MockResponse::Error(err!(UpdateFunctionCodeError, ResourceNotFoundException, "Function not found"));
            };
            if func.status == LastUpdateStatus::InProgress {
                return MockResponse::Error(err!(UpdateFunctionCodeError, ResourceConflictException, "The operation cannot be performed at this time. An update is in progress for resource"));
            }
            if req.revision_id().is_some_and(|r| r != func.revision) {
                return MockResponse::Error(precondition(UpdateFunctionCodeError::generic));
            }
            let Some(uri) = req.image_uri() else {
                return MockResponse::Error(err!(UpdateFunctionCodeError, InvalidParameterValueException, "ImageUri is required"));
            };
            let hex = uri.rsplit_once("@sha256:").map(|(_, h)| h.to_owned()).expect("tests deploy by digest");
            func.latest = Code { image_uri: uri.to_owned(), sha: hex };
            func.status = LastUpdateStatus::InProgress;
            func.status_reason = None;
            func.done_at = Some(now + func.update_takes);
            func.revision = rev.clone();
            let name = function.rsplit(':').next().unwrap_or(&function).to_owned();
            let out = UpdateFunctionCodeOutput::builder()
                .function_name(name)
                .version("$LATEST")
                .code_sha256(&func.latest.sha)
                .revision_id(rev)
                .last_update_status(LastUpdateStatus::InProgress)
                .build();
            MockResponse::Output(out)
        })
    }

    fn invoke(&self) -> Rule {
        let st = self.state.clone();
        mock!(Client::invoke).then_compute_response(move |req| {
            let mut s = st.lock().expect("lock");
            let function = req.function_name().unwrap_or_default().to_owned();
            let payload = req
                .payload()
                .map(|b| String::from_utf8_lossy(b.as_ref()).into_owned());
            let call = Call {
                op: "Invoke",
                function: function.clone(),
                qualifier: req.qualifier().map(str::to_owned),
                payload,
                ..Default::default()
            };
            if let Some(f) = s.begin(call) {
                return fault_resp!(InvokeError, f, s);
            }
            let q = req.qualifier().unwrap_or("$LATEST").to_owned();
            let Some(func) = s.func(&function) else {
                return MockResponse::Error(err!(
                    InvokeError,
                    ResourceNotFoundException,
                    "Function not found"
                ));
            };
            let sha = if q == "$LATEST" {
                if func.status == LastUpdateStatus::InProgress {
                    return MockResponse::Error(err!(
                        InvokeError,
                        ResourceConflictException,
                        "The function is being updated"
                    ));
                }
                func.latest.sha.clone()
            } else {
                let v: u64 = q.parse().expect("tests invoke $LATEST or a version");
                func.versions[&v].code.sha.clone()
            };
            let a = s
                .answers
                .get(&sha)
                .cloned()
                .unwrap_or_else(|| Answer::status(200));
            let mut out = InvokeOutput::builder()
                .status_code(200)
                .executed_version(q)
                .payload(Blob::new(a.payload.into_bytes()))
                .log_result(aws_smithy_types::base64::encode(a.log.as_bytes()));
            if let Some(fe) = a.function_error {
                out = out.function_error(fe);
            }
            MockResponse::Output(out.build())
        })
    }

    fn publish_version(&self) -> Rule {
        let st = self.state.clone();
        mock!(Client::publish_version).then_compute_response(move |req| {
            let mut s = st.lock().expect("lock");
            let function = req.function_name().unwrap_or_default().to_owned();
            let call = Call {
                op: "PublishVersion",
                function: function.clone(),
                revision_id: req.revision_id().map(str::to_owned),
                code_sha256: req.code_sha256().map(str::to_owned),
                description: req.description().map(str::to_owned),
                ..Default::default()
            };
            if let Some(f) = s.begin(call) {
                return fault_resp!(PublishVersionError, f, s);
            }
            let now = s.t();
            let Some(func) = s.func(&function) else {
                return MockResponse::Error(err!(PublishVersionError, ResourceNotFoundException, "Function not found"));
            };
            if func.status == LastUpdateStatus::InProgress {
                return MockResponse::Error(err!(PublishVersionError, ResourceConflictException, "An update is in progress"));
            }
            if let Some(sha) = req.code_sha256().filter(|sha| *sha != func.latest.sha) {
                return MockResponse::Error(err!(PublishVersionError, InvalidParameterValueException, format!("CodeSHA256 ({sha}) is different from current CodeSHA256 in $LATEST ({}). Please try again with the current CodeSHA256.", func.latest.sha)));
            }
            if req.revision_id().is_some_and(|r| r != func.revision) {
                return MockResponse::Error(precondition(PublishVersionError::generic));
            }
            // As in AWS: unchanged code since the last version publishes nothing new.
            let last = func.versions.iter().next_back().map(|(v, snap)| (*v, snap.clone()));
            let (v, snap) = match last {
                Some((v, snap)) if snap.code == func.latest => (v, snap),
                _ => {
                    let v = func.next_version;
                    func.next_version += 1;
                    let pending = !func.version_pending_for.is_zero();
                    let snap = Snapshot {
                        code: func.latest.clone(),
                        description: req.description().unwrap_or_default().to_owned(),
                        state: if pending { LambdaState::Pending } else { LambdaState::Active },
                    };
                    if pending {
                        func.version_active_at.insert(v, now + func.version_pending_for);
                    }
                    func.versions.insert(v, snap.clone());
                    (v, snap)
                }
            };
            let name = function.rsplit(':').next().unwrap_or(&function).to_owned();
            let out = PublishVersionOutput::builder()
                .function_name(name)
                .version(v.to_string())
                .code_sha256(&snap.code.sha)
                .description(&snap.description)
                .state(snap.state.clone())
                .build();
            MockResponse::Output(out)
        })
    }

    fn update_alias(&self) -> Rule {
        let st = self.state.clone();
        mock!(Client::update_alias).then_compute_response(move |req| {
            let mut s = st.lock().expect("lock");
            let function = req.function_name().unwrap_or_default().to_owned();
            let name = req.name().unwrap_or_default().to_owned();
            let call = Call {
                op: "UpdateAlias",
                function: function.clone(),
                qualifier: Some(name.clone()),
                version: req.function_version().map(str::to_owned),
                revision_id: req.revision_id().map(str::to_owned),
                ..Default::default()
            };
            if let Some(f) = s.begin(call) {
                return fault_resp!(UpdateAliasError, f, s);
            }
            let rev = s.next_revision();
            let Some(func) = s.func(&function) else {
                return MockResponse::Error(err!(
                    UpdateAliasError,
                    ResourceNotFoundException,
                    "Function not found"
                ));
            };
            let versions: Vec<u64> = func.versions.keys().copied().collect();
            let Some(a) = func.aliases.get_mut(&name) else {
                return MockResponse::Error(err!(
                    UpdateAliasError,
                    ResourceNotFoundException,
                    "Alias not found"
                ));
            };
            if req.revision_id().is_some_and(|r| r != a.revision) {
                return MockResponse::Error(precondition(UpdateAliasError::generic));
            }
            if let Some(v) = req.function_version() {
                if !versions.contains(&v.parse().unwrap_or(0)) {
                    return MockResponse::Error(err!(
                        UpdateAliasError,
                        ResourceNotFoundException,
                        format!("Function not found: version {v}")
                    ));
                }
                a.version = v.to_owned();
            }
            if let Some(r) = req.routing_config() {
                a.routing = r.additional_version_weights().cloned().unwrap_or_default();
            }
            a.revision = rev.clone();
            MockResponse::Output(
                UpdateAliasOutput::builder()
                    .name(name)
                    .function_version(&a.version)
                    .revision_id(rev)
                    .build(),
            )
        })
    }

    fn create_alias(&self) -> Rule {
        let st = self.state.clone();
        mock!(Client::create_alias).then_compute_response(move |req| {
            let mut s = st.lock().expect("lock");
            let function = req.function_name().unwrap_or_default().to_owned();
            let name = req.name().unwrap_or_default().to_owned();
            let call = Call {
                op: "CreateAlias",
                function: function.clone(),
                qualifier: Some(name.clone()),
                version: req.function_version().map(str::to_owned),
                ..Default::default()
            };
            if let Some(f) = s.begin(call) {
                return fault_resp!(CreateAliasError, f, s);
            }
            let rev = s.next_revision();
            let Some(func) = s.func(&function) else {
                return MockResponse::Error(err!(
                    CreateAliasError,
                    ResourceNotFoundException,
                    "Function not found"
                ));
            };
            if func.aliases.contains_key(&name) {
                return MockResponse::Error(err!(
                    CreateAliasError,
                    ResourceConflictException,
                    format!("Alias already exists: {name}")
                ));
            }
            let v = req.function_version().unwrap_or_default().to_owned();
            func.aliases.insert(
                name.clone(),
                Alias {
                    version: v.clone(),
                    revision: rev.clone(),
                    routing: HashMap::new(),
                },
            );
            MockResponse::Output(
                CreateAliasOutput::builder()
                    .name(name)
                    .function_version(v)
                    .revision_id(rev)
                    .build(),
            )
        })
    }

    fn list_versions(&self) -> Rule {
        let st = self.state.clone();
        mock!(Client::list_versions_by_function).then_compute_response(move |req| {
            let mut s = st.lock().expect("lock");
            let function = req.function_name().unwrap_or_default().to_owned();
            if let Some(f) = s.begin(Call {
                op: "ListVersionsByFunction",
                function: function.clone(),
                ..Default::default()
            }) {
                return fault_resp!(ListVersionsByFunctionError, f, s);
            }
            let func = s.func(&function).expect("function exists").clone();
            let name = function.rsplit(':').next().unwrap_or(&function).to_owned();
            let mut out = ListVersionsByFunctionOutput::builder()
                .versions(config_of(&name, "$LATEST", &func.latest, &func.revision, "").build());
            for (v, snap) in &func.versions {
                out = out.versions(
                    config_of(
                        &name,
                        &v.to_string(),
                        &snap.code,
                        "rev-version",
                        &snap.description,
                    )
                    .build(),
                );
            }
            MockResponse::Output(out.build())
        })
    }

    fn list_aliases(&self) -> Rule {
        let st = self.state.clone();
        mock!(Client::list_aliases).then_compute_response(move |req| {
            let mut s = st.lock().expect("lock");
            let function = req.function_name().unwrap_or_default().to_owned();
            if let Some(f) = s.begin(Call {
                op: "ListAliases",
                function: function.clone(),
                ..Default::default()
            }) {
                return fault_resp!(ListAliasesError, f, s);
            }
            let func = s.func(&function).expect("function exists").clone();
            let mut out = ListAliasesOutput::builder();
            for (name, a) in &func.aliases {
                let mut c = AliasConfiguration::builder()
                    .name(name)
                    .function_version(&a.version)
                    .revision_id(&a.revision);
                if !a.routing.is_empty() {
                    c = c.routing_config(
                        AliasRoutingConfiguration::builder()
                            .set_additional_version_weights(Some(a.routing.clone()))
                            .build(),
                    );
                }
                out = out.aliases(c.build());
            }
            MockResponse::Output(out.build())
        })
    }

    fn delete_function(&self) -> Rule {
        let st = self.state.clone();
        mock!(Client::delete_function).then_compute_response(move |req| {
            let mut s = st.lock().expect("lock");
            let function = req.function_name().unwrap_or_default().to_owned();
            let q = req.qualifier().map(str::to_owned);
            if let Some(f) = s.begin(Call {
                op: "DeleteFunction",
                function: function.clone(),
                qualifier: q.clone(),
                ..Default::default()
            }) {
                return fault_resp!(DeleteFunctionError, f, s);
            }
            let q = q.expect("the engine must never delete a whole function");
            let func = s.func(&function).expect("function exists");
            let v: u64 = q.parse().expect("only numbered versions are deleted");
            if func
                .aliases
                .values()
                .any(|a| a.version == q || a.routing.contains_key(&q))
            {
                return MockResponse::Error(err!(
                    DeleteFunctionError,
                    ResourceConflictException,
                    format!(
                        "Unable to delete version because the following aliases reference it: {q}"
                    )
                ));
            }
            func.versions.remove(&v);
            MockResponse::Output(DeleteFunctionOutput::builder().build())
        })
    }
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

/// Instant sleep that still yields to other tasks, so that functions deployed side by side really
/// interleave. (Concurrent sleeps add up on the shared virtual clock; only the concurrency test
/// runs several functions at once.)
#[derive(Debug, Clone)]
struct YieldingSleep(InstantSleep);

impl aws_smithy_async::rt::sleep::AsyncSleep for YieldingSleep {
    fn sleep(&self, duration: Duration) -> aws_smithy_async::rt::sleep::Sleep {
        let inner = self.0.sleep(duration);
        aws_smithy_async::rt::sleep::Sleep::new(async move {
            inner.await;
            tokio::task::yield_now().await;
        })
    }
}

/// The mock HTTP client, except that a request marked by a Timeout fault is never answered.
#[derive(Debug, Clone)]
struct FaultyHttp {
    inner: aws_smithy_runtime_api::client::http::SharedHttpClient,
    timeout_next: Arc<std::sync::atomic::AtomicBool>,
}

impl FaultyHttp {
    fn wrap(
        timeout_next: Arc<std::sync::atomic::AtomicBool>,
    ) -> aws_smithy_runtime_api::client::http::SharedHttpClient {
        aws_smithy_runtime_api::client::http::SharedHttpClient::new(Self {
            inner: aws_smithy_mocks::create_mock_http_client(),
            timeout_next,
        })
    }
}

#[derive(Debug)]
struct FaultyConnector {
    inner: aws_smithy_runtime_api::client::http::SharedHttpConnector,
    timeout_next: Arc<std::sync::atomic::AtomicBool>,
}

impl aws_smithy_runtime_api::client::http::HttpClient for FaultyHttp {
    fn http_connector(
        &self,
        settings: &aws_smithy_runtime_api::client::http::HttpConnectorSettings,
        components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
    ) -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
        aws_smithy_runtime_api::client::http::SharedHttpConnector::new(FaultyConnector {
            inner: self.inner.http_connector(settings, components),
            timeout_next: self.timeout_next.clone(),
        })
    }
}

impl aws_smithy_runtime_api::client::http::HttpConnector for FaultyConnector {
    fn call(
        &self,
        request: aws_smithy_runtime_api::client::orchestrator::HttpRequest,
    ) -> aws_smithy_runtime_api::client::http::HttpConnectorFuture {
        if self
            .timeout_next
            .swap(false, std::sync::atomic::Ordering::SeqCst)
        {
            return aws_smithy_runtime_api::client::http::HttpConnectorFuture::new(
                std::future::pending(),
            );
        }
        self.inner.call(request)
    }
}
