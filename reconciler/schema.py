"""The manifest JSON Schema, generated from the models, for editors and other validators.

Editors pick it up through the `# yaml-language-server: $schema=...` line at the top of a manifest file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reconciler.kinds.kind import ResourceKind
from reconciler.manifest.document import manifest_document

SCHEMA_FILE = "manifest.schema.json"
SCHEMA_ID = "https://github.com/jsm-reconciler/jsm-reconciler/schemas/manifest.schema.json"


def build_schema(kinds: Sequence[ResourceKind]) -> dict[str, Any]:
    generated = manifest_document(tuple(kinds)).model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **generated,
        "title": "jsm-reconciler manifest, version 1",
    }


def render_schema(kinds: Sequence[ResourceKind]) -> str:
    """The exact text written to disk, so a test can compare it with the committed file."""
    return json.dumps(build_schema(kinds), indent=2, ensure_ascii=False) + "\n"


def write_schemas(out_dir: Path, kinds: Sequence[ResourceKind]) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / SCHEMA_FILE
    target.write_text(render_schema(kinds), encoding="utf-8")
    return [target]
