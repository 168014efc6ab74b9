#!/usr/bin/env bash
# The seed's rollback: move the alias back by hand. Usage: seed_rollback.sh ENDPOINT FUNCTION VERSION
set -euo pipefail
aws --endpoint-url "$1" lambda update-alias --function-name "$2" --name live --function-version "$3" >/dev/null
