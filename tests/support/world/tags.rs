//! Lambda tags: ListTags and TagResource on a function's unqualified ARN, as the deployer uses them
//! to remember rejected images and notified drift.

use super::faults::{err, lossy};
use super::{Call, World};
use aws_sdk_lambda::Client;
use aws_sdk_lambda::operation::list_tags::{ListTagsError, ListTagsOutput};
use aws_sdk_lambda::operation::tag_resource::{TagResourceError, TagResourceOutput};
use aws_smithy_mocks::{MockResponse, Rule, mock};

/// Lambda takes only an ARN here, and of the function, not of a version or alias.
fn function_of(arn: &str) -> Result<String, String> {
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "lambda", _, _, "function", name] => Ok((*name).to_owned()),
        _ => Err(format!("{arn} is not an unqualified function ARN")),
    }
}

impl World {
    pub(super) fn list_tags(&self) -> Rule {
        let st = self.state.clone();
        mock!(Client::list_tags).then_compute_response(lossy(
            st.clone(),
            move |req: &aws_sdk_lambda::operation::list_tags::ListTagsInput| {
                let mut s = st.lock().expect("lock");
                let arn = req.resource().unwrap_or_default().to_owned();
                if let Some(f) = s.begin(Call {
                    op: "ListTags",
                    function: arn.clone(),
                    ..Default::default()
                }) {
                    return s.faulted(f, ListTagsError::generic);
                }
                let name = match function_of(&arn) {
                    Ok(n) => n,
                    Err(e) => {
                        return MockResponse::Error(err!(
                            ListTagsError,
                            InvalidParameterValueException,
                            e
                        ));
                    }
                };
                let Some(func) = s.func(&name) else {
                    return MockResponse::Error(err!(
                        ListTagsError,
                        ResourceNotFoundException,
                        format!("Function not found: {arn}")
                    ));
                };
                let tags = func.tags.clone().into_iter().collect();
                MockResponse::Output(ListTagsOutput::builder().set_tags(Some(tags)).build())
            },
        ))
    }

    pub(super) fn tag_resource(&self) -> Rule {
        let st = self.state.clone();
        mock!(Client::tag_resource).then_compute_response(lossy(
            st.clone(),
            move |req: &aws_sdk_lambda::operation::tag_resource::TagResourceInput| {
                let mut s = st.lock().expect("lock");
                let arn = req.resource().unwrap_or_default().to_owned();
                let tags = req.tags().cloned().unwrap_or_default();
                let mut desc: Vec<String> = tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
                desc.sort();
                if let Some(f) = s.begin(Call {
                    op: "TagResource",
                    function: arn.clone(),
                    description: Some(desc.join(",")),
                    ..Default::default()
                }) {
                    return s.faulted(f, TagResourceError::generic);
                }
                let name = match function_of(&arn) {
                    Ok(n) => n,
                    Err(e) => {
                        return MockResponse::Error(err!(
                            TagResourceError,
                            InvalidParameterValueException,
                            e
                        ));
                    }
                };
                if let Some(bad) = tags.values().find(|v| v.len() > 256) {
                    return MockResponse::Error(err!(
                        TagResourceError,
                        InvalidParameterValueException,
                        format!("tag value of {} characters exceeds 256", bad.len())
                    ));
                }
                let Some(func) = s.func(&name) else {
                    return MockResponse::Error(err!(
                        TagResourceError,
                        ResourceNotFoundException,
                        format!("Function not found: {arn}")
                    ));
                };
                func.tags.extend(tags);
                MockResponse::Output(TagResourceOutput::builder().build())
            },
        ))
    }

    /// The function's tags, as ListTags would show them.
    pub fn tags(&self, name: &str) -> std::collections::BTreeMap<String, String> {
        self.with_func(name, |f| f.tags.clone())
    }
}
