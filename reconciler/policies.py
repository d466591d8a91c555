"""Judging settings.policies (MANIFEST.md, "Policies") on the site as it will be. Pure.

Rules on grants are judged on every permission scheme, declared or only live, with the projects that use
each one (reconciler/access.py gives both); rules on rights on every custom role and team role. Each
violation is placed at the grant or right in the manifests, or said to be live only. `judge` adds the
violations of the site as a plan leaves it to the plan (error-level ones are plan errors too, which no
--force lets through); `live_violations` judges the site as it is now, for `access --check`. Both say, with
`rule_problems`, what keeps a rule from judging what it names: a holder, a permission or a project the site
does not have.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from reconciler import catalogue
from reconciler.access import AccessState, Grant, GrantHolder, live_access, planned_access
from reconciler.address import Address
from reconciler.errors import Diagnostic, SourceSpan, error, warning
from reconciler.kind_names import PERMISSION_SCHEMES
from reconciler.kinds.holder import Holder
from reconciler.kinds.kind import Essence, Lookups
from reconciler.kinds.permission_scheme import PermissionSchemeSpec, resolve_holder
from reconciler.kinds.rights import after_changes
from reconciler.live import LiveState
from reconciler.plan.model import Plan, Violation
from reconciler.policy_rules import ANY_PERMISSION, RIGHT_RULES, PolicyHolder, PolicyRule, right_matches
from reconciler.spec import did_you_mean
from reconciler.state import DesiredState

SCHEMES = PERMISSION_SCHEMES.kind
# A role after the plan: the addresses it goes by (the first is shown), and its essence.
Role = tuple[tuple[Address, ...], Essence]
ROLE_KINDS = tuple(kind for kind, _field, _known in RIGHT_RULES.values())
# The errors a plan gets from its policies: `access --planned` shows them after its report, and refuses for
# no other error of the plan.
POLICY_CODES = frozenset({"plan.policy", "plan.policy_unknown"})
# What `rule_problems` says.
RULE_PROBLEM_CODES = frozenset({"plan.policy_unknown", "plan.policy_project"})


@dataclass(frozen=True)
class EndState:
    """What the rules judge: the schemes' grants and the projects on each scheme, and the roles by kind."""

    access: AccessState
    roles: Mapping[str, Sequence[Role]]


def judges_grants(desired: DesiredState) -> bool:
    """Whether a rule judges grants: then every plan needs every project's scheme (to scope the rule and to
    name the projects concerned)."""
    return any(rule.on_grants for rule in desired.settings.policies)


def judge(plan: Plan, desired: DesiredState, live: LiveState, project_map: Mapping[str, str]) -> Plan:
    """The plan with the violations of the site as it leaves it; error-level ones are also plan errors.
    `project_map` is every project's scheme now (project key -> scheme name)."""
    rules = desired.settings.policies
    if not rules:
        return plan
    found = planned_violations(plan, desired, live, project_map)
    by_name = {rule.name: rule for rule in rules}
    problems = [_error(item, by_name[item.rule]) for item in found if item.level == "error"]
    problems += rule_problems(desired, live.lookups, live_access(live, project_map))
    return replace(plan, policy=tuple(found)).with_diagnostics(problems)


def planned_violations(
    plan: Plan, desired: DesiredState, live: LiveState, project_map: Mapping[str, str]
) -> list[Violation]:
    """The rules the site breaks once `plan` is applied."""
    roles = {
        kind: after_changes(live.of(kind), [change for change in plan.changes if change.kind == kind])
        for kind in ROLE_KINDS
    }
    state = EndState(planned_access(plan, live, project_map), roles)
    return violations(desired, state, live.lookups)


def live_violations(
    desired: DesiredState, live: LiveState, project_map: Mapping[str, str]
) -> list[Violation]:
    """The rules the site breaks as it is now (as read into `live`, with every project's scheme)."""
    roles = {
        kind: [((obj.address, obj.identity), obj.essence) for obj in live.of(kind)] for kind in ROLE_KINDS
    }
    return violations(desired, EndState(live_access(live, project_map), roles), live.lookups)


def violations(desired: DesiredState, state: EndState, lookups: Lookups) -> list[Violation]:
    """Every grant and right of `state` that a rule of the manifests forbids, rule by rule, in order.
    `lookups` name the groups, project roles and fields that the rules and grants name."""
    where = _Positions(desired, lookups)
    users: dict[str, set[str]] = defaultdict(set)
    for project, scheme in state.access.projects.items():
        users[scheme].add(project)
    found: list[Violation] = []
    for rule in desired.settings.policies:
        if rule.on_grants:
            found += _on_grants(rule, state.access, users, lookups, where)
        else:
            found += _on_rights(rule, state.roles, where)
    return found


def _on_grants(
    rule: PolicyRule,
    access: AccessState,
    users: Mapping[str, set[str]],
    lookups: Lookups,
    where: _Positions,
) -> list[Violation]:
    scope = set(rule.projects) if rule.projects is not None else None
    found = []
    for scheme in sorted(access.schemes):
        projects = users.get(scheme, set())
        if scope is not None:
            projects = projects & scope
            if not projects:
                continue  # the rule is about other projects' schemes
        for grant in sorted(access.schemes[scheme], key=lambda grant: grant.label):
            if _forbids(rule, grant, lookups):
                found.append(
                    Violation(
                        rule=rule.name,
                        level=rule.level,
                        object=str(Address(SCHEMES, "", scheme)),
                        grant=grant.label,
                        projects=tuple(sorted(projects)),
                        source=where.grant(scheme, grant),
                    )
                )
    return found


def _forbids(rule: PolicyRule, grant: Grant, lookups: Lookups) -> bool:
    if rule.permission not in (ANY_PERMISSION, grant.permission):
        return False
    if rule.deny is not None:
        assert rule.deny.holder is not None
        return holder_matches(rule.deny.holder, grant.holder, lookups)
    assert rule.only is not None
    return not any(holder_matches(allowed, grant.holder, lookups) for allowed in rule.only.holders)


def holder_matches(pattern: PolicyHolder, holder: GrantHolder, lookups: Lookups) -> bool:
    """Whether a rule's holder names a grant's holder. A type alone names every holder of the type; a name
    names the ids it has on the site, as the grants' names are resolved (a group or project role by name,
    a field by id or exact name), and the holder as a label shows it."""
    if pattern.type != holder.type:
        return False
    ident = pattern.ident
    if ident is None:
        return True
    named = {ident} if pattern.value is not None else {ident, *_ids_named(pattern.type, ident, lookups)}
    return holder.value in named or holder.label == pattern.readable()


def _ids_named(holder_type: str, name: str, lookups: Lookups) -> list[str]:
    by_name: Mapping[str, list[str]] = {}
    if holder_type == "group":
        by_name = lookups.group_ids_by_name
    elif holder_type == "projectRole":
        by_name = lookups.project_role_ids_by_name
    elif holder_type in ("userCustomField", "groupCustomField"):
        by_name = lookups.custom_field_ids_by_name
    return by_name.get(name, [])


def _on_rights(rule: PolicyRule, roles: Mapping[str, Sequence[Role]], where: _Positions) -> list[Violation]:
    assert rule.deny is not None and rule.deny.right_rule is not None
    key, pattern = rule.deny.right_rule
    kind, field, _known = RIGHT_RULES[key]
    found = []
    for addresses, essence in sorted(roles.get(kind, ()), key=lambda role: str(role[0][0])):
        for right in sorted(essence[field]):
            if right_matches(pattern, right):
                found.append(
                    Violation(
                        rule=rule.name,
                        level=rule.level,
                        object=str(addresses[0]),
                        right=right,
                        source=where.right(addresses, field, right),
                    )
                )
    return found


class _Positions:
    """Where the manifests declare a grant or a right of the end state, if they do."""

    def __init__(self, desired: DesiredState, lookups: Lookups) -> None:
        self.desired = desired
        self.lookups = lookups
        self.declared = {address.key: address for address in desired.objects}
        # A live object that a manifest declares under a new name (renamedFrom) is declared there too.
        for address, spec in desired.objects.items():
            for earlier in getattr(spec, "renamed_from", ()):
                self.declared.setdefault(address.renamed(earlier).key, address)

    def grant(self, scheme: str, grant: Grant) -> SourceSpan | None:
        address = self.declared.get(Address(SCHEMES, "", scheme).key)
        spec = self.desired.objects.get(address) if address else None
        if address is None or not isinstance(spec, PermissionSchemeSpec):
            return None
        for index, holder in enumerate(spec.grants.get(grant.permission, ())):
            resolved = resolve_holder(holder, self.lookups)
            if not isinstance(resolved, str) and resolved[0] == grant.holder.label:
                return self.desired.locate(address, "grants", grant.permission, index)
        return None

    def right(self, addresses: Sequence[Address], field: str, right: str) -> SourceSpan | None:
        address = next((self.declared[a.key] for a in addresses if a.key in self.declared), None)
        if address is None:
            return None
        rights = self.desired.objects[address].model_dump(by_alias=True).get(field, [])
        index = rights.index(right) if right in rights else None
        return self.desired.locate(address, field, index) if index is not None else None


def _error(item: Violation, rule: PolicyRule) -> Diagnostic:
    if item.right is None:
        users = f"projects {', '.join(item.projects)}" if item.projects else "no project uses it"
        what = f"grants {item.grant} ({users})"
    else:
        what = f"grants the right {item.right}"
    live = "; the grant is live, not in the manifests" if item.source is None else ""
    return error(
        "plan.policy",
        f"{what}, but the policy {rule.name!r} {_rule_text(rule)}{live}",
        source=item.source,
        address=item.object,
    )


def _rule_text(rule: PolicyRule) -> str:
    """`denies BROWSE_PROJECTS to anyone`, `allows ADMINISTER_PROJECTS only to group:admins`, ..."""
    if rule.deny is not None and rule.deny.right_rule is not None:
        key, pattern = rule.deny.right_rule
        noun = "custom role" if key == "customRoleRight" else "team role"
        return f"denies {noun} rights matching {pattern!r}"
    permission = "every permission" if rule.permission == ANY_PERMISSION else rule.permission
    if rule.deny is not None:
        assert rule.deny.holder is not None
        return f"denies {permission} to {_holder_text(rule.deny.holder)}"
    assert rule.only is not None
    return f"allows {permission} only to {', '.join(_holder_text(h) for h in rule.only.holders)}"


def _holder_text(holder: PolicyHolder) -> str:
    if holder.ident is None and holder.type not in catalogue.HOLDER_TYPES_WITHOUT_PARAMETER:
        return f"every {holder.type}"
    return holder.readable()


def rule_problems(desired: DesiredState, lookups: Lookups, now: AccessState) -> list[Diagnostic]:
    """What keeps a rule from judging what it says, on the site as it is `now`, at its position. A holder or
    permission the site does not have is a problem at the rule's level, as in a grant: a deny rule with a
    mistyped name would judge nothing and pass, in every plan and every audit. A holder that a live grant
    names is known, whatever the lookups say (an account gone from /user/bulk that a scheme still grants
    to). A project the site does not show is a warning: the rule still judges the others."""
    project_map = now.projects
    granted = {(grant.holder.type, grant.holder.value) for grants in now.schemes.values() for grant in grants}
    problems: list[Diagnostic] = []
    for index, rule in enumerate(desired.settings.policies):
        form = "deny" if rule.deny is not None else "only"
        if rule.on_grants:
            where = ("policies", index, form)
            unknown = _unknown_permission(rule.permission, lookups)
            if unknown:
                problems.append(_unjudged(rule, unknown, desired.locate_setting(*where, "permission")))
            for at, holder in _holders_at(rule):
                unknown = None if (holder.type, holder.ident) in granted else _unknown_holder(holder, lookups)
                if unknown:
                    problems.append(_unjudged(rule, unknown, desired.locate_setting(*where, *at)))
        missing = [key for key in rule.projects or () if key not in project_map]
        if missing:
            problems.append(
                warning(
                    "plan.policy_project",
                    f"the policy {rule.name!r} names project(s) {', '.join(missing)} that the site does not "
                    "have, or that the account does not administer: the rule judges no scheme for them",
                    source=desired.locate_setting("policies", index, "projects"),
                )
            )
    return problems


def _holders_at(rule: PolicyRule) -> list[tuple[tuple[str | int, ...], PolicyHolder]]:
    """Each holder the rule names, with its path below the rule's form."""
    if rule.only is not None:
        return [(("holders", index), holder) for index, holder in enumerate(rule.only.holders)]
    assert rule.deny is not None and rule.deny.holder is not None
    return [(("holder",), rule.deny.holder)]


def _unknown_permission(permission: str, lookups: Lookups) -> str | None:
    if permission == ANY_PERMISSION or not lookups.permission_keys or permission in lookups.permission_keys:
        return None
    return f"the site has no permission {permission!r}{did_you_mean(permission, lookups.permission_keys)}"


def _unknown_holder(holder: PolicyHolder, lookups: Lookups) -> str | None:
    """Why the site has no such holder, or None. A name that several groups (roles, fields) share names
    them all, so it is no problem here, unlike in a grant."""
    ident = holder.ident
    if ident is None or (holder.value is None and _ids_named(holder.type, ident, lookups)):
        return None
    grant_holder = Holder(type=holder.type, parameter=holder.parameter, value=holder.value)
    resolved = resolve_holder(grant_holder, lookups)
    return resolved if isinstance(resolved, str) else None


def _unjudged(rule: PolicyRule, why: str, source: SourceSpan | None) -> Diagnostic:
    """At the rule's level: an error-level rule that cannot judge what it names blocks like its violations
    would; a warning-level one is shown."""
    say = error if rule.level == "error" else warning
    return say(
        "plan.policy_unknown",
        f"the policy {rule.name!r} names what the site does not have, and would judge nothing there: {why}",
        source=source,
    )
