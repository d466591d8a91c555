#!/usr/bin/env bash
# Checks the GitHub Action and the example workflows, offline: the published schemas (check-jsonschema's
# vendored copies) and zizmor with its default and auditor personas (no finding at all).
# tests/github/test_action_files.py runs the same checks in the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin
workflows=(examples/workflows/*.yml examples/gitops/.github/workflows/jsm.yml)
"$bin/check-jsonschema" --builtin-schema vendor.github-actions action.yml
"$bin/check-jsonschema" --builtin-schema vendor.github-workflows "${workflows[@]}"
for persona in regular auditor; do
  "$bin/zizmor" --offline --no-progress --persona "$persona" --config tests/github/zizmor.yml \
    action.yml "${workflows[@]}"
done
