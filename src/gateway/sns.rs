//! SNS: one message to the topic, with a body per protocol and attributes for filter policies.

use super::describe;
use aws_sdk_sns::Client;
use aws_sdk_sns::types::MessageAttributeValue;

#[derive(Clone, Debug)]
pub struct Sns {
    client: Client,
    topic_arn: String,
}

impl Sns {
    pub fn new(client: Client, topic_arn: impl Into<String>) -> Self {
        Self {
            client,
            topic_arn: topic_arn.into(),
        }
    }

    /// Publishes `message` (SNS's per-protocol JSON) with string attributes; returns the message id.
    pub async fn publish(
        &self,
        subject: &str,
        message: String,
        attributes: &[(&str, &str)],
    ) -> Result<Option<String>, String> {
        let mut req = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(subject)
            .message_structure("json")
            .message(message);
        for (name, value) in attributes {
            let attr = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(*value)
                .build()
                .map_err(|e| format!("could not build message attribute {name}: {e}"))?;
            req = req.message_attributes(*name, attr);
        }
        let out = req.send().await.map_err(|e| describe(&e))?;
        Ok(out.message_id().map(str::to_owned))
    }
}
