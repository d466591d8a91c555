"""CSM products."""

from __future__ import annotations

from pydantic import Field

from reconciler import catalogue
from reconciler.kinds.base import RenamedFrom, Spec


class ProductSpec(Spec):
    name: str = Field(min_length=1, max_length=catalogue.PRODUCT_NAME_MAX)
    renamed_from: RenamedFrom
