//! ECR: the images of each repository with their tags, and DescribeImages over them.

use super::{ACCOUNT, Call, REGION, World, digest};
use aws_sdk_ecr::operation::describe_images::{DescribeImagesError, DescribeImagesOutput};
use aws_sdk_ecr::types::ImageDetail;
use aws_smithy_mocks::{MockResponse, MockResponseInterceptor, RuleMode, mock};
use aws_smithy_types::error::ErrorMetadata;

impl World {
    /// An image in ECR (a push), optionally tagged; a tag moves from any earlier image.
    pub fn ecr_image(&self, repo: &str, c: char, tag: Option<&str>) {
        let mut s = self.lock();
        let images = s.images.entry(repo.to_owned()).or_default();
        if let Some(t) = tag {
            for (_, tags) in images.iter_mut() {
                tags.retain(|x| x != t);
            }
        }
        match images.iter_mut().find(|(d, _)| *d == digest(c)) {
            Some((_, tags)) => tags.extend(tag.map(str::to_owned)),
            None => images.push((digest(c), tag.map(str::to_owned).into_iter().collect())),
        }
    }

    /// What a lifecycle rule does.
    pub fn delete_ecr_image(&self, repo: &str, c: char) {
        let mut s = self.lock();
        if let Some(images) = s.images.get_mut(repo) {
            images.retain(|(d, _)| *d != digest(c));
        }
    }

    /// An ECR client that answers DescribeImages from this world.
    pub fn ecr_client(&self) -> aws_sdk_ecr::Client {
        let st = self.state.clone();
        let rule = mock!(aws_sdk_ecr::Client::describe_images).then_compute_response(move |req| {
            let mut s = st.lock().expect("lock");
            let repo = req.repository_name().unwrap_or_default().to_owned();
            let ids = req.image_ids().to_vec();
            let detail = ids
                .first()
                .map(|i| format!("{:?}/{:?}", i.image_digest(), i.image_tag()));
            s.calls.push(Call {
                op: "DescribeImages",
                function: repo.clone(),
                qualifier: detail,
                registry_id: req.registry_id().map(str::to_owned),
                ..Default::default()
            });
            // Images live in the registry asked for (a central registry), else our own.
            let registry = req.registry_id().unwrap_or(ACCOUNT).to_owned();
            let Some(images) = s.images.get(&repo) else {
                return MockResponse::Error(DescribeImagesError::generic(
                    ErrorMetadata::builder()
                        .code("RepositoryNotFoundException")
                        .message(format!("repository {repo} not found"))
                        .build(),
                ));
            };
            let mut out = DescribeImagesOutput::builder();
            for id in &ids {
                let hit = images.iter().find(|(d, tags)| {
                    id.image_digest().is_some_and(|x| x == d)
                        || id.image_tag().is_some_and(|t| tags.iter().any(|x| x == t))
                });
                match hit {
                    Some((d, tags)) => {
                        out = out.image_details(
                            ImageDetail::builder()
                                .registry_id(&registry)
                                .repository_name(&repo)
                                .image_digest(d)
                                .set_image_tags(Some(tags.clone()))
                                .build(),
                        );
                    }
                    None => {
                        return MockResponse::Error(DescribeImagesError::generic(
                            ErrorMetadata::builder()
                                .code("ImageNotFoundException")
                                .message("The image requested does not exist")
                                .build(),
                        ));
                    }
                }
            }
            MockResponse::Output(out.build())
        });
        let interceptor = MockResponseInterceptor::new()
            .rule_mode(RuleMode::MatchAny)
            .with_rule(&rule);
        let conf = aws_sdk_ecr::Config::builder()
            .with_test_defaults_v2()
            .region(aws_sdk_ecr::config::Region::new(REGION))
            .http_client(aws_smithy_mocks::create_mock_http_client())
            .interceptor(interceptor)
            .retry_config(aws_sdk_ecr::config::retry::RetryConfig::disabled())
            .build();
        aws_sdk_ecr::Client::from_conf(conf)
    }
}
