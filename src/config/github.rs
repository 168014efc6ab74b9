//! GitHub deployments: a target's `github` object, DEPLOYER_GITHUB_TOKEN_SECRET_ARN and
//! DEPLOYER_GITHUB_API_URL, validated before any call.

use super::{ConfigError, TARGETS_VAR, Target};
use serde::Deserialize;

pub const TOKEN_SECRET_VAR: &str = "DEPLOYER_GITHUB_TOKEN_SECRET_ARN";
pub const API_URL_VAR: &str = "DEPLOYER_GITHUB_API_URL";
pub const DEFAULT_API_URL: &str = "https://api.github.com";
pub const TOKEN_SECRET_HELP: &str = "Secrets Manager secret ARN for GitHub deployments: a token, {\"token\": ...} or a GitHub App's {\"app_id\", \"installation_id\", \"private_key\"} (required when any target has github)";
pub const API_URL_HELP: &str = "GitHub API for deployments, e.g. GitHub Enterprise Server's https://HOST/api/v3 (default https://api.github.com)";

/// A target's `"github": {"repository": "owner/name", "environment": "production"}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitHubTarget {
    pub repository: String,
    /// `None`: each function's own name.
    #[serde(default)]
    pub environment: Option<String>,
}

impl GitHubTarget {
    /// `(field, problem)` for the first thing wrong.
    pub(super) fn check(&self) -> Result<(), (&'static str, String)> {
        let part_ok = |p: &str| {
            (1..=100).contains(&p.len())
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
                && p != "."
                && p != ".."
        };
        match self.repository.split_once('/') {
            Some((owner, name)) if part_ok(owner) && part_ok(name) => {}
            _ => {
                return Err((
                    "github.repository",
                    format!(
                        "{:?} is not a GitHub repository: use \"owner/name\" (letters, digits, '-', '_', '.')",
                        crate::text::truncate(&self.repository, 120)
                    ),
                ));
            }
        }
        if let Some(env) = &self.environment
            && (env.trim().is_empty()
                || env.chars().count() > 255
                || env.chars().any(char::is_control))
        {
            return Err((
                "github.environment",
                "must be 1 to 255 characters without control characters".into(),
            ));
        }
        Ok(())
    }

    /// The environment a function's deployments go to.
    pub fn environment_for<'a>(&'a self, function_name: &'a str) -> &'a str {
        self.environment.as_deref().unwrap_or(function_name)
    }
}

/// Where the token comes from and which API to call. `None` in [`super::Config`]: no target has
/// `github`.
#[derive(Debug, Clone, PartialEq)]
pub struct GitHubSettings {
    /// A Secrets Manager secret: a token, `{"token": …}` or a GitHub App's key.
    pub token_secret_arn: String,
    /// Without a trailing slash.
    pub api_url: String,
}

pub(super) fn parse(
    get: &impl Fn(&str) -> Option<String>,
    targets: &[Target],
) -> Result<Option<GitHubSettings>, ConfigError> {
    let secret = get(TOKEN_SECRET_VAR).filter(|s| !s.trim().is_empty());
    let api = get(API_URL_VAR).filter(|s| !s.trim().is_empty());
    let api_url = match &api {
        Some(url) => check_api_url(url.trim()).map_err(|p| ConfigError::new(API_URL_VAR, "", p))?,
        None => DEFAULT_API_URL.to_owned(),
    };
    let first = targets.iter().position(|t| t.github.is_some());
    match (secret, first) {
        (Some(arn), _) => {
            check_secret_arn(arn.trim()).map_err(|p| ConfigError::new(TOKEN_SECRET_VAR, "", p))?;
            Ok(first.map(|_| GitHubSettings {
                token_secret_arn: arn.trim().to_owned(),
                api_url,
            }))
        }
        (None, Some(i)) => Err(ConfigError::new(
            TOKEN_SECRET_VAR,
            "",
            format!(
                "is not set, but {TARGETS_VAR}[{i}].github asks for GitHub deployments: set it to the ARN of a Secrets Manager secret holding a token or a GitHub App's key"
            ),
        )),
        (None, None) => Ok(None),
    }
}

fn check_secret_arn(arn: &str) -> Result<(), String> {
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    match parts.as_slice() {
        [
            "arn",
            partition,
            "secretsmanager",
            region,
            account,
            "secret",
            name,
        ] if !partition.is_empty()
            && !region.is_empty()
            && crate::types::Account::parse(account).is_ok()
            && !name.is_empty() =>
        {
            Ok(())
        }
        _ => Err(format!(
            "{:?} is not a Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)",
            crate::text::truncate(arn, 200)
        )),
    }
}

/// `https://…`, or `http://` on the loopback only (a token must not cross a network in clear).
fn check_api_url(url: &str) -> Result<String, String> {
    let shown = crate::text::truncate(url, 200);
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("{shown:?} is not a URL (https://HOST[/PATH])"))?;
    let host_port = rest.split('/').next().unwrap_or_default();
    let host = match host_port.rsplit_once(':') {
        Some((h, port)) if port.parse::<u16>().is_ok() => h,
        _ => host_port,
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.'));
    if !host_ok || url.contains(['?', '#', '@', ' ']) {
        return Err(format!("{shown:?} is not a URL (https://HOST[/PATH])"));
    }
    match scheme {
        "https" => {}
        "http" if host == "127.0.0.1" || host == "localhost" => {}
        "http" => {
            return Err(format!(
                "{shown:?} is plain http: the token would cross the network in clear (use https; http only on 127.0.0.1 or localhost)"
            ));
        }
        _ => return Err(format!("{shown:?} is not an http(s) URL")),
    }
    Ok(url.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::*;

    const SECRET: &str = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:github-AbCdEf";

    fn load(github: &str, extra: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let targets = format!(r#"[{{"repository":"api","functions":["a","b"]{github}}}]"#);
        Config::from_lookup(|k| {
            if k == TARGETS_VAR {
                return Some(targets.clone());
            }
            extra
                .iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn a_target_with_github_gets_the_secret_and_the_default_api() {
        let c = load(
            r#","github":{"repository":"acme/api"}"#,
            &[(TOKEN_SECRET_VAR, SECRET)],
        )
        .unwrap();
        let g = c.targets[0].github.as_ref().unwrap();
        assert_eq!(g.repository, "acme/api");
        assert_eq!(g.environment_for("a"), "a", "defaults to the function");
        let s = c.github.unwrap();
        assert_eq!(s.token_secret_arn, SECRET);
        assert_eq!(s.api_url, "https://api.github.com");
        let c = load(
            r#","github":{"repository":"acme/api","environment":"production"}"#,
            &[
                (TOKEN_SECRET_VAR, SECRET),
                (API_URL_VAR, "https://ghe.example.com/api/v3/"),
            ],
        )
        .unwrap();
        assert_eq!(
            c.targets[0].github.as_ref().unwrap().environment_for("a"),
            "production"
        );
        assert_eq!(c.github.unwrap().api_url, "https://ghe.example.com/api/v3");
        let c = load("", &[(TOKEN_SECRET_VAR, SECRET)]).unwrap();
        assert_eq!(c.github, None, "no target asks for GitHub");
        assert_eq!(load("", &[]).unwrap().github, None);
    }

    #[test]
    fn every_mistake_names_its_field() {
        type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
        let cases: &[Case] = &[
            (
                r#","github":{"repository":"acme/api"}"#,
                &[],
                "DEPLOYER_GITHUB_TOKEN_SECRET_ARN: is not set, but DEPLOYER_TARGETS[0].github asks for GitHub deployments",
            ),
            (
                r#","github":{"repository":"acme"}"#,
                &[(TOKEN_SECRET_VAR, SECRET)],
                r#"DEPLOYER_TARGETS[0].github.repository: "acme" is not a GitHub repository"#,
            ),
            (
                r#","github":{"repository":"acme/a b"}"#,
                &[(TOKEN_SECRET_VAR, SECRET)],
                "DEPLOYER_TARGETS[0].github.repository: ",
            ),
            (
                r#","github":{"repository":"acme/api","environment":""}"#,
                &[(TOKEN_SECRET_VAR, SECRET)],
                "DEPLOYER_TARGETS[0].github.environment: must be 1 to 255 characters",
            ),
            (
                r#","github":{"repository":"acme/api","env":"prod"}"#,
                &[(TOKEN_SECRET_VAR, SECRET)],
                "DEPLOYER_TARGETS[0].github.env: unknown field `env`, expected `repository` or `environment`",
            ),
            (
                r#","github":{"repository":"acme/api"}"#,
                &[(TOKEN_SECRET_VAR, "github-token")],
                r#"DEPLOYER_GITHUB_TOKEN_SECRET_ARN: "github-token" is not a Secrets Manager secret ARN"#,
            ),
            (
                r#","github":{"repository":"acme/api"}"#,
                &[
                    (TOKEN_SECRET_VAR, SECRET),
                    (API_URL_VAR, "http://ghe.example.com"),
                ],
                r#"DEPLOYER_GITHUB_API_URL: "http://ghe.example.com" is plain http"#,
            ),
            (
                r#","github":{"repository":"acme/api"}"#,
                &[(TOKEN_SECRET_VAR, SECRET), (API_URL_VAR, "api.github.com")],
                r#"DEPLOYER_GITHUB_API_URL: "api.github.com" is not a URL"#,
            ),
            (
                r#","github":{"repository":"acme/api"}"#,
                &[(TOKEN_SECRET_VAR, SECRET), (API_URL_VAR, "ftp://h")],
                r#"DEPLOYER_GITHUB_API_URL: "ftp://h" is not an http(s) URL"#,
            ),
        ];
        for (github, extra, want) in cases {
            let err = load(github, extra).unwrap_err().to_string();
            assert!(
                err.starts_with(want),
                "{github} {extra:?}:\n got {err}\nwant {want}"
            );
        }
        let ok = load(
            r#","github":{"repository":"acme/api"}"#,
            &[
                (TOKEN_SECRET_VAR, SECRET),
                (API_URL_VAR, "http://127.0.0.1:8123"),
            ],
        );
        assert_eq!(ok.unwrap().github.unwrap().api_url, "http://127.0.0.1:8123");
    }
}
