#!/usr/bin/env bash
# The contract tests the README's test command runs after `cargo test --workspace`: schemathesis
# against todo-jwt's document (api.sh), and the explorer in a real browser (explorer.sh).
set -euo pipefail
cd "$(dirname "$0")"
bash api.sh
bash explorer.sh
