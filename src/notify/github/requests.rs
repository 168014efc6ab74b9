//! The GitHub sink's requests: creating a deployment, posting its statuses, finding a rollout's,
//! and the commit the image was built from (from the labels the run read, or one read here when the
//! run ended before its deployment started).

use super::GitHubSink;
use crate::gateway::github::{GitHubApi, GitHubErrorKind};
use crate::gateway::secrets::SecretText;
use crate::notify::github_plan::{REVISION, State, commit_of_tag, describe, is_ref, unversioned};
use crate::types::LabelsRead;
use hyper::Method;
use serde_json::{Value, json};

/// What the image says of itself (its config's labels), or why nothing was read.
pub(super) struct ImageFacts {
    pub(super) commit: Result<String, String>,
    /// Said on the deployment even when a commit was found (the config unreadable, the tag used).
    pub(super) note: Option<String>,
}

impl GitHubSink {
    /// Among this function's deployments created at a run's start (their payload has no version),
    /// the newest GitHub still shows `in_progress`: the rollout's, whose version was not known then.
    pub(super) async fn rolling_out(
        &self,
        api: &GitHubApi,
        token: &SecretText,
        repo: &str,
        list: &Value,
        function: &str,
    ) -> Result<Option<u64>, String> {
        for id in unversioned(list, function).into_iter().take(3) {
            let path = format!("{repo}/deployments/{id}/statuses?per_page=1");
            let latest = self.call(api, token, Method::GET, path, None).await?;
            if latest[0]["state"].as_str() == Some(State::InProgress.as_str()) {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    /// `POST /deployments` of `sha`: its id.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn create(
        &self,
        api: &GitHubApi,
        token: &SecretText,
        repo: &str,
        environment: &str,
        sha: &str,
        tag: Option<&str>,
        function: &str,
        payload: Value,
    ) -> Result<u64, String> {
        let what = tag.map_or_else(|| sha.chars().take(12).collect(), str::to_owned);
        let body = json!({
            "ref": sha,
            "environment": environment,
            "auto_merge": false,
            "required_contexts": [],
            "description": describe(&format!("self-deployer: {what} on {function}")),
            "payload": payload,
            "production_environment": true,
        });
        let path = format!("{repo}/deployments");
        let created = self
            .call(api, token, Method::POST, path, Some(body))
            .await?;
        created
            .get("id")
            .and_then(Value::as_u64)
            .ok_or_else(|| "GitHub created no deployment (the answer has no id)".to_owned())
    }

    /// Each status in turn on deployment `id`, with the run's logs.
    pub(super) async fn post_statuses(
        &self,
        api: &GitHubApi,
        token: &SecretText,
        repo: &str,
        environment: &str,
        id: u64,
        statuses: &[(State, String)],
    ) -> Result<(), String> {
        for (state, description) in statuses {
            let mut body = json!({
                "state": state.as_str(),
                "description": description,
                "environment": environment,
            });
            if let Some(url) = &self.log_url {
                body["log_url"] = json!(url);
            }
            if *state == State::Success {
                body["auto_inactive"] = json!(true);
            }
            let path = format!("{repo}/deployments/{id}/statuses");
            self.call(api, token, Method::POST, path, Some(body))
                .await?;
        }
        Ok(())
    }

    /// One request with the token; a refused token is forgotten (the next run reads it again).
    pub(super) async fn call(
        &self,
        api: &GitHubApi,
        token: &SecretText,
        method: Method,
        path: String,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let r = api.call(method, &path, token.expose(), body.as_ref()).await;
        if let Err(e) = &r
            && e.kind == GitHubErrorKind::Unauthorized
        {
            self.tokens.forget();
        }
        r.map_err(|e| e.message)
    }

    /// What the image says of itself when the run did not read it (it failed before its
    /// deployment started): one read of its config here.
    pub(super) async fn image_facts(
        &self,
        api: &GitHubApi,
        registry: Option<&str>,
        repo: &str,
        digest: Option<&str>,
        tag: Option<&str>,
    ) -> ImageFacts {
        let read = match (&self.ecr, digest.filter(|_| !repo.is_empty())) {
            (Some(ecr), Some(digest)) => ecr
                .labels(api.https(), registry, repo, digest)
                .await
                .map(std::sync::Arc::new),
            _ => Err(String::new()),
        };
        commit_from(&read, tag)
    }
}

/// The commit the image was built from: its revision label, else its tag when that is a full
/// commit SHA (with a note when the config could not be read, `Err("")` when it was not tried).
pub(super) fn commit_from(read: &LabelsRead, tag: Option<&str>) -> ImageFacts {
    let mut facts = ImageFacts {
        commit: Err(String::new()),
        note: None,
    };
    let mut label = "no org.opencontainers.image.revision label was read";
    match read {
        Ok(labels) => {
            match labels
                .get(REVISION)
                .and_then(Value::as_str)
                .filter(|r| is_ref(r))
            {
                Some(rev) => {
                    facts.commit = Ok(rev.to_owned());
                    return facts;
                }
                None => label = "the image has no org.opencontainers.image.revision label",
            }
        }
        Err(e) if !e.is_empty() && commit_of_tag(tag.unwrap_or_default()).is_some() => {
            facts.note = Some(format!(
                "the image's config could not be read ({e}): the commit is its tag"
            ));
        }
        Err(_) => {}
    }
    facts.commit = match tag {
        Some(tag) => commit_of_tag(tag).ok_or_else(|| {
            format!("no commit: {label} and the tag {tag:?} is not a 40-hex commit SHA, no deployment created")
        }),
        None => Err(format!("no commit: {label} and the image has no tag, no deployment created")),
    };
    facts
}
