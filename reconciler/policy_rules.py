"""settings.policies as a manifest writes them (MANIFEST.md, "Policies"), their offline checks, and what a
broken rule looks like in a plan (`Violation`). Judging the rules on a site is reconciler/policies.py.

A rule is `deny: {permission, holder}`, `only: {permission, holders}`, or `deny: {customRoleRight}` /
`deny: {teamRoleRight}`, with an optional `level` and, for grant rules, `projects`. A holder uses the grants'
notation, and may also be its type alone, which matches every holder of that type.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema, model_validator

from reconciler import catalogue
from reconciler.errors import Diagnostic, SourceSpan, error, warning
from reconciler.kinds.base import NonEmptyName, SingleLineName, Spec, did_you_mean, problem
from reconciler.kinds.kind import CheckedHolders, list_items, node_at
from reconciler.kinds.permission_scheme import is_listed_permission, unlisted_permission_message
from reconciler.yamlsource import SourceMap

ANY_PERMISSION = "*"
SCHEMES, PROJECTS = "permissionSchemes", "projects"
# The right a deny rule names -> the kind whose roles it judges, the roles' list of granted rights in their
# essence, and the tool's list of such rights (advice: the site may know more).
RIGHT_RULES: Mapping[str, tuple[str, str, frozenset[str]]] = {
    "customRoleRight": ("customRoles", "grantedRights", catalogue.CUSTOM_ROLE_RIGHTS),
    "teamRoleRight": ("teamRoles", "granted", frozenset(catalogue.TEAM_ROLE_RIGHTS)),
}
# Shell-pattern characters other than `*`: rights are words and hyphens, so only `*` is a wildcard here.
_OTHER_WILDCARDS = re.compile(r"[?\[\]{}!\s]")


class PolicyHolder(Spec):
    """A holder in a rule: the grants' notation, or a type alone for every holder of that type."""

    type: str
    parameter: str | None = None
    value: str | None = None

    @model_validator(mode="after")
    def _check(self) -> PolicyHolder:
        if self.type not in catalogue.HOLDER_TYPES:
            hint = did_you_mean(self.type, catalogue.HOLDER_TYPES) or (
                f" (expected one of {', '.join(sorted(catalogue.HOLDER_TYPES))})"
            )
            raise problem("holder", f"unknown holder type {self.type!r}{hint}")
        if self.parameter == "" or self.value == "":
            raise problem("holder", f"holder {self.type!r} has an empty parameter")
        if self.type in catalogue.HOLDER_TYPES_WITHOUT_PARAMETER and self.ident is not None:
            raise problem("holder", f"holder type {self.type!r} takes no parameter")
        return self

    @property
    def ident(self) -> str | None:
        """The id or name the holder names; None for the type alone."""
        return self.value or self.parameter

    def readable(self) -> str:
        if self.value is not None:
            return f"{{type: {self.type}, value: {self.value}}}"
        return self.type if self.parameter is None else f"{self.type}:{self.parameter}"


def _holder_from_text(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1 and "type" not in value:
        ((kind, parameter),) = value.items()
        if kind in catalogue.HOLDER_TYPES:  # `- group: admins` is YAML for a mapping
            raise problem(
                "holder", f"write `{kind}:{parameter}` without a space after the colon, or quote it"
            )
    if isinstance(value, str):
        kind, sep, parameter = value.partition(":")
        return {"type": kind, "parameter": parameter} if sep else {"type": kind}
    return value


PolicyHolderRef = Annotated[
    PolicyHolder, BeforeValidator(_holder_from_text, json_schema_input_type=str | PolicyHolder)
]


def _check_permission(text: str) -> str:
    if text != ANY_PERMISSION and "*" in text:
        raise problem("policy", f"{text!r}: a permission is one key, or `*` alone for every permission")
    return text


PermissionPattern = Annotated[
    str,
    Field(min_length=1),
    AfterValidator(_check_permission),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "examples": [ANY_PERMISSION, *sorted(catalogue.BUILTIN_PERMISSION_KEYS)],
        }
    ),
]


def _check_right_pattern(text: str) -> str:
    found = _OTHER_WILDCARDS.search(text)
    if found:
        raise problem(
            "policy",
            f"{text!r}: {found.group()!r} cannot be in a right pattern; only `*` is a wildcard (any run of "
            "characters), as in '*-delete'",
        )
    return text


RightPattern = Annotated[str, Field(min_length=1), AfterValidator(_check_right_pattern)]


def right_matches(pattern: str, right: str) -> bool:
    """Whether a right matches a pattern in which `*` stands for any run of characters."""
    return re.fullmatch(".*".join(re.escape(part) for part in pattern.split("*")), right) is not None


class DenyRule(Spec):
    """`{permission, holder}`: no scheme grants that; `{customRoleRight}` / `{teamRoleRight}`: no role has
    a right that matches."""

    permission: PermissionPattern | None = None
    holder: PolicyHolderRef | None = None
    custom_role_right: RightPattern | None = Field(default=None, description="A right; `*` is a wildcard.")
    team_role_right: RightPattern | None = Field(default=None, description="A right; `*` is a wildcard.")

    @model_validator(mode="after")
    def _one_form(self) -> DenyRule:
        rights = [key for key, attribute in _RIGHT_FIELDS if getattr(self, attribute) is not None]
        on_grant = [key for key in ("permission", "holder") if getattr(self, key) is not None]
        if rights and on_grant:
            raise problem(
                "policy",
                f"a deny names a grant ({{permission, holder}}) or a right, not both: write {rights[0]} in a "
                "rule of its own",
                rights[0],
            )
        if len(rights) > 1:
            raise problem(
                "policy", "a deny names one right: write teamRoleRight in a rule of its own", rights[1]
            )
        if len(on_grant) == 1:
            missing = "holder" if on_grant == ["permission"] else "permission"
            raise problem(
                "policy",
                f"a deny of a grant needs both permission and holder; {missing} is missing "
                f"(`*` is every permission; a holder type alone, such as `group`, is every holder of it)",
            )
        if not rights and not on_grant:
            raise problem(
                "policy", "a deny needs {permission, holder}, {customRoleRight: R} or {teamRoleRight: R}"
            )
        return self

    @property
    def right_rule(self) -> tuple[str, str] | None:
        """(`customRoleRight` or `teamRoleRight`, its pattern) for a deny on role rights."""
        return next(
            (
                (key, value)
                for key, attribute in _RIGHT_FIELDS
                if (value := getattr(self, attribute)) is not None
            ),
            None,
        )


_RIGHT_FIELDS = (("customRoleRight", "custom_role_right"), ("teamRoleRight", "team_role_right"))


class OnlyRule(Spec):
    """The permission may be granted to these holders and to no other."""

    permission: PermissionPattern
    holders: list[PolicyHolderRef]

    @model_validator(mode="after")
    def _some_holders(self) -> OnlyRule:
        if not self.holders:
            raise problem(
                "policy",
                f"only.holders is empty: list who may have {self.permission} (to let nobody have it, deny it "
                "to each holder type)",
                "holders",
            )
        return self


class PolicyRule(Spec):
    name: SingleLineName = Field(description="Shown with every violation.")
    deny: DenyRule | None = None
    only: OnlyRule | None = None
    level: Literal["error", "warning"] = Field(
        default="error", description="error fails plan and apply before any write; warning is shown only."
    )
    projects: list[NonEmptyName] | None = Field(
        default=None, description="Grant rules only: judge only the schemes these projects use."
    )

    @model_validator(mode="after")
    def _one_rule(self) -> PolicyRule:
        if (self.deny is None) == (self.only is None):
            where = ("only",) if self.deny is not None else ()
            raise problem("policy", "a rule has exactly one of `deny` and `only`", *where)
        if self.projects is not None and not self.on_grants:
            raise problem(
                "policy", "projects applies to rules on grants: roles do not belong to projects", "projects"
            )
        if self.projects == []:
            raise problem("policy", "projects is empty: list project keys, or leave projects out", "projects")
        return self

    @property
    def on_grants(self) -> bool:
        return self.deny is None or self.deny.right_rule is None

    @property
    def permission(self) -> str:
        rule = self.only or self.deny
        assert rule is not None and rule.permission is not None
        return rule.permission


def kinds_judged(rules: list[PolicyRule]) -> frozenset[str]:
    """The kinds the rules need read (MANIFEST.md, "Kinds the manifests name"): schemes and projects for
    rules on grants, the roles for rules on rights."""
    kinds: set[str] = set()
    for rule in rules:
        right = rule.deny.right_rule if rule.deny else None
        kinds |= {RIGHT_RULES[right[0]][0]} if right else {SCHEMES, PROJECTS}
    return frozenset(kinds)


def lookups_named(rules: list[PolicyRule]) -> CheckedHolders:
    """The lookups the rules' holders need besides those the grants do: a custom field named by its name
    (live grants name fields by id). Groups and project roles are read whenever a grant names one."""
    holders = [
        holder
        for rule in rules
        for holder in (
            [rule.deny.holder] if rule.deny and rule.deny.holder else rule.only.holders if rule.only else []
        )
    ]
    fields = any(h.type in ("userCustomField", "groupCustomField") and h.ident for h in holders)
    return CheckedHolders(custom_fields=fields)


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
                    and not _OTHER_WILDCARDS.search(pattern)
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


@dataclass(frozen=True)
class Violation:
    """A rule that the site breaks once the plan is applied: on one grant of a scheme, or one right of a
    role. `source` is where a manifest declares the grant or right; None when only the site has it."""

    rule: str
    level: str  # "error" | "warning"
    object: str  # the scheme's or the role's address
    grant: str | None = None  # `KEY: holder`, for a rule on grants
    right: str | None = None  # for a rule on rights
    projects: tuple[str, ...] = ()  # the projects that use the scheme (within the rule's `projects`)
    source: SourceSpan | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"rule": self.rule, "level": self.level, "object": self.object}
        if self.right is not None:
            data["right"] = self.right
        else:
            data |= {"grant": self.grant, "projects": list(self.projects)}
        if self.source is not None:
            data |= {"file": self.source.file, "line": self.source.line, "column": self.source.column}
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Violation:
        source = (
            SourceSpan(str(data["file"]), int(data["line"]), int(data["column"])) if "file" in data else None
        )
        right = data.get("right")
        return cls(
            rule=str(data["rule"]),
            level=str(data["level"]),
            object=str(data["object"]),
            grant=None if right is not None else str(data["grant"]),
            right=None if right is None else str(right),
            projects=tuple(str(key) for key in data.get("projects", ())),
            source=source,
        )

    @property
    def what(self) -> str:
        """`grants BROWSE_PROJECTS: anyone`, or `grants the right alert-delete`."""
        return f"grants {self.grant}" if self.right is None else f"grants the right {self.right}"

    @property
    def where(self) -> str:
        return str(self.source) if self.source else "live, not in the manifests"

    def line(self) -> str:
        """`[error] No anonymous access: permissionSchemes/Public grants BROWSE_PROJECTS: anyone — projects
        IT — jsm/schemes.yaml:9:7`."""
        parts = [f"[{self.level}] {self.rule}: {self.object} {self.what}"]
        if self.right is None:
            parts.append(f"projects {', '.join(self.projects)}" if self.projects else "no project uses it")
        parts.append(self.where)
        return " — ".join(parts)
