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
