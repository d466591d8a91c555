"""The manifest JSON Schema, generated from the models, for editors and other validators.

Editors pick it up through the `# yaml-language-server: $schema=...` line at the top of a manifest file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reconciler.manifest import ManifestDocument

SCHEMA_FILE = "manifest.schema.json"
SCHEMA_ID = "https://github.com/jsm-reconciler/jsm-reconciler/schemas/manifest.schema.json"


def build_schema() -> dict[str, Any]:
    generated = ManifestDocument.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **generated,
        "title": "jsm-reconciler manifest, version 1",
    }


def render_schema() -> str:
    """The exact text written to disk, so a test can compare it with the committed file."""
    return json.dumps(build_schema(), indent=2, ensure_ascii=False) + "\n"


def write_schemas(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / SCHEMA_FILE
    target.write_text(render_schema(), encoding="utf-8")
    return [target]
