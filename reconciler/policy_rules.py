"""settings.policies as a manifest writes them (MANIFEST.md, "Policies"). The checks across rules are
reconciler/manifest/policies.py; judging the rules on a site is reconciler/policies.py; what a plan records of
a broken rule is `Violation` (reconciler/plan/model.py).

A rule is `deny: {permission, holder}`, `only: {permission, holders}`, or `deny: {customRoleRight}` /
`deny: {teamRoleRight}`, with an optional `level` and, for grant rules, `projects`. A holder uses the grants'
notation, and may also be its type alone, which matches every holder of that type.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema, model_validator

from reconciler import catalogue
from reconciler.kind_names import CUSTOM_ROLES, PERMISSION_SCHEMES, PROJECTS, TEAM_ROLES
from reconciler.spec import NonEmptyName, SingleLineName, Spec, did_you_mean, problem

ANY_PERMISSION = "*"
# The right a deny rule names -> the kind whose roles it judges, the roles' list of granted rights in their
# essence, and the tool's list of such rights (advice: the site may know more).
RIGHT_RULES: Mapping[str, tuple[str, str, frozenset[str]]] = {
    "customRoleRight": (CUSTOM_ROLES.kind, "grantedRights", catalogue.CUSTOM_ROLE_RIGHTS),
    "teamRoleRight": (TEAM_ROLES.kind, "granted", frozenset(catalogue.TEAM_ROLE_RIGHTS)),
}
# Shell-pattern characters other than `*`: rights are words and hyphens, so only `*` is a wildcard here.
OTHER_WILDCARDS = re.compile(r"[?\[\]{}!\s]")


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
    found = OTHER_WILDCARDS.search(text)
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
    def holders(self) -> list[PolicyHolder]:
        """The holders the rule names."""
        if self.only is not None:
            return list(self.only.holders)
        return [self.deny.holder] if self.deny is not None and self.deny.holder is not None else []

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
        kinds |= {RIGHT_RULES[right[0]][0]} if right else {PERMISSION_SCHEMES.kind, PROJECTS.kind}
    return frozenset(kinds)
