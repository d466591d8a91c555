"""The checks of settings.policies across rules and against the tool's lists (MANIFEST.md, "Policies"):
made on the manifest's data, so that one invalid rule hides nothing about the others. The rules' own model
is reconciler/policy_rules.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reconciler.errors import Diagnostic, error, warning
from reconciler.kinds.kind import list_items, node_at
from reconciler.kinds.permission_scheme import is_listed_permission, unlisted_permission_message
from reconciler.policy_rules import OTHER_WILDCARDS, RIGHT_RULES, right_matches
from reconciler.spec import did_you_mean
from reconciler.yamlsource import SourceMap


def offline_checks(settings: Any, source_map: SourceMap) -> Iterator[Diagnostic]:
    """Checks across the rules, and of what the models leave to the site: a name used twice (violations name
    their rule) is an error; permissions and right patterns outside the tool's lists are warnings, as in
    grants and roles, since the site's own lists may hold more. From the data, so that one invalid rule
    hides nothing about the others."""
    named: dict[str, int] = {}
    for index, rule in list_items(node_at(settings, "policies")):
        name = node_at(rule, "name")
        first = named.setdefault(name, index) if isinstance(name, str) and name else index
        if first != index:
            yield error(
                "manifest.policy",
                f"policy {first + 1} is named {name!r} too: violations name their rule, so each name is "
                "used once",
                source=source_map.locate(("settings", "policies", index, "name")),
            )
        for form in ("deny", "only"):
            at = ("settings", "policies", index, form)
            permission = node_at(rule, form, "permission")
            if (
                isinstance(permission, str)
                and permission
                and "*" not in permission
                and not is_listed_permission(permission)
            ):
                yield warning(
                    "manifest.unknown_permission",  # the code of the grants' own warning
                    unlisted_permission_message(permission),
                    source=source_map.locate((*at, "permission")),
                )
            for key, (_kind, _field, known) in RIGHT_RULES.items():
                pattern = node_at(rule, form, key)
                if (
                    isinstance(pattern, str)
                    and pattern
                    and not OTHER_WILDCARDS.search(pattern)
                    and not any(right_matches(pattern, right) for right in known)
                ):
                    yield warning(
                        "manifest.unknown_right",  # the code of the roles' own warning
                        _unmatched_pattern_message(key, pattern, known),
                        source=source_map.locate((*at, key)),
                    )


def _unmatched_pattern_message(key: str, pattern: str, known: frozenset[str]) -> str:
    what = "custom role right" if key == "customRoleRight" else "team role right"
    hint = did_you_mean(pattern, known) if "*" not in pattern else ""
    if not hint and (pattern.endswith("-*") or pattern.startswith("*-")):
        word = pattern.strip("*-")
        turned = f"{word}-*" if pattern.startswith("*-") else f"*-{word}"
        if any(right_matches(turned, right) for right in known):
            hint = f" (did you mean {turned!r}?)"
    return (
        f"{key} {pattern!r} matches no {what} in the list the tool knows{hint}; that list is not the "
        "site's own, so the rule stays, and applies to any right the site has that matches it"
    )
