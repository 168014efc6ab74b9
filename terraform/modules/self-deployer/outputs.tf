output "function_name" {
  value = aws_lambda_function.deployer.function_name
}

output "function_arn" {
  value = aws_lambda_function.deployer.arn
}

output "topic_arn" {
  value = aws_sns_topic.notifications.arn
}

output "failed_invocations_queue_url" {
  value = aws_sqs_queue.failed_invocations.url
}

output "dashboard_name" {
  value = aws_cloudwatch_dashboard.deployer.dashboard_name
}

output "rollback_command" {
  description = "Roll a function back to its previous version (replace FUNCTION)."
  value       = "aws lambda invoke --function-name ${aws_lambda_function.deployer.function_name} --cli-binary-format raw-in-base64-out --payload '{\"action\":\"rollback\",\"function\":\"FUNCTION\"}' /dev/stdout"
}

output "promote_command" {
  description = "During a rollout, give the new version all traffic now (replace FUNCTION)."
  value       = "aws lambda invoke --function-name ${aws_lambda_function.deployer.function_name} --cli-binary-format raw-in-base64-out --payload '{\"action\":\"promote\",\"function\":\"FUNCTION\"}' /dev/stdout"
}

output "rollout_schedule_group_name" {
  description = "Where a rollout's pending check waits (aws scheduler list-schedules --group-name ...)."
  value       = aws_scheduler_schedule_group.rollouts.name
}

output "scheduler_role_arn" {
  value = aws_iam_role.scheduler.arn
}

output "deployer_role_arn" {
  description = "The role a target's assume_role_arn in another account must trust (docs/stages.md)."
  value       = aws_iam_role.deployer.arn
}

output "stage_account_snippet" {
  description = "What another account needs for a target there (docs/stages.md): replace OTHER_ACCOUNT and REPOSITORY."
  value       = <<-EOT
    (1) trust policy of the role in OTHER_ACCOUNT (its ARN goes in the target's assume_role_arn):
    {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"${aws_iam_role.deployer.arn}"},"Action":"sts:AssumeRole"}]}
    and its permissions: lambda:GetAlias, GetFunction, UpdateFunctionCode, InvokeFunction,
    PublishVersion, UpdateAlias, CreateAlias, ListVersionsByFunction, ListAliases, DeleteFunction,
    GetProvisionedConcurrencyConfig, ListTags, TagResource on the target's functions (and their qualifiers),
    cloudwatch:DescribeAlarms and cloudwatch:GetMetricData on "*" (the rollout's gates read
    them in that account; DescribeAlarms sees composite alarms only on "*"), ecr:BatchGetImage, GetDownloadUrlForLayer,
    DescribeImages, DescribeImageScanFindings, DescribeImageSigningStatus on
    ${local.ecr_prefix}/REPOSITORY.
    (2) repository policy of REPOSITORY in ${data.aws_caller_identity.current.account_id}:
    {"Version":"2012-10-17","Statement":[{"Sid":"OtherAccountPulls","Effect":"Allow","Principal":{"AWS":"arn:${data.aws_partition.current.partition}:iam::OTHER_ACCOUNT:root"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:DescribeImages","ecr:DescribeImageScanFindings","ecr:DescribeImageSigningStatus"]},{"Sid":"OtherAccountLambdaPulls","Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Condition":{"StringLike":{"aws:sourceArn":"arn:${data.aws_partition.current.partition}:lambda:${data.aws_region.current.name}:OTHER_ACCOUNT:function:*"}}}]}
  EOT
}
