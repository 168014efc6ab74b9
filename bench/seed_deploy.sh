#!/usr/bin/env bash
# The seed's deployment flow (shared/seed "Complete Deployment Script Example"), call for call, for
# benchmarking against self-deployer on the same emulator:
#   update-function-code → wait function-updated → invoke $LATEST (check statusCode 200)
#   → publish-version → update-alias
# Usage: seed_deploy.sh ENDPOINT FUNCTION_NAME IMAGE_URI
set -euo pipefail
ENDPOINT=$1
FUNCTION_NAME=$2
IMAGE_URI=$3
aws() { command aws --endpoint-url "$ENDPOINT" "$@"; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT

aws lambda update-function-code --function-name "$FUNCTION_NAME" --image-uri "$IMAGE_URI" \
  --query 'FunctionArn' --output text >/dev/null
aws lambda wait function-updated --function-name "$FUNCTION_NAME"
aws lambda invoke --function-name "$FUNCTION_NAME" --qualifier '$LATEST' \
  --payload '{"httpMethod": "GET", "path": "/api/v1/health"}' "$out" >/dev/null
if ! grep -q '"statusCode":200' "$out"; then
  echo "smoke test failed" >&2
  cat "$out" >&2
  exit 1
fi
VERSION=$(aws lambda publish-version --function-name "$FUNCTION_NAME" --query 'Version' --output text)
aws lambda update-alias --function-name "$FUNCTION_NAME" --name live --function-version "$VERSION" >/dev/null
echo "$VERSION"
