#!/usr/bin/env bash
# Installs the tool into .venv, then plans and applies examples/ against the embedded sandbox site, and
# shows who is an agent in one project afterwards, down to the accounts.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
export JSM_SANDBOX_STATE="${JSM_SANDBOX_STATE:-$PWD/.jsm-sandbox.json}"
.venv/bin/jsm-reconciler sandbox reset --seed examples/sandbox-seed.yaml
.venv/bin/jsm-reconciler plan examples/manifests
.venv/bin/jsm-reconciler apply --auto-approve --allow-delete examples/manifests
.venv/bin/jsm-reconciler plan --detailed-exitcode examples/manifests
.venv/bin/jsm-reconciler access --users --project SD --permission SERVICEDESK_AGENT   # the agents of SD now
