//! The Lambda client that talks to the world: the real SDK client, its requests answered by the
//! world's rules, on virtual time.

use super::World;
use super::faults::FaultyHttp;
use super::model::REGION;
use aws_sdk_lambda::Client;
use aws_sdk_lambda::config::retry::RetryConfig;
use aws_sdk_lambda::config::timeout::TimeoutConfig;
use aws_sdk_lambda::config::{Region, StalledStreamProtectionConfig};
use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode};
use std::time::Duration;

impl World {
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
            .time_source(self.time_source())
            // Needed by the Timeout fault; answers that arrive are ready at once and always win.
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_attempt_timeout(Duration::from_secs(60))
                    .build(),
            )
            .sleep_impl(self.sleep_impl())
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
            self.list_tags(),
            self.tag_resource(),
            self.get_provisioned_concurrency_config(),
        ]
    }
}
