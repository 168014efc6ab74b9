# Alarms and a dashboard on what the deployer reports (template.yaml has the same; tests/iac checks
# they agree). The alarms notify the topic, which is encrypted with a key CloudWatch may use.

resource "aws_kms_key" "notifications" {
  description         = "self-deployer notifications (SNS topic), usable by its CloudWatch alarms"
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministersThroughIam"
        Effect    = "Allow"
        Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "AlarmsPublishToTheTopic"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
      },
    ]
  })
}

# The deployer itself failed: a crash, a bad configuration or payload, and every failed deployment
# (which ends its invocation in an error).
resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name          = "${var.name}-errors"
  alarm_description   = "self-deployer invocations ended in an error (a failed deployment, a bad payload or configuration). See its log and the failure queue."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.deployer.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.notifications.arn]
}

resource "aws_cloudwatch_metric_alarm" "failed_deployments" {
  alarm_name          = "${var.name}-failed-deployments"
  alarm_description   = "A deployment failed (metric Deployments, Outcome=failed). The alias stayed where it was; the notification and `self-deployer history` say more."
  namespace           = var.metrics_namespace
  metric_name         = "Deployments"
  dimensions          = { Outcome = "failed" }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.notifications.arn]
}

resource "aws_cloudwatch_metric_alarm" "failed_invocations" {
  alarm_name          = "${var.name}-failed-invocations"
  alarm_description   = "Invocations that could not be delivered or crashed are waiting in the failure queue."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.failed_invocations.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.notifications.arn]
}

resource "aws_cloudwatch_dashboard" "deployer" {
  dashboard_name = var.name
  dashboard_body = jsonencode({
    widgets = concat([
      {
        type = "metric", x = 0, y = 0, width = 12, height = 6
        properties = {
          title   = "Deployments by outcome"
          region  = data.aws_region.current.name
          view    = "timeSeries"
          stacked = true
          metrics = [[{ expression = "SEARCH('{\"${var.metrics_namespace}\",Outcome} MetricName=\"Deployments\"', 'Sum', 3600)", id = "outcomes" }]]
        }
      },
      {
        type = "metric", x = 12, y = 0, width = 12, height = 6
        properties = {
          title  = "Deployment duration (deployed)"
          region = data.aws_region.current.name
          view   = "timeSeries"
          period = 3600
          metrics = [
            [var.metrics_namespace, "DeploymentDuration", "Outcome", "deployed", { stat = "p50", label = "p50" }],
            [var.metrics_namespace, "DeploymentDuration", "Outcome", "deployed", { stat = "p90", label = "p90" }],
          ]
        }
      },
      {
        type = "metric", x = 0, y = 6, width = 12, height = 6
        properties = {
          title   = "Rollbacks"
          region  = data.aws_region.current.name
          view    = "timeSeries"
          period  = 3600
          metrics = [[var.metrics_namespace, "Rollbacks", "Outcome", "rolled_back", { stat = "Sum", label = "rollbacks" }]]
        }
      },
      {
        type = "metric", x = 12, y = 6, width = 12, height = 6
        properties = {
          title  = "Smoke test failures and deployer errors"
          region = data.aws_region.current.name
          view   = "timeSeries"
          period = 3600
          metrics = [
            [var.metrics_namespace, "SmokeTestFailures", "Outcome", "failed", { stat = "Sum", label = "smoke test failures" }],
            ["AWS/Lambda", "Errors", "FunctionName", aws_lambda_function.deployer.function_name, { stat = "Sum", label = "deployer errors" }],
          ]
        }
      },
      ], [
      # The DORA row, one figure a widget: the metrics the engine writes per FunctionName
      # (src/signals/dora_emf.rs), p50 of the times and the average of the failures.
      for i, w in [
        { title = "DORA: lead time for changes (s, image created or pushed, to live)", metric = "LeadTimeSeconds", stat = "p50", id = "lead" },
        { title = "DORA: change failure rate", metric = "ChangeFailure", stat = "Average", id = "cfr" },
        { title = "DORA: time to restore (s)", metric = "TimeToRestoreSeconds", stat = "p50", id = "ttr" },
        ] : {
        type = "metric", x = 8 * i, y = 12, width = 8, height = 6
        properties = {
          title   = w.title
          region  = data.aws_region.current.name
          view    = "timeSeries"
          metrics = [[{ expression = "SEARCH('{\"${var.metrics_namespace}\",FunctionName} MetricName=\"${w.metric}\"', '${w.stat}', 86400)", id = w.id }]]
        }
      }
    ])
  })
}
