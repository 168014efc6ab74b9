# The same system as template.yaml (SAM); tests/iac/test_parity.py fails when they disagree.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  repositories = distinct([for t in var.targets : t.repository])
  functions    = distinct(flatten([for t in var.targets : t.functions]))
  # Only the fields a target sets (in its smoke and rollout too: Terraform fills unset optional
  # attributes with null, which the deployer would read as a value), so its own defaults apply.
  targets_json = jsonencode([for t in var.targets : merge(
    { for k, v in t : k => v if v != null && !contains(["smoke", "rollout", "after", "github"], k) },
    { for k, v in { smoke = t.smoke, rollout = t.rollout, after = t.after, github = t.github } : k => { for ik, iv in v : ik => iv if iv != null } if v != null },
  )])
  rollout_json = var.rollout == null ? "" : jsonencode({ for k, v in var.rollout : k => v if v != null })
  # Empty when unset: no checks unless a target sets its own.
  image_checks_json = var.image_checks == null ? "" : jsonencode({ for k, v in var.image_checks : k => v if v != null })

  # Every alarm a rollout names (a target's own rollout replaces the default one; both count here).
  rollout_alarm_names = flatten([
    for r in concat([var.rollout], [for t in var.targets : t.rollout]) : r == null ? [] : (r.alarms == null ? [] : r.alarms)
  ])
  rollout_alarms = distinct(local.rollout_alarm_names)
  # Decides the count of the alarm rule, its target and permission: from the list as written, whose
  # length is known at plan even when a name is not (distinct's would not be).
  has_rollout_alarms = length(local.rollout_alarm_names) > 0

  lambda_prefix = "arn:${data.aws_partition.current.partition}:lambda:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:function"
  ecr_prefix    = "arn:${data.aws_partition.current.partition}:ecr:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:repository"
  alarm_prefix  = "arn:${data.aws_partition.current.partition}:cloudwatch:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:alarm"
  event_bus_arn = "arn:${data.aws_partition.current.partition}:events:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:event-bus/${var.event_bus_name}"

  rollout_alarm_arns = [for a in local.rollout_alarms : "${local.alarm_prefix}:${a}"]

  # The roles of targets in other accounts (assume_role_arn): the deployer may assume these only.
  stage_role_arns = distinct([for t in var.targets : t.assume_role_arn if t.assume_role_arn != null])
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

  # Bounds the fan-out (one run per function, this many at once) and the deployer's share of the
  # account's concurrency. Runs that meet on one function are safe: the guards make the later one
  # wait, find the image already live, or stop without changing anything.
  reserved_concurrent_executions = var.reserved_concurrency

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.deployer.name
  }

  environment {
    variables = {
      DEPLOYER_TARGETS                 = local.targets_json
      DEPLOYER_ALIAS                   = var.alias_name
      DEPLOYER_TOPIC_ARN               = aws_sns_topic.notifications.arn
      DEPLOYER_UPDATE_TIMEOUT_SECS     = tostring(var.update_timeout_seconds)
      DEPLOYER_KEEP_VERSIONS           = tostring(var.keep_versions)
      DEPLOYER_IMAGE_CHECKS            = local.image_checks_json
      DEPLOYER_ROLLOUT                 = local.rollout_json
      DEPLOYER_SCHEDULER_ROLE_ARN      = aws_iam_role.scheduler.arn
      DEPLOYER_SCHEDULE_GROUP          = aws_scheduler_schedule_group.rollouts.name
      DEPLOYER_EVENT_BUS               = var.event_bus_name
      DEPLOYER_METRICS                 = "true"
      DEPLOYER_METRICS_NAMESPACE       = var.metrics_namespace
      DEPLOYER_INLINE_MAX              = tostring(var.inline_max)
      DEPLOYER_CONTROL_PLANE_RPS       = tostring(var.control_plane_rps)
      DEPLOYER_FLEET_REPORT_SECS       = tostring(var.fleet_report_seconds)
      DEPLOYER_NOTIFY_FLEET            = var.notify_fleet
      DEPLOYER_RECONCILE               = var.reconcile_mode
      DEPLOYER_GITHUB_TOKEN_SECRET_ARN = var.github_token_secret_arn == null ? "" : var.github_token_secret_arn
      DEPLOYER_GITHUB_API_URL          = var.github_api_url
    }
  }
}

resource "aws_lambda_function_event_invoke_config" "deployer" {
  function_name = aws_lambda_function.deployer.function_name
  # A failed deploy is reported, not blindly repeated; a crashed invocation lands in the queue.
  maximum_retry_attempts = 0
  # Pushes and dispatched runs queued behind long deploys must not expire.
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
          "lambda:GetProvisionedConcurrencyConfig",
        ]
        Resource = concat(
          [for f in local.functions : "${local.lambda_prefix}:${f}"],
          [for f in local.functions : "${local.lambda_prefix}:${f}:*"],
        )
      },
      {
        # What was rejected for a function and which drift was told: tags on the function itself
        # (TagResource and ListTags take the unqualified function ARN only).
        Sid      = "MarkTargetFunctions"
        Effect   = "Allow"
        Action   = ["lambda:ListTags", "lambda:TagResource"]
        Resource = [for f in local.functions : "${local.lambda_prefix}:${f}"]
      },
      {
        # Lambda checks that whoever calls UpdateFunctionCode may pull the image; every deployment
        # reads the image's labels from its config blob (lead time, GitHub's commit).
        Sid      = "ReadTargetImages"
        Effect   = "Allow"
        Action   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:DescribeImages"]
        Resource = [for r in local.repositories : "${local.ecr_prefix}/${r}"]
      },
      {
        # image_checks: what ECR's scan and managed signing say about an image.
        Sid      = "CheckTargetImages"
        Effect   = "Allow"
        Action   = ["ecr:DescribeImageScanFindings", "ecr:DescribeImageSigningStatus"]
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
      {
        # A rollout's next check is a one-time schedule in the deployer's own group; the engine
        # names every schedule sd-...
        Sid      = "ScheduleRolloutChecks"
        Effect   = "Allow"
        Action   = ["scheduler:CreateSchedule", "scheduler:DeleteSchedule"]
        Resource = "arn:${data.aws_partition.current.partition}:scheduler:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:schedule/${aws_scheduler_schedule_group.rollouts.name}/sd-*"
      },
      {
        # ListSchedules supports no resource-level permission (Service Authorization Reference: no
        # resource type): "*" is the only resource it takes. It reveals schedule names and states;
        # the engine asks for its own group and name prefix.
        Sid      = "FindRolloutChecks"
        Effect   = "Allow"
        Action   = "scheduler:ListSchedules"
        Resource = "*"
      },
      {
        # CreateSchedule hands the scheduler role to EventBridge Scheduler, and nothing else.
        Sid       = "PassSchedulerRole"
        Effect    = "Allow"
        Action    = "iam:PassRole"
        Resource  = aws_iam_role.scheduler.arn
        Condition = { StringEquals = { "iam:PassedToService" = "scheduler.amazonaws.com" } }
      },
      {
        # GetMetricData supports no resource-level permission (Service Authorization Reference: no
        # resource type, no condition key): "*" is the only resource it takes. Read-only; the
        # engine reads AWS/Lambda Errors and Invocations of the new version.
        Sid      = "ReadRolloutMetrics"
        Effect   = "Allow"
        Action   = "cloudwatch:GetMetricData"
        Resource = "*"
      },
      {
        # DescribeAlarms returns composite alarms only to a caller allowed it on "*" (CloudWatch API
        # Reference, DescribeAlarms); the engine asks for the gates' metric and composite alarms, so
        # a grant on the alarms' ARNs would never see a composite alarm and would roll back every
        # rollout gated on one. Read-only: alarm names, states and configuration.
        Sid      = "ReadRolloutAlarms"
        Effect   = "Allow"
        Action   = "cloudwatch:DescribeAlarms"
        Resource = "*"
      },
      {
        # Fan-out: one asynchronous run of the deployer per function. Itself only, unqualified.
        Sid      = "DispatchToItself"
        Effect   = "Allow"
        Action   = "lambda:InvokeFunction"
        Resource = "arn:${data.aws_partition.current.partition}:lambda:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:function:${var.name}"
      },
    ]
  })
}

# Targets in other accounts (assume_role_arn): the deployer assumes exactly the configured roles
# for their Lambda and ECR calls. A policy of its own, so that without stages there is no
# sts:AssumeRole grant at all.
resource "aws_iam_role_policy" "stages" {
  count = length(local.stage_role_arns) > 0 ? 1 : 0
  name  = "assume-stage-roles"
  role  = aws_iam_role.deployer.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "AssumeStageRoles"
      Effect   = "Allow"
      Action   = "sts:AssumeRole"
      Resource = local.stage_role_arns
    }]
  })
}

# GitHub deployments: the one secret that holds the token (or the App's key). A policy of its own,
# so that without GitHub there is no secretsmanager grant at all. (A secret encrypted with a
# customer managed key also needs kms:Decrypt on that key, in the key's policy.)
resource "aws_iam_role_policy" "github" {
  count = var.github_token_secret_arn == null ? 0 : 1
  name  = "read-github-token"
  role  = aws_iam_role.deployer.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "ReadGitHubToken"
      Effect   = "Allow"
      Action   = "secretsmanager:GetSecretValue"
      Resource = var.github_token_secret_arn
    }]
  })
}

# Where the deployer puts a rollout's one-time check schedules.
resource "aws_scheduler_schedule_group" "rollouts" {
  name = var.name
}

# EventBridge Scheduler assumes this role to invoke the deployer for a rollout's next check.
resource "aws_iam_role" "scheduler" {
  name        = "${var.name}-scheduler"
  description = "EventBridge Scheduler invokes self-deployer for a rollout's next check"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "scheduler.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
    }]
  })
}

resource "aws_iam_role_policy" "scheduler" {
  name = "invoke-self-deployer"
  role = aws_iam_role.scheduler.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      # The deployer itself, unqualified (what DEPLOYER_FUNCTION_ARN defaults to).
      Sid      = "InvokeDeployer"
      Effect   = "Allow"
      Action   = "lambda:InvokeFunction"
      Resource = aws_lambda_function.deployer.arn
    }]
  })
}

# A rollout watches its alarms between checks too: going to ALARM rolls it back at once.
resource "aws_cloudwatch_event_rule" "rollout_alarms" {
  count       = local.has_rollout_alarms ? 1 : 0
  name        = "${var.name}-rollout-alarms"
  description = "Rollout alarms of self-deployer going to ALARM"
  event_pattern = jsonencode({
    source      = ["aws.cloudwatch"]
    detail-type = ["CloudWatch Alarm State Change"]
    resources   = local.rollout_alarm_arns
    detail = {
      state = { value = ["ALARM"] }
    }
  })
}

resource "aws_cloudwatch_event_target" "rollout_alarms" {
  count = local.has_rollout_alarms ? 1 : 0
  rule  = aws_cloudwatch_event_rule.rollout_alarms[0].name
  arn   = aws_lambda_function.deployer.arn

  retry_policy {
    maximum_event_age_in_seconds = 21600
    maximum_retry_attempts       = 10
  }
}

resource "aws_lambda_permission" "rollout_alarms" {
  count         = local.has_rollout_alarms ? 1 : 0
  statement_id  = "AllowRolloutAlarmRule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.deployer.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.rollout_alarms[0].arn
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

# The reconcile sweep: pushes whose event EventBridge never delivered, aliases moved by hand.
resource "aws_cloudwatch_event_rule" "reconcile" {
  count               = var.reconcile_schedule == "" ? 0 : 1
  name                = "${var.name}-reconcile"
  description         = "self-deployer reconcile sweep"
  schedule_expression = var.reconcile_schedule
}

resource "aws_cloudwatch_event_target" "reconcile" {
  count = var.reconcile_schedule == "" ? 0 : 1
  rule  = aws_cloudwatch_event_rule.reconcile[0].name
  arn   = aws_lambda_function.deployer.arn
  input = jsonencode({ action = "reconcile" })
}

resource "aws_lambda_permission" "reconcile" {
  count         = var.reconcile_schedule == "" ? 0 : 1
  statement_id  = "AllowReconcileRule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.deployer.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.reconcile[0].arn
}
