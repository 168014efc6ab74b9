# Example: a container-image function with a `live` alias (the seed's pattern), and the deployer
# that moves that alias on every push to its repository: a canary of 10 %, then 50 %, five minutes
# each, rolled back by its alarm or by the new version's own error rate.
#
#   make build                       # target/lambda/self-deployer/bootstrap.zip
#   terraform init && terraform apply

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60.0, < 7.0.0"
    }
  }
}

provider "aws" {
  region = var.region
}

variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "image_uri" {
  description = "The first image of the API (repository@sha256:...); later ones arrive by push."
  type        = string
}

resource "aws_ecr_repository" "api" {
  name                 = "api"
  image_tag_mutability = "IMMUTABLE"

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
  }
}

resource "aws_iam_role" "api" {
  name = "api-dev"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_lambda_function" "api" {
  # checkov:skip=CKV_AWS_117:An example function; put it in a VPC if it needs private resources.
  # checkov:skip=CKV_AWS_116:An example API function invoked synchronously through its alias.
  # checkov:skip=CKV_AWS_173:No environment secrets in this example.
  # checkov:skip=CKV_AWS_272:Container images are signed (or not) in ECR, not here.
  # checkov:skip=CKV_AWS_50:X-Ray is the operator's choice for the example API.
  # checkov:skip=CKV_AWS_115:The example API scales with traffic; no reserved concurrency.
  function_name = "api-dev"
  role          = aws_iam_role.api.arn
  package_type  = "Image"
  image_uri     = var.image_uri
  architectures = ["arm64"]
  timeout       = 30

  # The deployer owns the code from now on: Terraform must not push it back to the first image.
  lifecycle {
    ignore_changes = [image_uri]
  }
}

# Terraform declares the alias; the deployer decides which version it points to.
resource "aws_lambda_alias" "live" {
  name             = "live"
  function_name    = aws_lambda_function.api.function_name
  function_version = "$LATEST" # initial value; the first deployment pins it to a version

  lifecycle {
    ignore_changes = [function_version]
  }
}

# The canary's alarm: errors behind the alias. The deployer reads it at every check, and its going to
# ALARM rolls a rollout back at once.
resource "aws_cloudwatch_metric_alarm" "api_errors" {
  alarm_name          = "api-dev-errors"
  alarm_description   = "Errors of api-dev behind its live alias"
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.api.function_name, Resource = "${aws_lambda_function.api.function_name}:${aws_lambda_alias.live.name}" }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 5
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
}

module "self_deployer" {
  source = "../../modules/self-deployer"

  package_zip = "${path.root}/../../../target/lambda/self-deployer/bootstrap.zip"
  targets = [
    {
      repository = aws_ecr_repository.api.name
      functions  = [aws_lambda_function.api.function_name]
      tags       = ["v*", "sha-*"]
      smoke = {
        payload       = { httpMethod = "GET", path = "/api/v1/health" }
        expect_status = [200]
      }
      keep_versions = 10
      rollout = {
        steps           = [10, 50]
        interval_secs   = 300
        alarms          = [aws_cloudwatch_metric_alarm.api_errors.alarm_name]
        max_error_rate  = 0.05
        min_invocations = 20
      }
    },
  ]
  notification_email = ""
}

output "rollback_command" {
  value = module.self_deployer.rollback_command
}
