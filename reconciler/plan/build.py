"""Building the plan: match desired to live objects and decide the actions. Pure.

Matching follows MANIFEST.md: objects are matched by natural key (names compared as the API does);
`renamedFrom` turns a create + delete into a rename in place. A reference must name an object that the
manifests declare or the site has and the plan keeps. What may be applied is judged from above, on the
finished plan (safety.py); nothing here calls it.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import replace

from reconciler.allocation import cycle_collection_paused
from reconciler.diff import diff_essences
from reconciler.errors import Diagnostic, error, warning
from reconciler.kind_names import CUSTOM_ROLES, PERMISSION_SCHEMES, TEAM_ROLES
from reconciler.kinds.kind import (
    Action,
    DesiredObject,
    Identity,
    LiveObject,
    Reference,
    ResourceKind,
)
from reconciler.live import LiveState
from reconciler.plan.draft import Draft, new_draft
from reconciler.plan.model import Plan, sorted_diagnostics
from reconciler.plan.order import order_changes
from reconciler.state import DesiredState


@cycle_collection_paused()
def build_plan(
    desired: DesiredState,
    live: LiveState,
    kinds: Sequence[ResourceKind],
) -> Plan:
    """Every change that makes the site match the manifests, for the kinds they name, ordered. Whether it
    may be applied is judged from above (reconciler/safety.py); `select_targets` narrows it to --target."""
    diagnostics: list[Diagnostic] = []
    drafts: list[Draft] = []
    unmanaged: list[str] = []
    protected: list[str] = []
    declared: dict[str, list[DesiredObject]] = {}
    for kind in kinds:
        # A kind no manifest names is not planned, even when read for what the named ones refer to.
        if kind.name not in live.objects or kind.name not in desired.named_kinds:
            continue
        desired_objects, problems = kind.desired(desired, live.lookups)
        declared[kind.name] = desired_objects
        diagnostics += problems
        current = _through_renames(kind, live.of(kind.name), drafts)
        kind_drafts, kind_unmanaged, kind_protected, kind_diagnostics = _plan_kind(
            kind, desired_objects, current, desired
        )
        drafts += kind_drafts
        unmanaged += kind_unmanaged
        protected += kind_protected
        diagnostics += kind_diagnostics
    diagnostics += _reference_problems(declared, drafts, live, desired, kinds)
    diagnostics += _names_taken_in_another_case(drafts, live)
    ordered, touches, order_problems = order_changes(drafts, live, kinds)
    diagnostics += order_problems
    return Plan(
        site=live.site,
        changes=ordered,
        unmanaged=tuple(sorted(unmanaged)),
        protected=tuple(sorted(protected)),
        diagnostics=tuple(sorted_diagnostics(diagnostics)),
        kinds=tuple(name for name in live.objects),
        fingerprints=live.fingerprints(),
        touches={change.key: touches[change.key] for change in ordered},
    )


def _through_renames(
    kind: ResourceKind, live_objects: Sequence[LiveObject], drafts: Sequence[Draft]
) -> Sequence[LiveObject]:
    """The live objects as the plan leaves the objects they name: a reference to an object the plan renames
    reads as its new name, so that a project on a renamed scheme is no change (kinds plan in registry order,
    so what they name is planned first)."""
    new_names = {
        old: str(draft.after["name"])
        for draft in drafts
        if draft.action is Action.RENAME and draft.after is not None
        for old in draft.releases
    }
    if not kind.refers_to or not new_names:
        return live_objects
    renamed = []
    for obj in live_objects:
        if obj.unreadable is not None:  # what it names is not known
            renamed.append(obj)
            continue
        essence = dict(obj.essence)
        for ref in kind.references(obj.essence):
            new_name = new_names.get(ref.identity)
            if new_name is not None:
                essence[ref.path[0]] = new_name
        renamed.append(replace(obj, essence=essence) if essence != obj.essence else obj)
    return renamed


def _plan_kind(
    kind: ResourceKind,
    desired_objects: list[DesiredObject],
    live_objects: Sequence[LiveObject],
    state: DesiredState,
) -> tuple[list[Draft], list[str], list[str], list[Diagnostic]]:
    live_by_identity: dict[Identity, LiveObject] = {}
    twins: list[LiveObject] = []
    for obj in live_objects:
        if live_by_identity.setdefault(obj.identity, obj) is not obj:
            twins.append(obj)  # the site allows it for some kinds (products); the first one is matched
    matches, diagnostics, undecidable = _match(desired_objects, live_by_identity)
    diagnostics += kind.review(desired_objects, live_objects)
    diagnostics += [
        warning(
            "plan.duplicate_live",
            f"the site has more than one {twin.address} (ids {live_by_identity[twin.identity].server_id}, "
            f"{twin.server_id}); the first is managed, the others are treated as not declared",
            address=str(twin.address),
        )
        for twin in twins
    ]
    drafts: list[Draft] = []
    matched_live: set[int] = set()  # ids of the live objects matched: twins share an identity
    for wanted in desired_objects:
        current = matches.get(wanted.identity)
        if current is None:
            cannot_create = kind.missing(wanted)
            if cannot_create is not None:
                diagnostics.append(cannot_create)
            else:
                drafts.append(new_draft(kind, Action.CREATE, wanted, None))
            continue
        matched_live.add(id(current))
        if wanted.identity in undecidable:
            continue
        if current.unreadable is not None:
            diagnostics.append(
                error(
                    "plan.unreadable", current.unreadable, source=wanted.source, address=str(wanted.address)
                )
            )
            continue
        diagnostics += kind.notes(wanted, current)
        diffs = diff_essences(current.essence, wanted.essence, kind.set_fields)  # the one diff of the pair
        if not kind.can_update_in_place(current.essence, wanted.essence):
            if state.protects(current.address):
                diagnostics.append(
                    error(
                        "plan.protected",
                        f"{wanted.address} would be replaced (deleted and created again), "
                        f"but {current.address} is protected in settings.protect",
                        source=wanted.source,
                        address=str(wanted.address),
                    )
                )
                continue
            drafts.append(new_draft(kind, Action.REPLACE, wanted, current, diffs))
        elif current.identity != wanted.identity:
            drafts.append(new_draft(kind, Action.RENAME, wanted, current, diffs))
        elif diffs:
            drafts.append(new_draft(kind, Action.UPDATE, wanted, current, diffs))
    diagnostics += [
        warning(
            "plan.loses_data",
            f"this update {draft.loses_data}; like a delete, it needs apply --allow-delete, and "
            "settings.thresholds count it as one",
            source=draft.source,
            address=str(draft.address),
        )
        for draft in drafts
        if draft.loses_data is not None
    ]
    unmanaged: list[str] = []
    kept: list[str] = []
    for obj in live_objects:
        if id(obj) in matched_live or obj.unreadable is not None:
            continue
        if kind.name not in state.prune:
            unmanaged.append(str(obj.address))
        elif state.protects(obj.address):
            kept.append(str(obj.address))
        else:
            drafts.append(new_draft(kind, Action.DELETE, None, obj))
    return drafts, unmanaged, kept, diagnostics


def _match(
    desired_objects: list[DesiredObject], live_by_identity: Mapping[Identity, LiveObject]
) -> tuple[dict[Identity, LiveObject], list[Diagnostic], set[Identity]]:
    """Which live object each desired object becomes (MANIFEST.md, "Identity and addresses").

    An object whose name is live keeps it, unless that live object is the earlier name of an object
    that must be renamed (a rename chain, whose new names are free). When an object's name and one of
    its earlier names are both live, the site alone cannot tell a rename still to do from one already
    done (a swap or rotation looks the same either way), so that is an error, never a guess: such
    objects come back as undecidable and get no change.
    """
    renaming = _needing_rename(desired_objects, live_by_identity)
    matches: dict[Identity, LiveObject] = {}
    taken: set[Identity] = set()
    diagnostics: list[Diagnostic] = []
    undecidable: set[Identity] = set()

    def take(wanted: DesiredObject, identity: Identity) -> None:
        matches[wanted.identity] = live_by_identity[identity]
        taken.add(identity)

    for wanted in desired_objects:
        if wanted.identity not in renaming and wanted.identity in live_by_identity:
            take(wanted, wanted.identity)
    for wanted in desired_objects:
        if wanted.identity not in renaming:
            continue
        earlier = [old for old in wanted.renamed_from if old in live_by_identity and old not in taken]
        if len(earlier) > 1:
            names = ", ".join(repr(live_by_identity[old].essence["name"]) for old in earlier)
            diagnostics.append(
                error(
                    "plan.rename_ambiguous",
                    f"several earlier names of {wanted.address} exist on the site ({names}); "
                    "keep only one of them in renamedFrom",
                    source=wanted.source,
                    address=str(wanted.address),
                )
            )
        elif earlier:
            take(wanted, earlier[0])
        elif wanted.identity in live_by_identity and wanted.identity not in taken:
            take(wanted, wanted.identity)
    in_place = {
        wanted.identity: wanted
        for wanted in desired_objects
        if wanted.identity in matches and matches[wanted.identity].identity == wanted.identity
    }
    cyclic = _on_rename_cycles(in_place)
    for identity, wanted in in_place.items():
        for old in wanted.renamed_from:
            # An earlier name that no other object keeps, or one that goes round a cycle (a swap, a
            # rotation): the site looks the same before and after such a rename.
            if old in live_by_identity and (old not in taken or identity in cyclic):
                diagnostics.append(_both_names_live(wanted, matches[identity], live_by_identity[old]))
                undecidable.add(identity)
    return matches, diagnostics, undecidable


def _on_rename_cycles(in_place: Mapping[Identity, DesiredObject]) -> set[Identity]:
    """The objects, each on its own live name, whose renamedFrom leads back to themselves through
    other such objects. A completed rename chain ends in an object that names no earlier live one."""
    earlier = {
        identity: [old for old in wanted.renamed_from if old in in_place]
        for identity, wanted in in_place.items()
    }
    cyclic: set[Identity] = set()
    for start, names in earlier.items():
        seen: set[Identity] = set()
        stack = list(names)
        while stack:
            node = stack.pop()
            if node == start:
                cyclic.add(start)
                break
            if node not in seen:
                seen.add(node)
                stack.extend(earlier[node])
    return cyclic


def _both_names_live(wanted: DesiredObject, current: LiveObject, earlier: LiveObject) -> Diagnostic:
    earlier_name = earlier.essence["name"]
    return error(
        "plan.rename_conflict",
        f"{wanted.address} has an earlier name {earlier_name!r} in renamedFrom, and both are live: "
        f"{current.address} (id {current.server_id}) and {earlier.address} (id {earlier.server_id}); "
        "the site cannot tell a rename still to do from one already done, so nothing is planned for it; "
        f"go there in two steps: first rename {earlier_name!r} to a name that is free on the site "
        "(or delete it, or drop it from renamedFrom) and apply; then rename it to the name you want",
        source=wanted.source,
        address=str(wanted.address),
    )


def _needing_rename(
    desired_objects: list[DesiredObject], live_by_identity: Mapping[Identity, LiveObject]
) -> set[Identity]:
    """The desired objects that take their live object from an earlier name: those whose name is not
    live, and, along a rename chain, those whose live name such an object takes away."""
    renaming = {obj.identity for obj in desired_objects if obj.identity not in live_by_identity}
    while True:
        claimed = {old for obj in desired_objects if obj.identity in renaming for old in obj.renamed_from}
        freed = {
            obj.identity
            for obj in desired_objects
            if obj.identity not in renaming and obj.identity in claimed
        }
        if not freed:
            return renaming
        renaming |= freed


# Kinds whose names the sandbox keeps unique without case, as a site may: the documents do not say.
UNIQUE_NAMES = frozenset({CUSTOM_ROLES.kind, TEAM_ROLES.kind, PERMISSION_SCHEMES.kind})


def _names_taken_in_another_case(drafts: Sequence[Draft], live: LiveState) -> list[Diagnostic]:
    """A create of a scheme or role whose name the site has in another case. The schemes' document says a
    name "must be unique" without saying how names compare, the roles' says nothing, and only the detail
    fields' says their comparison ignores case (those names compare without case here). A site that compares
    the others the same way, as the sandbox does, refuses the create at apply: a warning, since the site may
    take it, naming the way to rename instead."""
    creates = [d for d in drafts if d.action is Action.CREATE and d.kind.name in UNIQUE_NAMES]
    if not creates:
        return []
    live_names = {
        (obj.identity.kind, obj.identity.scope, obj.identity.name.casefold()): obj.address.name
        for kind in UNIQUE_NAMES
        for obj in live.of(kind)
    }
    problems: list[Diagnostic] = []
    for draft in creates:
        for wanted in draft.claims:
            name = live_names.get((wanted.kind, wanted.scope, wanted.name.casefold()))
            if name is None or name == wanted.name:
                continue
            noun = draft.kind.address_form.noun
            problems.append(
                warning(
                    "plan.name_case",
                    f"the site has the {noun} {name!r}, whose name differs only in case: a site that keeps "
                    "names unique without case refuses this create; to rename it instead, write "
                    f"renamedFrom: [{name}]",
                    source=draft.source,
                    address=str(draft.address),
                )
            )
    return problems


def _reference_problems(
    declared: Mapping[str, list[DesiredObject]],
    drafts: list[Draft],
    live: LiveState,
    state: DesiredState,
    kinds: Sequence[ResourceKind],
) -> list[Diagnostic]:
    """A reference must name an object the manifests declare or the site has and the plan keeps."""
    # Names the plan takes away: a delete's, or a rename's earlier name.
    deleted = {identity for d in drafts for identity in d.releases - d.claims}
    known = {obj.identity for objects in declared.values() for obj in objects}
    problems: list[Diagnostic] = []
    for kind in kinds:
        for wanted in declared.get(kind.name, ()):
            for ref in kind.references(wanted.essence):
                if ref.identity.kind not in live.objects or ref.identity in known:
                    continue  # not read (--target): the site checks it when the change is applied
                problem = _reference_problem(ref, live, deleted, known)
                if problem:
                    problems.append(
                        error(
                            "plan.unknown_reference",
                            problem,
                            source=state.locate(wanted.address, *ref.path),
                            address=str(wanted.address),
                        )
                    )
    return problems


def _reference_problem(
    ref: Reference,
    live: LiveState,
    deleted: set[Identity],
    declared: set[Identity],
) -> str | None:
    name, kind = ref.identity.name, ref.identity.kind
    live_names = {obj.identity.name for obj in live.of(kind)}
    if name not in live_names:
        names = live_names | {identity.name for identity in declared if identity.kind == kind}
        near = difflib.get_close_matches(name, sorted(names), n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        return f"no {ref.what} named {name!r} on the site or in the manifests{hint}"
    if ref.identity in deleted:
        return f"this plan deletes or renames the {ref.what} {name!r}, but this still names it"
    return None
