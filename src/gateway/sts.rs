//! STS: the credentials of a role in another account, for a target that names `assume_role_arn`.

use super::ApiError;
use aws_sdk_sts::Client;
use std::time::SystemTime;

#[derive(Clone, Debug)]
pub struct Sts {
    client: Client,
}

/// Temporary credentials, as AssumeRole granted them.
#[derive(Clone)]
pub struct Assumed {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub expires: SystemTime,
}

impl std::fmt::Debug for Assumed {
    // Never the secret or the token, even in a debug log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Assumed")
            .field("access_key_id", &self.access_key_id)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

impl Assumed {
    /// As the SDK clients take them.
    pub(super) fn credentials(&self) -> aws_sdk_lambda::config::Credentials {
        aws_sdk_lambda::config::Credentials::new(
            &self.access_key_id,
            &self.secret_access_key,
            Some(self.session_token.clone()),
            Some(self.expires),
            "self-deployer-assume-role",
        )
    }
}

/// STS's rules for a session name: 2 to 64 of `[\w+=,.@-]`. Anything else becomes `-`.
pub fn session_name(run_id: &str) -> String {
    let mut s: String = format!("self-deployer-{run_id}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    while s.len() < 2 {
        s.push('-');
    }
    s
}

impl Sts {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// AssumeRole of `role_arn`, the session named after the run that asks.
    pub async fn assume_role(&self, role_arn: &str, run_id: &str) -> Result<Assumed, ApiError> {
        let out = self
            .client
            .assume_role()
            .role_arn(role_arn)
            .role_session_name(session_name(run_id))
            .send()
            .await
            .map_err(|e| ApiError::from_sdk("AssumeRole", &e))?;
        let c = out.credentials().ok_or_else(|| ApiError {
            op: "AssumeRole",
            kind: super::ErrorKind::Other,
            message: "STS returned no credentials".into(),
        })?;
        let expires = SystemTime::try_from(*c.expiration()).map_err(|e| ApiError {
            op: "AssumeRole",
            kind: super::ErrorKind::Other,
            message: format!("STS returned an unusable expiration: {e}"),
        })?;
        Ok(Assumed {
            access_key_id: c.access_key_id().to_owned(),
            secret_access_key: c.secret_access_key().to_owned(),
            session_token: c.session_token().to_owned(),
            expires,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::session_name;

    #[test]
    fn session_names_follow_sts_rules() {
        assert_eq!(session_name("8f1c-42_a.b"), "self-deployer-8f1c-42_a.b");
        assert_eq!(session_name("a b/c:d"), "self-deployer-a-b-c-d");
        let long = session_name(&"x".repeat(200));
        assert_eq!(long.len(), 64);
    }
}
