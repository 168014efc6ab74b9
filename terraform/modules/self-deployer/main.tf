# The same system as template.yaml (SAM); tests/iac/test_parity.py fails when they disagree.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  repositories = distinct([for t in var.targets : t.repository])
  functions    = distinct(flatten([for t in var.targets : t.functions]))
  # Only the fields a target sets, so the deployer's own defaults apply to the rest.
  targets_json = jsonencode([for t in var.targets : { for k, v in t : k => v if v != null }])

  lambda_prefix = "arn:${data.aws_partition.current.partition}:lambda:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:function"
  ecr_prefix    = "arn:${data.aws_partition.current.partition}:ecr:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:repository"
  event_bus_arn = "arn:${data.aws_partition.current.partition}:events:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:event-bus/${var.event_bus_name}"
}

resource "aws_lambda_function" "deployer" {
  # checkov:skip=CKV_AWS_117:The deployer only calls AWS APIs; a VPC would need NAT or endpoints for no gain.
  # checkov:skip=CKV_AWS_173:The environment holds no secrets (targets, alias, topic ARN); the default encryption at rest applies.
  # checkov:skip=CKV_AWS_116:Failed invocations go to the on-failure destination (aws_lambda_function_event_invoke_config), the successor of a DLQ.
  # checkov:skip=CKV_AWS_272:The artifact is built from source by `make build`; code signing is the operator's choice.
  # checkov:skip=CKV_AWS_50:X-Ray adds cost for a function that makes a handful of API calls; the report has per-step timings.
  function_name = var.name
  description   = "Deploys Lambda functions when their container image lands in ECR."
  role          = aws_iam_role.deployer.arn
  filename      = var.package_zip

  source_code_hash = filebase64sha256(var.package_zip)
  handler          = "bootstrap"
  runtime          = "provided.al2023"
  architectures    = ["arm64"]
  memory_size      = var.memory_size
  timeout          = 900

  # Deploys never run twice at once: two pushes in quick succession are queued, not raced.
  reserved_concurrent_executions = 1

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.deployer.name
  }

  environment {
    variables = {
      DEPLOYER_TARGETS             = local.targets_json
      DEPLOYER_ALIAS               = var.alias_name
      DEPLOYER_TOPIC_ARN           = aws_sns_topic.notifications.arn
      DEPLOYER_UPDATE_TIMEOUT_SECS = tostring(var.update_timeout_seconds)
      DEPLOYER_KEEP_VERSIONS       = tostring(var.keep_versions)
      DEPLOYER_EVENT_BUS           = var.event_bus_name
      DEPLOYER_METRICS             = "true"
      DEPLOYER_METRICS_NAMESPACE   = var.metrics_namespace
    }
  }
}

resource "aws_lambda_function_event_invoke_config" "deployer" {
  function_name = aws_lambda_function.deployer.function_name
  # A failed deploy is reported, not blindly repeated; a crashed invocation lands in the queue.
  maximum_retry_attempts = 0
  # Pushes queued behind a long deploy (concurrency 1) must not expire.
  maximum_event_age_in_seconds = 21600

  destination_config {
    on_failure {
      destination = aws_sqs_queue.failed_invocations.arn
    }
  }
}

resource "aws_cloudwatch_log_group" "deployer" {
  # checkov:skip=CKV_AWS_158:Logs hold deployment reports, no secrets; CloudWatch's default encryption applies.
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
}

resource "aws_cloudwatch_event_rule" "ecr_push" {
  name        = "${var.name}-ecr-push"
  description = "Successful pushes to the repositories self-deployer deploys"
  event_pattern = jsonencode({
    source      = ["aws.ecr"]
    detail-type = ["ECR Image Action"]
    detail = {
      action-type     = ["PUSH"]
      result          = ["SUCCESS"]
      repository-name = local.repositories
    }
  })
}

resource "aws_cloudwatch_event_target" "deployer" {
  rule = aws_cloudwatch_event_rule.ecr_push.name
  arn  = aws_lambda_function.deployer.arn

  retry_policy {
    maximum_event_age_in_seconds = 21600
    maximum_retry_attempts       = 10
  }
}

resource "aws_lambda_permission" "eventbridge" {
  statement_id  = "AllowEcrPushRule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.deployer.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.ecr_push.arn
}

resource "aws_iam_role" "deployer" {
  name        = var.name
  description = "self-deployer, least privilege (see README, Install)"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "deployer" {
  name = "self-deployer"
  role = aws_iam_role.deployer.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "DeployTargetFunctions"
        Effect = "Allow"
        Action = [
          "lambda:GetAlias",
          "lambda:GetFunction",
          "lambda:UpdateFunctionCode",
          "lambda:InvokeFunction",
          "lambda:PublishVersion",
          "lambda:UpdateAlias",
          "lambda:CreateAlias",
          "lambda:ListVersionsByFunction",
          "lambda:ListAliases",
          "lambda:DeleteFunction",
        ]
        Resource = concat(
          [for f in local.functions : "${local.lambda_prefix}:${f}"],
          [for f in local.functions : "${local.lambda_prefix}:${f}:*"],
        )
      },
      {
        # Lambda checks that whoever calls UpdateFunctionCode may pull the image.
        Sid      = "ReadTargetImages"
        Effect   = "Allow"
        Action   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:DescribeImages"]
        Resource = [for r in local.repositories : "${local.ecr_prefix}/${r}"]
      },
      {
        Sid      = "Notify"
        Effect   = "Allow"
        Action   = "sns:Publish"
        Resource = aws_sns_topic.notifications.arn
      },
      {
        # The topic is encrypted with a key of its own (so alarms can publish to it too).
        Sid      = "EncryptNotifications"
        Effect   = "Allow"
        Action   = ["kms:GenerateDataKey", "kms:Decrypt"]
        Resource = aws_kms_key.notifications.arn
      },
      {
        Sid      = "PutDeploymentEvents"
        Effect   = "Allow"
        Action   = "events:PutEvents"
        Resource = local.event_bus_arn
      },
      {
        Sid      = "KeepFailedInvocations"
        Effect   = "Allow"
        Action   = "sqs:SendMessage"
        Resource = aws_sqs_queue.failed_invocations.arn
      },
      {
        Sid      = "WriteOwnLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "${aws_cloudwatch_log_group.deployer.arn}:*"
      },
    ]
  })
}

resource "aws_sns_topic" "notifications" {
  name         = "${var.name}-notifications"
  display_name = "self-deployer"
  # A key of our own: CloudWatch alarms cannot publish to a topic under the AWS-managed key.
  kms_master_key_id = aws_kms_key.notifications.arn
}

resource "aws_sns_topic_subscription" "email" {
  count     = var.notification_email == "" ? 0 : 1
  topic_arn = aws_sns_topic.notifications.arn
  protocol  = "email"
  endpoint  = var.notification_email
}

resource "aws_sqs_queue" "failed_invocations" {
  # checkov:skip=CKV2_AWS_73:The AWS-managed key suffices: the queue holds failed invocation records, no secrets, and needs no key policy to maintain.
  name                      = "${var.name}-failed-invocations"
  message_retention_seconds = 1209600
  kms_master_key_id         = "alias/aws/sqs"
}
