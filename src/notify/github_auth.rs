//! The GitHub token: read from Secrets Manager (a token, `{"token": …}`, or a GitHub App's
//! `{"app_id", "installation_id", "private_key"}`). For an App, the deployer signs a JWT (RS256,
//! with aws-lc-rs) and exchanges it for an installation token, cached until shortly before it
//! expires. No error message ever quotes the secret.

use crate::gateway::github::GitHubApi;
use crate::gateway::secrets::{SecretText, Secrets};
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use chrono::{DateTime, Utc};
use hyper::Method;
use serde_json::{Value, json};
use std::sync::Mutex;
use std::time::Duration;

/// An installation token is given up this long before GitHub's `expires_at`.
const EXPIRY_MARGIN: Duration = Duration::from_secs(5 * 60);
/// A plain token is read again after this long (a rotated secret is picked up).
const TOKEN_TTL: Duration = Duration::from_secs(15 * 60);

/// What the secret holds.
pub enum Credential {
    Token(SecretText),
    App {
        app_id: String,
        installation_id: u64,
        key: RsaKeyPair,
    },
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Token(_) => f.write_str("Token(***)"),
            Credential::App {
                app_id,
                installation_id,
                ..
            } => write!(
                f,
                "App {{ app_id: {app_id}, installation_id: {installation_id} }}"
            ),
        }
    }
}

/// Reads the secret's text. Errors name the field, never its value.
pub fn parse_secret(secret: &SecretText) -> Result<Credential, String> {
    let text = secret.expose().trim();
    if text.is_empty() {
        return Err("the secret is empty".into());
    }
    if !text.starts_with('{') {
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("the secret is neither a token (one word) nor a JSON object".into());
        }
        return Ok(Credential::Token(SecretText::new(text)));
    }
    let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(text) else {
        return Err("the secret starts with '{' but is not a JSON object".into());
    };
    if let Some(t) = obj.get("token") {
        return match t.as_str().map(str::trim) {
            Some(t) if !t.is_empty() && !t.contains(char::is_whitespace) => {
                Ok(Credential::Token(SecretText::new(t)))
            }
            _ => Err("the secret's \"token\" is not a non-empty string".into()),
        };
    }
    let id = |field: &str| match obj.get(field) {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    let app_id = id("app_id").ok_or("the secret's \"app_id\" is missing or not a number")?;
    let installation_id = id("installation_id")
        .ok_or("the secret's \"installation_id\" is missing or not a number")?;
    let pem = obj
        .get("private_key")
        .and_then(Value::as_str)
        .ok_or("the secret has neither \"token\" nor \"private_key\"")?;
    Ok(Credential::App {
        app_id: app_id.to_string(),
        installation_id,
        key: rsa_key(pem)?,
    })
}

/// A PEM RSA private key: PKCS#1 (`BEGIN RSA PRIVATE KEY`, what GitHub hands out) or PKCS#8.
fn rsa_key(pem: &str) -> Result<RsaKeyPair, String> {
    let bad = || "the secret's \"private_key\" is not a PEM RSA private key".to_owned();
    let pkcs1 = pem.contains("-----BEGIN RSA PRIVATE KEY-----");
    if !pkcs1 && !pem.contains("-----BEGIN PRIVATE KEY-----") {
        return Err(bad());
    }
    let b64: String = pem
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("-----"))
        .collect();
    let der = aws_smithy_types::base64::decode(b64).map_err(|_| bad())?;
    let key = if pkcs1 {
        RsaKeyPair::from_der(&der)
    } else {
        RsaKeyPair::from_pkcs8(&der)
    };
    key.map_err(|_| bad())
}

fn b64url(bytes: &[u8]) -> String {
    aws_smithy_types::base64::encode(bytes)
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_")
}

/// The App's JWT: issued a minute in the past (clock drift), valid for nine minutes (GitHub allows ten).
pub fn app_jwt(app_id: &str, key: &RsaKeyPair, now: DateTime<Utc>) -> Result<String, String> {
    let header = b64url(br#"{"alg":"RS256","typ":"JWT"}"#);
    let iat = now.timestamp() - 60;
    let claims = b64url(
        json!({"iat": iat, "exp": iat + 600 - 60, "iss": app_id})
            .to_string()
            .as_bytes(),
    );
    let signing_input = format!("{header}.{claims}");
    let mut sig = vec![0; key.public_modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &aws_lc_rs::rand::SystemRandom::new(),
        signing_input.as_bytes(),
        &mut sig,
    )
    .map_err(|_| "the GitHub App's key could not sign".to_owned())?;
    Ok(format!("{signing_input}.{}", b64url(&sig)))
}

#[derive(Clone)]
struct Cached {
    token: SecretText,
    until: DateTime<Utc>,
}

/// Where tokens come from, and the one in use (shared by every run of this process).
#[derive(Debug)]
pub struct Tokens {
    secrets: Secrets,
    arn: String,
    cache: Mutex<Option<Cached>>,
}

impl std::fmt::Debug for Cached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Cached {{ until: {} }}", self.until)
    }
}

impl Tokens {
    pub fn new(secrets: Secrets, arn: impl Into<String>) -> Self {
        Self {
            secrets,
            arn: arn.into(),
            cache: Mutex::new(None),
        }
    }

    /// A token to call the API with: the cached one while it is good, else a fresh one.
    pub async fn token(&self, api: &GitHubApi, now: DateTime<Utc>) -> Result<SecretText, String> {
        if let Ok(cache) = self.cache.lock()
            && let Some(c) = cache.as_ref().filter(|c| c.until > now)
        {
            return Ok(c.token.clone());
        }
        let secret = self
            .secrets
            .secret_string(&self.arn)
            .await
            .map_err(|e| format!("the GitHub token could not be read: {e}"))?;
        let fresh = match parse_secret(&secret)? {
            Credential::Token(token) => Cached {
                token,
                until: now + TOKEN_TTL,
            },
            Credential::App {
                app_id,
                installation_id,
                key,
            } => {
                let jwt = app_jwt(&app_id, &key, now)?;
                let path = format!("/app/installations/{installation_id}/access_tokens");
                let answer = api
                    .call(Method::POST, &path, &jwt, None)
                    .await
                    .map_err(|e| format!("the GitHub App's installation token: {e}"))?;
                let token = answer
                    .get("token")
                    .and_then(Value::as_str)
                    .ok_or("the GitHub App's installation token: the answer has no token")?;
                let expires = answer
                    .get("expires_at")
                    .and_then(Value::as_str)
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.with_timezone(&Utc))
                    .unwrap_or(now + Duration::from_secs(3600));
                Cached {
                    token: SecretText::new(token),
                    until: expires - EXPIRY_MARGIN,
                }
            }
        };
        if let Ok(mut cache) = self.cache.lock() {
            *cache = Some(fresh.clone());
        }
        Ok(fresh.token)
    }

    /// GitHub refused the token (401): the next run reads the secret again.
    pub fn forget(&self) {
        if let Ok(mut cache) = self.cache.lock() {
            *cache = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rsa::KeySize;
    use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

    fn pem_of(key: &RsaKeyPair) -> String {
        let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(key).unwrap();
        let b64 = aws_smithy_types::base64::encode(der.as_ref());
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            lines.join("\n")
        )
    }

    #[test]
    fn the_secret_is_a_token_a_token_object_or_an_app() {
        let t = parse_secret(&SecretText::new(" ghp_abc\n")).unwrap();
        assert!(matches!(t, Credential::Token(s) if s.expose() == "ghp_abc"));
        let t = parse_secret(&SecretText::new(r#"{"token":"ghs_x"}"#)).unwrap();
        assert!(matches!(t, Credential::Token(s) if s.expose() == "ghs_x"));
        let key = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let app = json!({"app_id": 42, "installation_id": "7", "private_key": pem_of(&key)});
        let c = parse_secret(&SecretText::new(app.to_string())).unwrap();
        assert_eq!(format!("{c:?}"), "App { app_id: 42, installation_id: 7 }");
    }

    #[test]
    fn a_bad_secret_is_named_never_quoted() {
        let cases = [
            ("", "the secret is empty"),
            (
                "two words-s3cr3t",
                "the secret is neither a token (one word) nor a JSON object",
            ),
            (
                "{s3cr3t",
                "the secret starts with '{' but is not a JSON object",
            ),
            (
                r#"{"token":""}"#,
                "the secret's \"token\" is not a non-empty string",
            ),
            (
                r#"{"app_id":"s3cr3t","installation_id":1,"private_key":"x"}"#,
                "the secret's \"app_id\" is missing or not a number",
            ),
            (
                r#"{"app_id":1,"private_key":"x"}"#,
                "the secret's \"installation_id\" is missing or not a number",
            ),
            (
                r#"{"app_id":1,"installation_id":2}"#,
                "the secret has neither \"token\" nor \"private_key\"",
            ),
            (
                r#"{"app_id":1,"installation_id":2,"private_key":"-----BEGIN RSA PRIVATE KEY-----\ns3cr3t\n"}"#,
                "the secret's \"private_key\" is not a PEM RSA private key",
            ),
        ];
        for (secret, want) in cases {
            let err = parse_secret(&SecretText::new(secret)).unwrap_err();
            assert_eq!(err, want, "{secret}");
            assert!(!err.contains("s3cr3t"));
        }
    }

    #[test]
    fn the_app_jwt_verifies_with_the_public_key() {
        let key = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let jwt = app_jwt("42", &key, now).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let decode = |s: &str| {
            let mut s = s.replace('-', "+").replace('_', "/");
            while !s.len().is_multiple_of(4) {
                s.push('=');
            }
            aws_smithy_types::base64::decode(s).unwrap()
        };
        let header: Value = serde_json::from_slice(&decode(parts[0])).unwrap();
        assert_eq!(header, json!({"alg": "RS256", "typ": "JWT"}));
        let claims: Value = serde_json::from_slice(&decode(parts[1])).unwrap();
        assert_eq!(
            claims,
            json!({"iat": 1_799_999_940, "exp": 1_800_000_480, "iss": "42"})
        );
        let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key.public_key().as_ref());
        public
            .verify(
                format!("{}.{}", parts[0], parts[1]).as_bytes(),
                &decode(parts[2]),
            )
            .expect("a valid RS256 signature");
    }
}
