"""The plan as a value: its ordered changes, its diagnostics and what its readers found in it (exposure,
broken policies, the access diff), with its JSON (CLI.md; a saved plan is applied exactly as reviewed) and
the digests that bind it: `checksum` refuses an edited plan file, `changes_digest` names what a reviewer
saw."""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from reconciler.address import Address
from reconciler.errors import Diagnostic, Severity, SourceSpan
from reconciler.kind_names import PROJECTS
from reconciler.kinds.kind import (
    Action,
    Change,
    FieldDiff,
    ResourceKind,
    WriteData,
)

FORMAT_VERSION = 1


@dataclass(frozen=True)
class Exposure:
    """One grant to anyone or applicationRole that the plan adds or removes, and whom it concerns: what the
    plan records of the exposure that reconciler/exposure.py finds in it."""

    change: str  # "added" | "removed"
    scheme: str
    grant: str  # "BROWSE_PROJECTS: anyone"
    projects: tuple[str, ...]  # keys of the projects that use the scheme once the plan is applied
    cause: str  # the address of the change that does it: the scheme, or a project moved onto it

    def to_json(self) -> dict[str, Any]:
        return {
            "change": self.change,
            "scheme": self.scheme,
            "grant": self.grant,
            "projects": list(self.projects),
            "cause": self.cause,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Exposure:
        return cls(
            change=str(data["change"]),
            scheme=str(data["scheme"]),
            grant=str(data["grant"]),
            projects=tuple(str(key) for key in data["projects"]),
            cause=str(data["cause"]),
        )

    def line(self) -> str:
        """`+ BROWSE_PROJECTS: anyone on Customer service scheme — projects SD, HR`."""
        symbol = "+" if self.change == "added" else "-"
        users = f"projects {', '.join(self.projects)}" if self.projects else "no project uses it"
        via = f" (by {self.cause})" if self.cause.startswith(f"{PROJECTS.kind}/") else ""
        return f"{symbol} {self.grant} on {self.scheme}{via} — {users}"


# --- what reconciler/access.py finds in a plan -----------------------------------------------------


@dataclass(frozen=True, order=True)
class GrantHolder:
    """Who a grant is for: the API's holder type and id, and the label plans show (`group:NAME`).

    Holders compare and sort by type and label, as a scheme's grants do; the id only serves to expand a
    holder to accounts, and a bare `applicationRole` has none."""

    type: str
    value: str | None = field(compare=False)  # group id, project role id, account id, role key, field id
    label: str

    @classmethod
    def from_label(cls, label: str) -> GrantHolder:
        """A holder known by its label alone (from a saved plan): its type, and no id to expand."""
        exact = re.fullmatch(r"\{type: ([^,]+), value: (.*)\}", label)
        if exact:
            return cls(exact.group(1), exact.group(2), label)
        return cls(label.partition(":")[0], None, label)


@dataclass(frozen=True, order=True)
class Access:
    """One row of the report: `holder` has `permission` in `project`, granted by `scheme`."""

    project: str
    permission: str
    holder: GrantHolder
    scheme: str

    def to_json(self) -> dict[str, str]:
        return {
            "project": self.project,
            "permission": self.permission,
            "holder": self.holder.label,
            "scheme": self.scheme,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Access:
        holder = GrantHolder.from_label(str(data["holder"]))
        return cls(str(data["project"]), str(data["permission"]), holder, str(data["scheme"]))


@dataclass(frozen=True, order=True)
class AccessChange:
    """What one holder gains (`+`) or loses (`-`) through one scheme: a permission, in these projects."""

    sign: str
    permission: str
    scheme: str
    projects: tuple[str, ...]


@dataclass(frozen=True)
class AccessDiff:
    """The rows a plan adds and removes: who gains and who loses what, where (CLI.md, plan JSON `access`)."""

    added: tuple[Access, ...] = ()
    removed: tuple[Access, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)

    def to_json(self) -> dict[str, list[dict[str, str]]]:
        return {
            "added": [row.to_json() for row in self.added],
            "removed": [row.to_json() for row in self.removed],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AccessDiff:
        return cls(
            tuple(Access.from_json(row) for row in data["added"]),
            tuple(Access.from_json(row) for row in data["removed"]),
        )

    def by_holder(self) -> list[tuple[str, list[AccessChange]]]:
        """Holder label -> its changes, each a sign (+ added, - removed), a permission, a scheme and the keys
        of the projects concerned; holders and changes sorted."""
        projects: dict[tuple[str, str, str, str], list[str]] = defaultdict(list)
        for sign, found in (("+", self.added), ("-", self.removed)):
            for row in found:
                projects[(row.holder.label, sign, row.permission, row.scheme)].append(row.project)
        grouped: dict[str, list[AccessChange]] = defaultdict(list)
        for (label, sign, permission, scheme), keys in sorted(projects.items()):
            grouped[label].append(AccessChange(sign, permission, scheme, tuple(sorted(keys))))
        return sorted(grouped.items())


@dataclass(frozen=True)
class Violation:
    """A rule of settings.policies that the site breaks once the plan is applied, on one grant of a scheme or
    one right of a role: what the plan records of what reconciler/policies.py finds. `source` is where a
    manifest declares the grant or right; None when only the site has it."""

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


@dataclass(frozen=True)
class Plan:
    site: str
    changes: tuple[Change, ...]
    unmanaged: tuple[str, ...] = ()
    # In a pruned kind, declared nowhere, and kept because settings.protect lists them.
    protected: tuple[str, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    kinds: tuple[str, ...] = ()
    # identity key -> fingerprint of every live object read, so a saved plan can detect drift.
    fingerprints: Mapping[str, str] = field(default_factory=dict)
    # identity keys each change reads or takes: checked again before a saved plan is applied.
    touches: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Grants to anyone or applicationRole the plan adds or removes (found by reconciler/exposure.py).
    exposure: tuple[Exposure, ...] = ()
    # The rules of settings.policies that the site breaks once the plan is applied (reconciler/policies.py).
    policy: tuple[Violation, ...] = ()
    # Who gains and loses which permission in which project (found by reconciler/access.py).
    access: AccessDiff = field(default_factory=AccessDiff)

    def with_diagnostics(self, found: Sequence[Diagnostic]) -> Plan:
        """The plan with more diagnostics, all in the plan's order (by position, then address and code)."""
        return replace(self, diagnostics=tuple(sorted_diagnostics([*self.diagnostics, *found])))

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.diagnostics)

    @property
    def counts(self) -> dict[str, int]:
        counts = {action.value: 0 for action in Action}
        for change in self.changes:
            counts[change.action.value] += 1
        return counts

    @property
    def destructive(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.destructive)

    @property
    def checksum(self) -> str:
        """Covers everything `apply --plan` relies on, so an edited plan file is refused."""
        covered = {
            "site": self.site,
            "changes": [_change_json(c) for c in self.changes],
            "diagnostics": [d.to_json() for d in self.diagnostics],
            "fingerprints": dict(self.fingerprints),
            "touches": {k: list(v) for k, v in self.touches.items()},
            "exposure": [e.to_json() for e in self.exposure],
            "policy": [v.to_json() for v in self.policy],
            "access": self.access.to_json(),
        }
        text = json.dumps(covered, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def changes_digest(self) -> str:
        """What a reviewer sees, hashed (CLI.md `changesDigest`): the changes and the exposure, in a canonical
        order. Left out is what two reads of an unchanged site may tell differently: fingerprints, the ids
        the writes use (`context`), the execution order, manifest positions."""
        canonical = {
            "changes": sorted((_reviewed_change(c) for c in self.changes), key=_canonical_json),
            "exposure": sorted(
                ({**e.to_json(), "projects": sorted(e.projects)} for e in self.exposure), key=_canonical_json
            ),
        }
        return hashlib.sha256(_canonical_json(canonical).encode()).hexdigest()

    def to_json(self) -> dict[str, Any]:
        return {
            "formatVersion": FORMAT_VERSION,
            "site": self.site,
            "changesDigest": self.changes_digest,
            "exposure": [e.to_json() for e in self.exposure],
            "policy": [v.to_json() for v in self.policy],
            "access": self.access.to_json(),
            "changes": [_change_json(c) for c in self.changes],
            "summary": self.counts,
            "unmanaged": list(self.unmanaged),
            "protected": list(self.protected),
            "diagnostics": [d.to_json() for d in self.diagnostics],
            "kinds": list(self.kinds),
            "checksum": self.checksum,
            "fingerprints": dict(sorted(self.fingerprints.items())),
            "touches": {k: list(v) for k, v in self.touches.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], kinds: Sequence[ResourceKind]) -> Plan:
        """Rebuild a saved plan of `kinds`. Raises KeyError/ValueError/TypeError on a malformed file."""
        if data.get("formatVersion") != FORMAT_VERSION:
            raise ValueError(f"unsupported plan formatVersion {data.get('formatVersion')!r}")
        write_data = {kind.name: kind.write_data for kind in kinds}
        changes = tuple(_change_from_json(c, write_data) for c in data["changes"])
        plan = cls(
            site=str(data["site"]),
            changes=changes,
            unmanaged=tuple(data.get("unmanaged", ())),
            protected=tuple(data.get("protected", ())),
            # Errors travel with the plan: a plan that was refused stays refused when applied from a file.
            diagnostics=tuple(Diagnostic.from_json(d) for d in data.get("diagnostics", ())),
            kinds=tuple(data["kinds"]),
            fingerprints=dict(data["fingerprints"]),
            touches={k: tuple(v) for k, v in data["touches"].items()},
            exposure=tuple(Exposure.from_json(e) for e in data.get("exposure", ())),
            policy=tuple(Violation.from_json(v) for v in data.get("policy", ())),
            access=AccessDiff.from_json(data["access"]) if "access" in data else AccessDiff(),
        )
        if data.get("checksum") != plan.checksum:
            raise ValueError("the plan's checksum does not match its changes: the file was edited")
        return plan


def _change_json(change: Change) -> dict[str, Any]:
    data: dict[str, Any] = {
        "key": change.key,
        "address": str(change.address),
        "kind": change.kind,
        "action": change.action.value,
        "before": change.before,
        "after": change.after,
        "destructive": change.destructive,
        "diff": [{"op": d.op, "path": list(d.path), "old": d.old, "new": d.new} for d in change.diffs],
        "dependsOn": sorted(change.depends_on),
        "context": change.context.to_json(),
    }
    if change.reason:
        data["reason"] = change.reason
    if change.source:
        data["source"] = {
            "file": change.source.file,
            "line": change.source.line,
            "column": change.source.column,
        }
    return data


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _reviewed_change(change: Change) -> dict[str, Any]:
    """A change as a reviewer sees it (the kinds keep set fields sorted in their essences)."""
    return {
        "address": str(change.address),
        "action": change.action.value,
        "before": change.before,
        "after": change.after,
        "diff": [{"op": d.op, "path": list(d.path), "old": d.old, "new": d.new} for d in change.diffs],
        "destructive": change.destructive,
        "reason": change.reason,
    }


def _change_from_json(data: Mapping[str, Any], write_data: Mapping[str, type[WriteData]]) -> Change:
    address = Address.parse(data["address"])
    source = data.get("source")
    action = Action(data["action"])
    return Change(
        key=str(data["key"]),
        address=address,
        action=action,
        before=data["before"],
        after=data["after"],
        diffs=tuple(FieldDiff(d["op"], tuple(d["path"]), d["old"], d["new"]) for d in data["diff"]),
        context=write_data[address.kind].model_validate(data["context"]),
        depends_on=frozenset(data["dependsOn"]),
        reason=data.get("reason"),
        source=SourceSpan(source["file"], source["line"], source["column"]) if source else None,
        loses_data=bool(data["destructive"]) and not action.destructive,
    )


def sorted_diagnostics(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    def key(d: Diagnostic) -> tuple[Any, ...]:
        source = d.source
        return (
            source is None,
            source.file if source else "",
            source.line if source else 0,
            source.column if source else 0,
            d.address or "",
            d.code,
            d.message,
        )

    return sorted(diagnostics, key=key)
