"""The plan (moving into this package; for one commit its face hands on the names of build.py)."""

from reconciler.plan.build import FORMAT_VERSION, Exposure, Plan, build_plan, select_targets

__all__ = ["FORMAT_VERSION", "Exposure", "Plan", "build_plan", "select_targets"]
