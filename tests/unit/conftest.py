from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.inprocess import InProcessSite


@pytest.fixture
def site_factory(tmp_path: Path) -> Callable[..., InProcessSite]:
    count = 0

    def make(seed: dict[str, Any] | None = None) -> InProcessSite:
        nonlocal count
        count += 1
        manifests = tmp_path / f"manifests{count}"
        manifests.mkdir()
        return InProcessSite(manifests, seed)

    return make


@pytest.fixture
def site(site_factory: Callable[..., InProcessSite]) -> InProcessSite:
    return site_factory()
