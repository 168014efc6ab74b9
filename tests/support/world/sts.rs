//! STS, modelled: AssumeRole grants each role its own access key (`ASIA` + the role's name), so a
//! test can tell whose credentials signed a call; and a recorder of who signed each Lambda call.

use super::World;
use super::model::REGION;
use aws_sdk_lambda::config::Intercept;
use aws_sdk_lambda::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_lambda::config::{ConfigBag, RuntimeComponents};
use aws_smithy_mocks::{MockResponseInterceptor, RuleMode, mock};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The access key AssumeRole grants for `role_arn`.
pub fn access_key_of(role_arn: &str) -> String {
    let name = role_arn.rsplit('/').next().unwrap_or_default();
    format!("ASIA{}", name.to_ascii_uppercase().replace('-', ""))
}

/// (role ARN, session name) of every AssumeRole call.
pub type Assumptions = Arc<Mutex<Vec<(String, String)>>>;

/// (request path, or the operation for ECR; access key that signed it) of every call.
pub type Signers = Arc<Mutex<Vec<(String, String)>>>;

#[derive(Debug)]
struct SignedBy(Signers);

impl Intercept for SignedBy {
    fn name(&self) -> &'static str {
        "SignedBy"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_lambda::error::BoxError> {
        let req = context.request();
        let auth = req.headers().get("authorization").unwrap_or_default();
        // `AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request, ...`
        let key = auth
            .split("Credential=")
            .nth(1)
            .and_then(|c| c.split('/').next())
            .unwrap_or("(unsigned)")
            .to_owned();
        // Lambda names the function in the path; ECR (JSON protocol) the operation in a header.
        let path = match req.headers().get("x-amz-target") {
            Some(op) => op.to_owned(),
            None => req.uri().split('?').next().unwrap_or_default().to_owned(),
        };
        self.0.lock().expect("signers lock").push((path, key));
        Ok(())
    }
}

impl World {
    /// An STS client whose AssumeRole grants credentials valid for `valid_for` of virtual time.
    pub fn sts_client(&self, valid_for: Duration) -> (aws_sdk_sts::Client, Assumptions) {
        let seen: Assumptions = Default::default();
        let s = seen.clone();
        let time = self.time.clone();
        let rule = mock!(aws_sdk_sts::Client::assume_role).then_compute_output(move |req| {
            let role = req.role_arn().unwrap_or_default().to_owned();
            s.lock().expect("assumptions lock").push((
                role.clone(),
                req.role_session_name().unwrap_or_default().to_owned(),
            ));
            let now = aws_smithy_async::time::TimeSource::now(&time);
            let expires = now + valid_for;
            let secs = expires
                .duration_since(std::time::UNIX_EPOCH)
                .expect("after 1970")
                .as_secs();
            aws_sdk_sts::operation::assume_role::AssumeRoleOutput::builder()
                .credentials(
                    aws_sdk_sts::types::Credentials::builder()
                        .access_key_id(access_key_of(&role))
                        .secret_access_key("secret")
                        .session_token("token")
                        .expiration(aws_smithy_types::DateTime::from_secs(secs as i64))
                        .build()
                        .expect("complete credentials"),
                )
                .build()
        });
        let conf = aws_sdk_sts::Config::builder()
            .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
            .region(aws_sdk_sts::config::Region::new(REGION))
            .credentials_provider(aws_sdk_sts::config::Credentials::new(
                "AKIADEPLOYER",
                "secret",
                None,
                None,
                "test",
            ))
            .http_client(aws_smithy_mocks::create_mock_http_client())
            .interceptor(
                MockResponseInterceptor::new()
                    .rule_mode(RuleMode::MatchAny)
                    .with_rule(&rule),
            )
            .time_source(self.time_source())
            .build();
        (aws_sdk_sts::Client::from_conf(conf), seen)
    }

    /// The world's Lambda client, recording which access key signed each call.
    pub fn signed_client(&self) -> (aws_sdk_lambda::Client, Signers) {
        let signers: Signers = Default::default();
        let conf = self
            .client()
            .config()
            .to_builder()
            .interceptor(SignedBy(signers.clone()))
            .build();
        (aws_sdk_lambda::Client::from_conf(conf), signers)
    }

    /// The world's ECR client, recording which access key signed each call.
    pub fn signed_ecr_client(&self) -> (aws_sdk_ecr::Client, Signers) {
        let signers: Signers = Default::default();
        let conf = self
            .ecr_client()
            .config()
            .to_builder()
            .interceptor(SignedBy(signers.clone()))
            .build();
        (aws_sdk_ecr::Client::from_conf(conf), signers)
    }

    /// The world's CloudWatch client, recording which access key signed each call (the path
    /// names the operation: CloudWatch speaks RPC v2 CBOR).
    pub fn signed_cloudwatch_client(&self) -> (aws_sdk_cloudwatch::Client, Signers) {
        let signers: Signers = Default::default();
        let conf = self
            .cloudwatch_client()
            .config()
            .to_builder()
            .interceptor(SignedBy(signers.clone()))
            .build();
        (aws_sdk_cloudwatch::Client::from_conf(conf), signers)
    }
}
