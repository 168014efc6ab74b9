//! The Lambda operations on functions, their code and their versions, as rules the mock client
//! serves: each records its call, runs the hooks, answers an injected fault if there is one, and
//! otherwise enforces what Lambda enforces (RevisionId and CodeSha256 guards, updates in progress).

use super::faults::{err, lossy, precondition};
use super::{ACCOUNT, Answer, Call, Code, REGION, Snapshot, World};
use aws_sdk_lambda::Client;
use aws_sdk_lambda::operation::delete_function::{DeleteFunctionError, DeleteFunctionOutput};
use aws_sdk_lambda::operation::get_function::{GetFunctionError, GetFunctionOutput};
use aws_sdk_lambda::operation::invoke::{InvokeError, InvokeOutput};
use aws_sdk_lambda::operation::list_versions_by_function::{
    ListVersionsByFunctionError, ListVersionsByFunctionOutput,
};
use aws_sdk_lambda::operation::publish_version::{PublishVersionError, PublishVersionOutput};
use aws_sdk_lambda::operation::update_function_code::{
    UpdateFunctionCodeError, UpdateFunctionCodeOutput,
};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    FunctionCodeLocation, FunctionConfiguration, LastUpdateStatus, PackageType,
    State as LambdaState,
};
use aws_smithy_mocks::{MockResponse, Rule, mock};

pub(super) fn config_of(
    name: &str,
    version: &str,
    code: &Code,
    revision: &str,
    description: &str,
) -> aws_sdk_lambda::types::builders::FunctionConfigurationBuilder {
    FunctionConfiguration::builder()
        .function_name(name)
        .function_arn(format!(
            "arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}:{version}"
        ))
        .version(version)
        .code_sha256(&code.sha)
        .revision_id(revision)
        .package_type(PackageType::Image)
        .description(description)
}

impl World {
    pub(super) fn get_function(&self) -> Rule {
        let st = self.state.clone();
        mock!(Client::get_function).then_compute_response(lossy(
            st.clone(),
            move |req: &aws_sdk_lambda::operation::get_function::GetFunctionInput| {
                let mut s = st.lock().expect("lock");
                let function = req.function_name().unwrap_or_default().to_owned();
                let qualifier = req.qualifier().map(str::to_owned);
                if let Some(f) = s.begin(Call {
                    op: "GetFunction",
                    function: function.clone(),
                    qualifier: qualifier.clone(),
                    ..Default::default()
                }) {
                    return s.faulted(f, GetFunctionError::generic);
                }
                let latest_state = s.latest_state(&function);
                let Some(func) = s.func(&function) else {
                    return MockResponse::Error(err!(
                        GetFunctionError,
                        ResourceNotFoundException,
                        format!("Function not found: {function}")
                    ));
                };
                let q = qualifier.unwrap_or_else(|| "$LATEST".into());
                let name = function.rsplit(':').next().unwrap_or(&function).to_owned();
                let (conf, code) = if q == "$LATEST" {
                    let mut c = config_of(&name, "$LATEST", &func.latest, &func.revision, "")
                        .package_type(func.package_type.clone())
                        .state(latest_state)
                        .architectures(aws_sdk_lambda::types::Architecture::from(
                            func.architecture.as_str(),
                        ))
                        .last_update_status(func.status.clone());
                    if let Some(r) = &func.status_reason {
                        c = c.last_update_status_reason(r);
                    }
                    (c.build(), func.latest.clone())
                } else if let Some(snap) = q.parse::<u64>().ok().and_then(|v| func.versions.get(&v))
                {
                    let mut c = config_of(&name, &q, &snap.code, "rev-version", &snap.description)
                        .state(snap.state.clone())
                        .last_update_status(LastUpdateStatus::Successful);
                    if q.parse()
                        .is_ok_and(|v: u64| func.images_deleted.contains(&v))
                    {
                        c = c
                            .state(LambdaState::Failed)
                            .state_reason_code(aws_sdk_lambda::types::StateReasonCode::ImageDeleted)
                            .state_reason("The image used by this function has been deleted.");
                    }
                    let c = c.build();
                    (c, snap.code.clone())
                } else if let Some(a) = func.aliases.get(&q) {
                    let v: u64 = a.version.parse().unwrap_or(0);
                    let snap = func
                        .versions
                        .get(&v)
                        .cloned()
                        .expect("alias points to a version");
                    let c = config_of(
                        &name,
                        &a.version,
                        &snap.code,
                        "rev-version",
                        &snap.description,
                    )
                    .state(LambdaState::Active)
                    .last_update_status(LastUpdateStatus::Successful)
                    .build();
                    (c, snap.code)
                } else {
                    return MockResponse::Error(err!(
                        GetFunctionError,
                        ResourceNotFoundException,
                        format!("Function not found: {function}:{q}")
                    ));
                };
                let loc = FunctionCodeLocation::builder()
                    .repository_type("ECR")
                    .image_uri(&code.image_uri)
                    .resolved_image_uri(&code.image_uri)
                    .build();
                MockResponse::Output(
                    GetFunctionOutput::builder()
                        .configuration(conf)
                        .code(loc)
                        .build(),
                )
            },
        ))
    }

    pub(super) fn update_function_code(&self) -> Rule {
        let st = self.state.clone();
        mock!(Client::update_function_code).then_compute_response(lossy(st.clone(), move |req: &aws_sdk_lambda::operation::update_function_code::UpdateFunctionCodeInput| {
            let mut s = st.lock().expect("lock");
            let function = req.function_name().unwrap_or_default().to_owned();
            let call = Call {
                op: "UpdateFunctionCode",
                function: function.clone(),
                image_uri: req.image_uri().map(str::to_owned),
                revision_id: req.revision_id().map(str::to_owned),
                ..Default::default()
            };
            if let Some(f) = s.begin(call) {
                return s.faulted(f, UpdateFunctionCodeError::generic);
            }
            let now = s.t();
            let rev = s.next_revision();
            // As AWS: an image index is not an image Lambda can run.
            if let Some(uri) = req.image_uri().filter(|u| s.is_index_uri(u)) {
                return MockResponse::Error(err!(UpdateFunctionCodeError, InvalidParameterValueException, format!("The image manifest, config or layer media type for the source image {uri} is not supported.")));
            }
            s.reactivate(&function, now);
            let Some(func) = s.func(&function) else {
                return MockResponse::Error(err!(UpdateFunctionCodeError, ResourceNotFoundException, "Function not found"));
            };
            if func.status == LastUpdateStatus::InProgress {
                return MockResponse::Error(err!(UpdateFunctionCodeError, ResourceConflictException, "The operation cannot be performed at this time. An update is in progress for resource"));
            }
            if req.revision_id().is_some_and(|r| r != func.revision) {
                return MockResponse::Error(precondition(UpdateFunctionCodeError::generic));
            }
            let Some(uri) = req.image_uri() else {
                return MockResponse::Error(err!(UpdateFunctionCodeError, InvalidParameterValueException, "ImageUri is required"));
            };
            let hex = uri.rsplit_once("@sha256:").map(|(_, h)| h.to_owned()).expect("tests deploy by digest");
            func.latest = Code { image_uri: uri.to_owned(), sha: hex };
            func.status = LastUpdateStatus::InProgress;
            func.status_reason = None;
            func.done_at = Some(now + func.update_takes);
            func.revision = rev.clone();
            let name = function.rsplit(':').next().unwrap_or(&function).to_owned();
            let out = UpdateFunctionCodeOutput::builder()
                .function_name(name)
                .version("$LATEST")
                .code_sha256(&func.latest.sha)
                .revision_id(rev)
                .last_update_status(LastUpdateStatus::InProgress)
                .build();
            MockResponse::Output(out)
        }))
    }

    pub(super) fn invoke(&self) -> Rule {
        let st = self.state.clone();
        mock!(Client::invoke).then_compute_response(lossy(
            st.clone(),
            move |req: &aws_sdk_lambda::operation::invoke::InvokeInput| {
                let mut s = st.lock().expect("lock");
                let function = req.function_name().unwrap_or_default().to_owned();
                let payload = req
                    .payload()
                    .map(|b| String::from_utf8_lossy(b.as_ref()).into_owned());
                let call = Call {
                    op: "Invoke",
                    function: function.clone(),
                    qualifier: req.qualifier().map(str::to_owned),
                    payload,
                    ..Default::default()
                };
                if let Some(f) = s.begin(call) {
                    return s.faulted(f, InvokeError::generic);
                }
                if req.invocation_type() == Some(&aws_sdk_lambda::types::InvocationType::Event) {
                    let body = s.current_call().payload.clone().unwrap_or_default();
                    return s.invoke_event(&body);
                }
                let q = req.qualifier().unwrap_or("$LATEST").to_owned();
                let state = s.latest_state(&function);
                if q == "$LATEST" && state != LambdaState::Active {
                    return MockResponse::Error(err!(
                        InvokeError,
                        ResourceNotReadyException,
                        format!(
                            "The function is currently in the following state: {}",
                            state.as_str()
                        )
                    ));
                }
                let Some(func) = s.func(&function) else {
                    return MockResponse::Error(err!(
                        InvokeError,
                        ResourceNotFoundException,
                        "Function not found"
                    ));
                };
                let sha = if q == "$LATEST" {
                    if func.status == LastUpdateStatus::InProgress {
                        return MockResponse::Error(err!(
                            InvokeError,
                            ResourceConflictException,
                            "The function is being updated"
                        ));
                    }
                    func.latest.sha.clone()
                } else {
                    let v: u64 = q.parse().expect("tests invoke $LATEST or a version");
                    func.versions[&v].code.sha.clone()
                };
                let a = s
                    .answers
                    .get(&sha)
                    .cloned()
                    .unwrap_or_else(|| Answer::status(200));
                s.current_call().ran = Some((sha, a.clone()));
                let mut out = InvokeOutput::builder()
                    .status_code(200)
                    .executed_version(q)
                    .payload(Blob::new(a.payload.into_bytes()))
                    .log_result(aws_smithy_types::base64::encode(a.log.as_bytes()));
                if let Some(fe) = a.function_error {
                    out = out.function_error(fe);
                }
                MockResponse::Output(out.build())
            },
        ))
    }

    pub(super) fn publish_version(&self) -> Rule {
        let st = self.state.clone();
        mock!(Client::publish_version).then_compute_response(lossy(st.clone(), move |req: &aws_sdk_lambda::operation::publish_version::PublishVersionInput| {
            let mut s = st.lock().expect("lock");
            let function = req.function_name().unwrap_or_default().to_owned();
            let call = Call {
                op: "PublishVersion",
                function: function.clone(),
                revision_id: req.revision_id().map(str::to_owned),
                code_sha256: req.code_sha256().map(str::to_owned),
                description: req.description().map(str::to_owned),
                ..Default::default()
            };
            if let Some(f) = s.begin(call) {
                return s.faulted(f, PublishVersionError::generic);
            }
            let now = s.t();
            let Some(func) = s.func(&function) else {
                return MockResponse::Error(err!(PublishVersionError, ResourceNotFoundException, "Function not found"));
            };
            if func.status == LastUpdateStatus::InProgress {
                return MockResponse::Error(err!(PublishVersionError, ResourceConflictException, "An update is in progress"));
            }
            if let Some(sha) = req.code_sha256().filter(|sha| *sha != func.latest.sha) {
                return MockResponse::Error(err!(PublishVersionError, InvalidParameterValueException, format!("CodeSHA256 ({sha}) is different from current CodeSHA256 in $LATEST ({}). Please try again with the current CodeSHA256.", func.latest.sha)));
            }
            if req.revision_id().is_some_and(|r| r != func.revision) {
                return MockResponse::Error(precondition(PublishVersionError::generic));
            }
            // As in AWS: unchanged code since the last version publishes nothing new.
            let last = func.versions.iter().next_back().map(|(v, snap)| (*v, snap.clone()));
            let (v, snap) = match last {
                Some((v, snap)) if snap.code == func.latest => (v, snap),
                _ => {
                    let v = func.next_version;
                    func.next_version += 1;
                    let pending = !func.version_pending_for.is_zero();
                    let snap = Snapshot {
                        code: func.latest.clone(),
                        description: req.description().unwrap_or_default().to_owned(),
                        state: if pending { LambdaState::Pending } else { LambdaState::Active },
                    };
                    if pending {
                        func.version_active_at.insert(v, now + func.version_pending_for);
                    }
                    func.versions.insert(v, snap.clone());
                    (v, snap)
                }
            };
            let name = function.rsplit(':').next().unwrap_or(&function).to_owned();
            let out = PublishVersionOutput::builder()
                .function_name(name)
                .version(v.to_string())
                .code_sha256(&snap.code.sha)
                .description(&snap.description)
                .state(snap.state.clone())
                .build();
            MockResponse::Output(out)
        }))
    }

    pub(super) fn list_versions(&self) -> Rule {
        let st = self.state.clone();
        mock!(Client::list_versions_by_function).then_compute_response(lossy(st.clone(), move |req: &aws_sdk_lambda::operation::list_versions_by_function::ListVersionsByFunctionInput| {
            let mut s = st.lock().expect("lock");
            let function = req.function_name().unwrap_or_default().to_owned();
            if let Some(f) = s.begin(Call {
                op: "ListVersionsByFunction",
                function: function.clone(),
                ..Default::default()
            }) {
                return s.faulted(f, ListVersionsByFunctionError::generic);
            }
            let func = s.func(&function).expect("function exists").clone();
            let name = function.rsplit(':').next().unwrap_or(&function).to_owned();
            let mut out = ListVersionsByFunctionOutput::builder()
                .versions(config_of(&name, "$LATEST", &func.latest, &func.revision, "").build());
            for (v, snap) in &func.versions {
                out = out.versions(
                    config_of(
                        &name,
                        &v.to_string(),
                        &snap.code,
                        "rev-version",
                        &snap.description,
                    )
                    .build(),
                );
            }
            MockResponse::Output(out.build())
        }))
    }

    pub(super) fn delete_function(&self) -> Rule {
        let st = self.state.clone();
        mock!(Client::delete_function).then_compute_response(lossy(st.clone(), move |req: &aws_sdk_lambda::operation::delete_function::DeleteFunctionInput| {
            let mut s = st.lock().expect("lock");
            let function = req.function_name().unwrap_or_default().to_owned();
            let q = req.qualifier().map(str::to_owned);
            if let Some(f) = s.begin(Call {
                op: "DeleteFunction",
                function: function.clone(),
                qualifier: q.clone(),
                ..Default::default()
            }) {
                return s.faulted(f, DeleteFunctionError::generic);
            }
            let q = q.expect("the engine must never delete a whole function");
            let func = s.func(&function).expect("function exists");
            let v: u64 = q.parse().expect("only numbered versions are deleted");
            if func
                .aliases
                .values()
                .any(|a| a.version == q || a.routing.contains_key(&q))
            {
                return MockResponse::Error(err!(
                    DeleteFunctionError,
                    ResourceConflictException,
                    format!(
                        "Unable to delete version because the following aliases reference it: {q}"
                    )
                ));
            }
            func.versions.remove(&v);
            MockResponse::Output(DeleteFunctionOutput::builder().build())
        }))
    }
}
