//! What the world holds: functions with their code, versions and aliases, the answers their code
//! gives, and the record of every call made to it.

use aws_sdk_lambda::types::{LastUpdateStatus, PackageType, State as LambdaState};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime};

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
    pub description: String,
    /// While Lambda's transition after a move lasts: the old version shows at weight 1 until then.
    pub transition_until: Option<SystemTime>,
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
    /// Lambda tags (ListTags, TagResource).
    pub tags: BTreeMap<String, String>,
    /// `Architectures`: `x86_64` (Lambda's default) or `arm64`.
    pub architecture: String,
    /// After each alias move, Lambda shows the old version at weight 1 for this long.
    pub transition_for: Option<Duration>,
    /// Provisioned concurrency by alias.
    pub provisioned: HashMap<String, super::provisioned::Pc>,
    /// `Inactive` (unused for weeks), until an update reactivates it (since `reactivating`).
    pub idle: bool,
    pub reactivating: Option<SystemTime>,
    /// Versions Lambda reports `Failed` with StateReasonCode `ImageDeleted`.
    pub images_deleted: std::collections::BTreeSet<u64>,
}

impl Func {
    /// A function whose `$LATEST` runs `latest`, settled, with no versions and no alias.
    pub fn new(latest: Code, revision: String) -> Self {
        Self {
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
            tags: BTreeMap::new(),
            architecture: "x86_64".into(),
            transition_for: None,
            provisioned: HashMap::new(),
            idle: false,
            reactivating: None,
            images_deleted: Default::default(),
        }
    }
}

/// What Invoke of `$LATEST` returns for an image: the payload and the FunctionError header.
#[derive(Debug, Clone, PartialEq)]
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
    /// ECR only: the registry (account) the call named.
    pub registry_id: Option<String>,
    pub at: Option<SystemTime>,
    /// Invoke only, once the world has run the code: the CodeSha256 of the code that ran and what
    /// it answered. `None` when the call got an error or an injected fault instead.
    pub ran: Option<(String, Answer)>,
    /// Answered 429 by the account's rate limit (see `rate`): the call was not served.
    pub throttled: bool,
}

/// The operations that change a function.
pub const MUTATING: &[&str] = &[
    "UpdateFunctionCode",
    "PublishVersion",
    "UpdateAlias",
    "CreateAlias",
    "DeleteFunction",
];
