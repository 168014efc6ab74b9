//! The Lambda operations on aliases: an alias moves only with the RevisionId it was read with, to
//! a version that exists, and a canary split can be set and cleared.

use super::faults::{err, lossy, precondition};
use super::{ACCOUNT, Alias, Call, REGION, World};
use aws_sdk_lambda::Client;
use aws_sdk_lambda::operation::create_alias::{CreateAliasError, CreateAliasOutput};
use aws_sdk_lambda::operation::get_alias::{GetAliasError, GetAliasOutput};
use aws_sdk_lambda::operation::list_aliases::{ListAliasesError, ListAliasesOutput};
use aws_sdk_lambda::operation::update_alias::{UpdateAliasError, UpdateAliasOutput};
use aws_sdk_lambda::types::{AliasConfiguration, AliasRoutingConfiguration};
use aws_smithy_mocks::{MockResponse, Rule, mock};
use std::collections::HashMap;

impl World {
    pub(super) fn get_alias(&self) -> Rule {
        let st = self.state.clone();
        mock!(Client::get_alias).then_compute_response(lossy(
            st.clone(),
            move |req: &aws_sdk_lambda::operation::get_alias::GetAliasInput| {
                let mut s = st.lock().expect("lock");
                let function = req.function_name().unwrap_or_default().to_owned();
                let alias = req.name().unwrap_or_default().to_owned();
                if let Some(f) = s.begin(Call {
                    op: "GetAlias",
                    function: function.clone(),
                    qualifier: Some(alias.clone()),
                    ..Default::default()
                }) {
                    return s.faulted(f, GetAliasError::generic);
                }
                let arn = format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}");
                s.settle_transitions(&function);
                let Some(func) = s.func(&function) else {
                    let msg = format!("Function not found: {arn}");
                    return MockResponse::Error(err!(
                        GetAliasError,
                        ResourceNotFoundException,
                        msg
                    ));
                };
                let Some(a) = func.aliases.get(&alias) else {
                    let msg = format!("Alias not found: {arn}:{alias}");
                    return MockResponse::Error(err!(
                        GetAliasError,
                        ResourceNotFoundException,
                        msg
                    ));
                };
                let mut b = GetAliasOutput::builder()
                    .name(&alias)
                    .function_version(&a.version)
                    .revision_id(&a.revision)
                    .description(&a.description);
                if !a.routing.is_empty() {
                    b = b.routing_config(
                        AliasRoutingConfiguration::builder()
                            .set_additional_version_weights(Some(a.routing.clone()))
                            .build(),
                    );
                }
                MockResponse::Output(b.build())
            },
        ))
    }

    pub(super) fn update_alias(&self) -> Rule {
        let st = self.state.clone();
        mock!(Client::update_alias).then_compute_response(lossy(
            st.clone(),
            move |req: &aws_sdk_lambda::operation::update_alias::UpdateAliasInput| {
                let mut s = st.lock().expect("lock");
                let function = req.function_name().unwrap_or_default().to_owned();
                let name = req.name().unwrap_or_default().to_owned();
                let call = Call {
                    op: "UpdateAlias",
                    function: function.clone(),
                    qualifier: Some(name.clone()),
                    version: req.function_version().map(str::to_owned),
                    revision_id: req.revision_id().map(str::to_owned),
                    ..Default::default()
                };
                if let Some(f) = s.begin(call) {
                    return s.faulted(f, UpdateAliasError::generic);
                }
                let rev = s.next_revision();
                let now = s.t();
                let Some(func) = s.func(&function) else {
                    return MockResponse::Error(err!(
                        UpdateAliasError,
                        ResourceNotFoundException,
                        "Function not found"
                    ));
                };
                let versions: Vec<u64> = func.versions.keys().copied().collect();
                let transition_for = func.transition_for;
                let Some(a) = func.aliases.get_mut(&name) else {
                    return MockResponse::Error(err!(
                        UpdateAliasError,
                        ResourceNotFoundException,
                        "Alias not found"
                    ));
                };
                if req.revision_id().is_some_and(|r| r != a.revision) {
                    return MockResponse::Error(precondition(UpdateAliasError::generic));
                }
                let target_version = req.function_version().unwrap_or(&a.version).to_owned();
                let weights = req
                    .routing_config()
                    .and_then(|r| r.additional_version_weights());
                if let Some(why) = weights.and_then(|w| bad_routing(w, &versions, &target_version))
                {
                    return MockResponse::Error(err!(
                        UpdateAliasError,
                        InvalidParameterValueException,
                        why
                    ));
                }
                let moved_from = a.version.clone();
                if let Some(v) = req.function_version() {
                    if !versions.contains(&v.parse().unwrap_or(0)) {
                        return MockResponse::Error(err!(
                            UpdateAliasError,
                            ResourceNotFoundException,
                            format!("Function not found: version {v}")
                        ));
                    }
                    a.version = v.to_owned();
                }
                if let Some(r) = req.routing_config() {
                    a.routing = r.additional_version_weights().cloned().unwrap_or_default();
                }
                if let Some(d) = req.description() {
                    a.description = d.to_owned();
                }
                a.revision = rev.clone();
                let now_on = a.version.clone();
                // Lambda's own transition (tests opt in): the old version at weight 1 for a while.
                if let Some(d) = transition_for
                    && moved_from != a.version
                    && a.routing.is_empty()
                {
                    a.routing.insert(moved_from, 1.0);
                    a.transition_until = Some(now + d);
                }
                let mut out = UpdateAliasOutput::builder()
                    .name(&name)
                    .function_version(&a.version)
                    .revision_id(rev);
                if !a.routing.is_empty() {
                    out = out.routing_config(
                        AliasRoutingConfiguration::builder()
                            .set_additional_version_weights(Some(a.routing.clone()))
                            .build(),
                    );
                }
                s.pc_follows(&function, &name, &now_on);
                MockResponse::Output(out.build())
            },
        ))
    }

    pub(super) fn create_alias(&self) -> Rule {
        let st = self.state.clone();
        mock!(Client::create_alias).then_compute_response(lossy(
            st.clone(),
            move |req: &aws_sdk_lambda::operation::create_alias::CreateAliasInput| {
                let mut s = st.lock().expect("lock");
                let function = req.function_name().unwrap_or_default().to_owned();
                let name = req.name().unwrap_or_default().to_owned();
                let call = Call {
                    op: "CreateAlias",
                    function: function.clone(),
                    qualifier: Some(name.clone()),
                    version: req.function_version().map(str::to_owned),
                    ..Default::default()
                };
                if let Some(f) = s.begin(call) {
                    return s.faulted(f, CreateAliasError::generic);
                }
                let rev = s.next_revision();
                let Some(func) = s.func(&function) else {
                    return MockResponse::Error(err!(
                        CreateAliasError,
                        ResourceNotFoundException,
                        "Function not found"
                    ));
                };
                if func.aliases.contains_key(&name) {
                    return MockResponse::Error(err!(
                        CreateAliasError,
                        ResourceConflictException,
                        format!("Alias already exists: {name}")
                    ));
                }
                let v = req.function_version().unwrap_or_default().to_owned();
                func.aliases.insert(
                    name.clone(),
                    Alias {
                        version: v.clone(),
                        revision: rev.clone(),
                        routing: HashMap::new(),
                        description: req.description().unwrap_or_default().to_owned(),
                        transition_until: None,
                    },
                );
                MockResponse::Output(
                    CreateAliasOutput::builder()
                        .name(name)
                        .function_version(v)
                        .revision_id(rev)
                        .build(),
                )
            },
        ))
    }

    pub(super) fn list_aliases(&self) -> Rule {
        let st = self.state.clone();
        mock!(Client::list_aliases).then_compute_response(lossy(
            st.clone(),
            move |req: &aws_sdk_lambda::operation::list_aliases::ListAliasesInput| {
                let mut s = st.lock().expect("lock");
                let function = req.function_name().unwrap_or_default().to_owned();
                if let Some(f) = s.begin(Call {
                    op: "ListAliases",
                    function: function.clone(),
                    ..Default::default()
                }) {
                    return s.faulted(f, ListAliasesError::generic);
                }
                s.settle_transitions(&function);
                let func = s.func(&function).expect("function exists").clone();
                let mut out = ListAliasesOutput::builder();
                for (name, a) in &func.aliases {
                    let mut c = AliasConfiguration::builder()
                        .name(name)
                        .function_version(&a.version)
                        .revision_id(&a.revision)
                        .description(&a.description);
                    if !a.routing.is_empty() {
                        c = c.routing_config(
                            AliasRoutingConfiguration::builder()
                                .set_additional_version_weights(Some(a.routing.clone()))
                                .build(),
                        );
                    }
                    out = out.aliases(c.build());
                }
                MockResponse::Output(out.build())
            },
        ))
    }
}

/// AWS's routing rules: at most one other published version, never the alias's own version or
/// $LATEST, a weight in [0, 1). Why `weights` break them, if they do.
fn bad_routing(weights: &HashMap<String, f64>, versions: &[u64], target: &str) -> Option<String> {
    if weights.len() > 1 {
        return Some("AdditionalVersionWeights can hold at most one version".to_owned());
    }
    weights.iter().find_map(|(k, v)| {
        if !versions.contains(&k.parse().unwrap_or(0)) {
            Some(format!("{k} is not a published version"))
        } else if *k == target {
            Some(format!("{k} is the alias's own version"))
        } else if !(0.0..1.0).contains(v) {
            Some(format!("weight {v} is not in [0, 1)"))
        } else {
            None
        }
    })
}
