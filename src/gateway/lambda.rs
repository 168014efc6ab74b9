//! Lambda: every call the deployer makes to the Lambda API is here, guarded where it mutates.

use super::{AliasState, ApiError, Clock, ErrorKind, FunctionState};
use crate::types::{AliasName, AliasTarget, RevisionId, Version};
use aws_sdk_lambda::Client;
use aws_sdk_lambda::config::timeout::TimeoutConfig;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{AliasRoutingConfiguration, InvocationType, LogType};
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Lambda {
    client: Client,
    clock: Clock,
}

/// A new version, as PublishVersion answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    pub version: Version,
    pub code_sha256: Option<String>,
    /// Lambda is still preparing it (State Pending).
    pub pending: bool,
}

/// Where to point an alias, and the guard to do it with.
#[derive(Debug, Clone, PartialEq)]
pub struct AliasMove {
    pub version: Version,
    /// A canary split: another version and its share of traffic. Empty clears any split.
    pub routing: Vec<(Version, f64)>,
    /// The alias's RevisionId as read; `None` creates the alias.
    pub revision: Option<RevisionId>,
    /// What the alias's description records about this move.
    pub description: String,
}

/// A published version as ListVersionsByFunction reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionInfo {
    pub version: Version,
    pub description: String,
    /// For an image function, the image manifest's digest (hex).
    pub code_sha256: Option<String>,
}

/// An alias as ListAliases reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct AliasInfo {
    pub name: String,
    pub target: Option<AliasTarget>,
    /// A canary split: other versions and their share of traffic.
    pub routing: Vec<(Version, f64)>,
    pub description: String,
}

/// What a synchronous Invoke returned.
#[derive(Debug, Clone, PartialEq)]
pub struct Invoked {
    pub function_error: Option<String>,
    pub payload: Vec<u8>,
    /// Base64 of the log's last 4 KB.
    pub log_result: Option<String>,
}

impl Lambda {
    pub fn new(client: Client) -> Self {
        let clock = Clock::of(client.config());
        Self { client, clock }
    }

    /// The same client, signing with `assumed` (a target in another account).
    pub fn with_credentials(&self, assumed: &super::sts::Assumed) -> Self {
        let conf = self
            .client
            .config()
            .to_builder()
            .credentials_provider(assumed.credentials())
            .build();
        Self {
            client: Client::from_conf(conf),
            clock: self.clock.clone(),
        }
    }

    /// The client's clock: virtual in tests, so every wait in the engine follows it.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The alias, or `None` if the function exists but the alias does not (a first deployment).
    pub async fn get_alias(
        &self,
        function: &str,
        alias: &AliasName,
    ) -> Result<Option<AliasState>, ApiError> {
        let res = self
            .client
            .get_alias()
            .function_name(function)
            .name(alias.as_str())
            .send()
            .await;
        match res {
            Ok(out) => AliasState::from_output(&out, alias.as_str())
                .map(Some)
                .map_err(|message| ApiError {
                    op: "GetAlias",
                    kind: ErrorKind::Other,
                    message,
                }),
            Err(e) => {
                let err = ApiError::from_sdk("GetAlias", &e);
                // Lambda answers ResourceNotFound both for a missing alias and a missing function;
                // only the first means "first deployment".
                if err.is(ErrorKind::NotFound) && !err.message.contains("Function not found") {
                    Ok(None)
                } else {
                    Err(err)
                }
            }
        }
    }

    /// GetFunction of `$LATEST` (`None`) or a version.
    pub async fn get_function(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<FunctionState, ApiError> {
        let out = self
            .client
            .get_function()
            .function_name(function)
            .set_qualifier(qualifier.map(str::to_owned))
            .send()
            .await
            .map_err(|e| ApiError::from_sdk("GetFunction", &e))?;
        FunctionState::from_output(&out).map_err(|message| ApiError {
            op: "GetFunction",
            kind: ErrorKind::Other,
            message,
        })
    }

    /// `UpdateFunctionCode(ImageUri, RevisionId)`: `$LATEST` runs the image once Lambda applied it.
    pub async fn update_code(
        &self,
        function: &str,
        image_uri: &str,
        revision: Option<&RevisionId>,
    ) -> Result<(), ApiError> {
        self.client
            .update_function_code()
            .function_name(function)
            .image_uri(image_uri)
            .set_revision_id(revision.map(|r| r.as_str().to_owned()))
            .publish(false)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| ApiError::from_sdk("UpdateFunctionCode", &e))
    }

    /// `PublishVersion` guarded twice: `CodeSha256` and `RevisionId`.
    pub async fn publish(
        &self,
        function: &str,
        code_sha256: &str,
        revision: Option<&RevisionId>,
        description: &str,
    ) -> Result<Published, ApiError> {
        let out = self
            .client
            .publish_version()
            .function_name(function)
            .code_sha256(code_sha256)
            .set_revision_id(revision.map(|r| r.as_str().to_owned()))
            .description(description)
            .send()
            .await
            .map_err(|e| ApiError::from_sdk("PublishVersion", &e))?;
        let version = out
            .version()
            .and_then(Version::parse)
            .ok_or_else(|| ApiError {
                op: "PublishVersion",
                kind: ErrorKind::Other,
                message: format!("returned {:?}, not a version number", out.version()),
            })?;
        Ok(Published {
            version,
            code_sha256: out.code_sha256().map(str::to_owned),
            pending: matches!(out.state(), Some(aws_sdk_lambda::types::State::Pending)),
        })
    }

    /// `UpdateAlias` guarded by the alias's RevisionId, or `CreateAlias` when there is none yet.
    /// Returns the alias's new RevisionId (the next guarded move needs it).
    pub async fn move_alias(
        &self,
        function: &str,
        alias: &AliasName,
        to: &AliasMove,
    ) -> Result<Option<RevisionId>, ApiError> {
        let weights: HashMap<String, f64> = to
            .routing
            .iter()
            .map(|(v, w)| (v.to_string(), *w))
            .collect();
        match &to.revision {
            Some(revision) => self
                .client
                .update_alias()
                .function_name(function)
                .name(alias.as_str())
                .function_version(to.version.to_string())
                .revision_id(revision.as_str())
                .description(&to.description)
                // Always sent: an empty map clears a split, which would otherwise keep sending
                // part of the traffic to another version.
                .routing_config(
                    AliasRoutingConfiguration::builder()
                        .set_additional_version_weights(Some(weights))
                        .build(),
                )
                .send()
                .await
                .map(|o| o.revision_id().map(RevisionId::new))
                .map_err(|e| ApiError::from_sdk("UpdateAlias", &e)),
            None => self
                .client
                .create_alias()
                .function_name(function)
                .name(alias.as_str())
                .function_version(to.version.to_string())
                .description(&to.description)
                .send()
                .await
                .map(|o| o.revision_id().map(RevisionId::new))
                .map_err(|e| ApiError::from_sdk("CreateAlias", &e)),
        }
    }

    /// Every published version with its description, all pages.
    pub async fn list_versions(&self, function: &str) -> Result<Vec<(Version, String)>, ApiError> {
        Ok(self
            .versions(function)
            .await?
            .into_iter()
            .map(|v| (v.version, v.description))
            .collect())
    }

    /// Every published version with its description and code, all pages (not `$LATEST`).
    pub async fn versions(&self, function: &str) -> Result<Vec<VersionInfo>, ApiError> {
        let mut out = Vec::new();
        let mut pages = self
            .client
            .list_versions_by_function()
            .function_name(function)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| ApiError::from_sdk("ListVersionsByFunction", &e))?;
            out.extend(page.versions().iter().filter_map(|c| {
                let version = c.version().and_then(Version::parse)?;
                Some(VersionInfo {
                    version,
                    description: c.description().unwrap_or_default().to_owned(),
                    code_sha256: c.code_sha256().map(str::to_owned),
                })
            }));
        }
        Ok(out)
    }

    /// Every alias of the function: where it points, its split, its description. An alias whose
    /// target is neither a version nor `$LATEST` is reported with `target: None`.
    pub async fn aliases(&self, function: &str) -> Result<Vec<AliasInfo>, ApiError> {
        let mut out = Vec::new();
        let mut pages = self
            .client
            .list_aliases()
            .function_name(function)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| ApiError::from_sdk("ListAliases", &e))?;
            for a in page.aliases() {
                let mut routing: Vec<(Version, f64)> = a
                    .routing_config()
                    .and_then(|r| r.additional_version_weights())
                    .map(|w| {
                        w.iter()
                            .filter_map(|(k, v)| Version::parse(k).map(|k| (k, *v)))
                            .collect()
                    })
                    .unwrap_or_default();
                routing.sort_by_key(|(v, _)| *v);
                out.push(AliasInfo {
                    name: a.name().unwrap_or_default().to_owned(),
                    target: a.function_version().and_then(AliasTarget::parse),
                    routing,
                    description: a.description().unwrap_or_default().to_owned(),
                });
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Every version any alias of the function references, including canary weights.
    pub async fn alias_versions(&self, function: &str) -> Result<BTreeSet<Version>, ApiError> {
        let mut out = BTreeSet::new();
        let mut pages = self
            .client
            .list_aliases()
            .function_name(function)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| ApiError::from_sdk("ListAliases", &e))?;
            for a in page.aliases() {
                out.extend(a.function_version().and_then(Version::parse));
                if let Some(w) = a
                    .routing_config()
                    .and_then(|r| r.additional_version_weights())
                {
                    out.extend(w.keys().filter_map(|k| Version::parse(k)));
                }
            }
        }
        Ok(out)
    }

    /// Deletes one version. The qualifier is always a version number: DeleteFunction without one
    /// would delete the whole function, so this method cannot be asked to.
    pub async fn delete_version(&self, function: &str, version: Version) -> Result<(), ApiError> {
        self.client
            .delete_function()
            .function_name(function)
            .qualifier(version.to_string())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| ApiError::from_sdk("DeleteFunction", &e))
    }

    /// The function's unqualified ARN (TagResource and ListTags take nothing else): the ARN as
    /// configured, else what GetFunction says.
    pub async fn function_arn(&self, function: &str) -> Result<String, ApiError> {
        let arn = if function.starts_with("arn:") {
            function.to_owned()
        } else {
            let out = self
                .client
                .get_function()
                .function_name(function)
                .send()
                .await
                .map_err(|e| ApiError::from_sdk("GetFunction", &e))?;
            out.configuration()
                .and_then(|c| c.function_arn())
                .map(str::to_owned)
                .ok_or_else(|| ApiError {
                    op: "GetFunction",
                    kind: ErrorKind::Other,
                    message: "returned no FunctionArn".into(),
                })?
        };
        // arn:aws:lambda:REGION:ACCOUNT:function:NAME, without a qualifier.
        Ok(arn.split(':').take(7).collect::<Vec<_>>().join(":"))
    }

    /// The function's tags (`ListTags`).
    pub async fn tags(&self, arn: &str) -> Result<HashMap<String, String>, ApiError> {
        let out = self
            .client
            .list_tags()
            .resource(arn)
            .send()
            .await
            .map_err(|e| ApiError::from_sdk("ListTags", &e))?;
        Ok(out.tags().cloned().unwrap_or_default())
    }

    /// Sets one tag on the function (`TagResource`); other tags are left as they are.
    pub async fn set_tag(&self, arn: &str, key: &str, value: &str) -> Result<(), ApiError> {
        self.client
            .tag_resource()
            .resource(arn)
            .tags(key, value)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| ApiError::from_sdk("TagResource", &e))
    }

    /// A synchronous Invoke with the log tail, allowed `timeout` per attempt: the function's own
    /// run is part of the call, so the client's API timeout does not apply.
    pub async fn invoke(
        &self,
        function: &str,
        qualifier: &str,
        payload: Vec<u8>,
        timeout: Duration,
    ) -> Result<Invoked, ApiError> {
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(super::CONNECT_TIMEOUT)
            .operation_attempt_timeout(timeout)
            .operation_timeout(timeout * 2)
            .build();
        let out = self
            .client
            .invoke()
            .function_name(function)
            .qualifier(qualifier)
            .invocation_type(InvocationType::RequestResponse)
            .log_type(LogType::Tail)
            .payload(Blob::new(payload))
            .customize()
            .config_override(aws_sdk_lambda::config::Builder::default().timeout_config(timeouts))
            .send()
            .await
            .map_err(|e| ApiError::from_sdk("Invoke", &e))?;
        Ok(Invoked {
            function_error: out.function_error().map(str::to_owned),
            payload: out
                .payload()
                .map(|b| b.as_ref().to_vec())
                .unwrap_or_default(),
            log_result: out.log_result().map(str::to_owned),
        })
    }

    /// An asynchronous Invoke (`InvocationType=Event`): Lambda queues the payload and answers 202
    /// at once; the function's run is not part of the call. Used to fan a deployment out to the
    /// deployer's own invocations, one per function.
    pub async fn invoke_event(&self, function: &str, payload: Vec<u8>) -> Result<(), ApiError> {
        let out = self
            .client
            .invoke()
            .function_name(function)
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(payload))
            .send()
            .await
            .map_err(|e| ApiError::from_sdk("Invoke", &e))?;
        // Anything but 202 means Lambda did not queue it (it would have sent an error instead,
        // but a queued run must never be assumed).
        match out.status_code() {
            202 => Ok(()),
            other => Err(ApiError {
                op: "Invoke",
                kind: ErrorKind::Other,
                message: format!("answered status {other}, not 202 Accepted: not queued"),
            }),
        }
    }
}
