#!/usr/bin/env bash
# Checks the GitHub Action and the example workflows, offline: the published schemas (check-jsonschema's
# vendored copies) and zizmor (no finding of medium severity or above). tests/github/test_action_files.py
# runs the same checks in the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin
"$bin/check-jsonschema" --builtin-schema vendor.github-actions action.yml
"$bin/check-jsonschema" --builtin-schema vendor.github-workflows examples/workflows/*.yml
"$bin/zizmor" --offline --no-progress --config tests/github/zizmor.yml --min-severity medium \
  action.yml examples/workflows/*.yml
