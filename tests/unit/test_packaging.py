"""pyproject.toml: metadata that installs without deprecation warnings."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

PYPROJECT = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())


def test_the_license_is_an_spdx_expression_with_a_setuptools_that_reads_it() -> None:
    # The `{text = ...}` table makes setuptools warn on every install; the string form needs setuptools 77.
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    (setuptools,) = [
        Requirement(r) for r in PYPROJECT["build-system"]["requires"] if r.startswith("setuptools")
    ]
    assert all(not spec.contains(Version("76.9")) for spec in setuptools.specifier)
    assert setuptools.specifier.contains(Version("77.0.0"))
