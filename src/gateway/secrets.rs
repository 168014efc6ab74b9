//! Secrets Manager: the GitHub token's secret. Its value is only ever held as a [`SecretText`],
//! which never prints.

use super::ApiError;
use aws_sdk_secretsmanager::Client;

/// A secret's value. `Debug` and `Display` never show it; only [`SecretText::expose`] does.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretText(String);

impl SecretText {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretText(***)")
    }
}

#[derive(Clone, Debug)]
pub struct Secrets {
    client: Client,
}

impl Secrets {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// GetSecretValue's SecretString (a binary secret is an error: the token is text).
    pub async fn secret_string(&self, arn: &str) -> Result<SecretText, ApiError> {
        let out = self
            .client
            .get_secret_value()
            .secret_id(arn)
            .send()
            .await
            .map_err(|e| ApiError::from_sdk("GetSecretValue", &e))?;
        match out.secret_string {
            Some(s) => Ok(SecretText::new(s)),
            None => Err(ApiError {
                op: "GetSecretValue",
                kind: super::ErrorKind::Other,
                message: "the secret has no SecretString (a binary secret cannot hold the token)"
                    .into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_prints() {
        let s = SecretText::new("ghp_topsecret");
        assert_eq!(format!("{s:?}"), "SecretText(***)");
        assert_eq!(s.expose(), "ghp_topsecret");
    }
}
