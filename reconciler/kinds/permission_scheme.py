"""Jira permission schemes and their grants."""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from typing import Annotated, Any

from pydantic import Field, WithJsonSchema
from ruamel.yaml.comments import CommentedMap

from reconciler import catalogue, yamlwrite
from reconciler.address import Address
from reconciler.errors import Diagnostic, TerminalSiteError, error, warning
from reconciler.kind_names import PERMISSION_SCHEMES
from reconciler.kinds.holder import Holder, HolderRef
from reconciler.kinds.kind import (
    Action,
    Change,
    CheckedHolders,
    DesiredObject,
    Essence,
    LiveObject,
    Lookups,
    ResourceKind,
    WriteData,
    by_name,
    create_verified,
    delete_verified,
    found,
    list_items,
    node_at,
    write_data_of,
)
from reconciler.site.api import Api, SiteApi
from reconciler.spec import RenamedFrom, SingleLineName, Spec, did_you_mean
from reconciler.state import DesiredState
from reconciler.yamlsource import SourceMap


def is_app_permission_key(key: str) -> bool:
    """App-defined keys look like `com.example.timesheets__LOG_TIME`: only the site can tell if they exist."""
    return "__" in key or "." in key


# The built-in keys are the document's list; Atlassian adds keys and apps define their own, and only the
# site's list (GET /permissions, read by plan) is sure. Offline, a key outside it is a warning.
PermissionKey = Annotated[
    str,
    Field(min_length=1),
    WithJsonSchema(
        {
            # pydantic emits propertyNames only for a string key schema that has constraints.
            "type": "string",
            "minLength": 1,
            "examples": sorted(catalogue.BUILTIN_PERMISSION_KEYS),
        }
    ),
]
UNLISTED_PERMISSION = "unknown_permission"


def unlisted_permission_message(key: str) -> str:
    return (
        f"permission {key!r} is not a built-in one{did_you_mean(key, catalogue.BUILTIN_PERMISSION_KEYS)}; "
        "an app's permission is written APPKEY__KEY, and plan checks every key against the site's own "
        "list (GET /rest/api/3/permissions)"
    )


def is_listed_permission(key: str) -> bool:
    """A built-in key, or one shaped like an app's: anything else gets a warning offline."""
    return key in catalogue.BUILTIN_PERMISSION_KEYS or is_app_permission_key(key)


class PermissionSchemeSpec(Spec):
    name: SingleLineName
    description: str | None = None
    renamed_from: RenamedFrom
    grants: dict[PermissionKey, list[HolderRef]] = Field(
        default_factory=dict, description="Permission key -> holders. Live grants not listed are removed."
    )


class SchemeWrite(WriteData):
    grant_ids: dict[str, str] = Field(default_factory=dict)  # grant label -> id, of each grant to remove
    grant_bodies: dict[str, dict[str, Any]] = Field(default_factory=dict)  # label -> body, of each to add
    scope: dict[str, Any] | None = None  # the live scheme's scope (team-managed projects), sent back as it is


class PermissionSchemeKind(ResourceKind):
    """Schemes come with their grants from one list request (`expand=permissions`). Grants are
    compared as a set of `KEY: holder` strings and changed one by one: POST for each added grant and
    DELETE for each removed one, never a PUT of `permissions`, which would re-create every grant."""

    name = "permissionSchemes"
    write_data = SchemeWrite
    site_decides = frozenset({f"manifest.{UNLISTED_PERMISSION}"})
    address_form = PERMISSION_SCHEMES
    section = list[PermissionSchemeSpec] | None
    spec = PermissionSchemeSpec
    export_file = "permission-schemes.yaml"
    export_about = (
        "Jira permission schemes. The grants are all the grants: plan removes others from the site.",
        "Groups and project roles are written by name, or in the exact mapping form where a name is",
        "not unique on the site.",
    )
    set_fields = frozenset({"grants"})
    # Group and project role names label the live grants' holders; the manifests' grants ask for them
    # (and for the permission keys) through `holders_to_check`.
    reads_on_demand = frozenset({"groups", "projectRoles"})

    def holders_to_check(self, state: DesiredState) -> CheckedHolders:
        return _holders_to_check(state)

    def unlisted(self, section: Any, source_map: SourceMap) -> Iterator[Diagnostic]:
        for index, scheme in list_items(section):
            grants = node_at(scheme, "grants")
            for permission in grants if isinstance(grants, dict) else ():
                if isinstance(permission, str) and permission and not is_listed_permission(permission):
                    yield warning(
                        f"manifest.{UNLISTED_PERMISSION}",
                        unlisted_permission_message(permission),
                        source=source_map.locate((self.name, index, "grants", permission), key=True),
                        address=str(self.address_at(section, (index,)) or "") or None,
                    )

    def export_section(self, objects: Sequence[LiveObject], lookups: Lookups) -> Any:
        schemes = []
        for obj in sorted(objects, key=by_name):
            holders: dict[str, list[Any]] = defaultdict(list)
            parts = obj.context["grants"]
            for grant in obj.essence["grants"]:  # sorted by "KEY: label", so holders sort by label
                permission, holder = parts[grant]["permission"], parts[grant]["holder"]
                label = grant.removeprefix(f"{permission}: ")
                exact = f"{{type: {holder['type']}, value: {holder.get('value')}}}"
                if label == exact:  # holder_label found no unique name: write what the API holds
                    value = yamlwrite.text(holder["value"])
                    holders[permission].append(yamlwrite.flow_map({"type": holder["type"], "value": value}))
                else:
                    holders[permission].append(yamlwrite.text(label))
            scheme = yamlwrite.entry(obj.essence, ("name", "description"))
            grants = ((yamlwrite.key(k), yamlwrite.flow(holders[k])) for k in sorted(holders))
            scheme["grants"] = CommentedMap(grants)
            schemes.append(scheme)
        return schemes

    def read(self, client: SiteApi, lookups: Lookups) -> list[LiveObject]:
        body = client.get(Api.JIRA, "/permissionscheme", {"expand": "permissions"})
        return [self._live(raw, lookups) for raw in body["permissionSchemes"]]

    def _live(self, raw: dict[str, Any], lookups: Lookups) -> LiveObject:
        grant_ids: dict[str, str] = {}
        grant_parts: dict[str, dict[str, Any]] = {}
        for grant in raw.get("permissions") or []:
            holder = grant["holder"]  # always there; a grant read without one would plan a wrong change
            if not isinstance(holder, dict):
                raise TypeError("a grant's holder is not an object")
            ident = holder.get("value") or holder.get("parameter")
            if holder.get("type") == "group" and not holder.get("value"):
                ident = _id_for_name(str(ident), lookups.group_ids_by_name) or ident
            label = holder_label(str(holder.get("type")), ident, lookups)
            key = f"{grant['permission']}: {label}"
            grant_ids[key] = str(grant["id"])
            # Export writes the exact mapping form from these parts rather than parsing the label back.
            exact = {"type": str(holder.get("type"))} | ({"value": str(ident)} if ident else {})
            grant_parts[key] = {"permission": grant["permission"], "holder": exact}
        essence = {
            "name": raw["name"],
            "description": raw.get("description") or "",
            "grants": sorted(grant_ids),
        }
        server_id = str(raw["id"])
        return LiveObject(
            address=Address(self.name, "", raw["name"]),
            identity=self.identity("", raw["name"]),
            essence=essence,
            server_id=server_id,
            context={"grantIds": grant_ids, "grants": grant_parts}
            | ({"scope": raw["scope"]} if isinstance(raw.get("scope"), dict) else {}),
        )

    def desired(self, state: DesiredState, lookups: Lookups) -> tuple[list[DesiredObject], list[Diagnostic]]:
        objects: list[DesiredObject] = []
        diagnostics: list[Diagnostic] = []
        # Schemes repeat the same few holders thousands of times: resolve each once.
        resolved_holders: dict[tuple[str, str | None, str | None], tuple[str, dict[str, Any]] | str] = {}
        for address, spec in state.objects.items():
            if not isinstance(spec, PermissionSchemeSpec):
                continue
            bodies: dict[str, dict[str, Any]] = {}
            for key, holders in spec.grants.items():
                if lookups.permission_keys and key not in lookups.permission_keys:
                    near = difflib.get_close_matches(key, sorted(lookups.permission_keys), n=1)
                    hint = f"; did you mean {near[0]}?" if near else ""
                    diagnostics.append(
                        error(
                            "plan.unknown_permission",
                            f"the site has no permission {key!r}{hint}",
                            source=state.locate(address, "grants", key),
                            address=str(address),
                        )
                    )
                    continue
                for index, holder in enumerate(holders):
                    same = (holder.type, holder.parameter, holder.value)
                    if same not in resolved_holders:
                        resolved_holders[same] = resolve_holder(holder, lookups)
                    resolved = resolved_holders[same]
                    if isinstance(resolved, str):
                        where = state.locate(address, "grants", key, index)
                        diagnostics.append(
                            error("plan.unknown_holder", resolved, source=where, address=str(address))
                        )
                        continue
                    label, body = resolved
                    bodies[f"{key}: {label}"] = {"permission": key, "holder": body}
            essence: Essence = {"name": spec.name, "grants": sorted(bodies)}
            if spec.description is not None:
                essence["description"] = spec.description
            objects.append(
                DesiredObject(
                    address=address,
                    identity=self.identity("", spec.name),
                    essence=essence,
                    renamed_from=tuple(self.identity("", old) for old in spec.renamed_from),
                    source=state.locate(address),
                    context={"grantBodies": bodies},
                )
            )
        return objects, diagnostics

    def write_context(self, desired: DesiredObject | None, live: LiveObject | None) -> SchemeWrite:
        """Only the grant bodies to add and the grant ids to remove: a saved plan stays small."""
        wanted = set(desired.essence["grants"]) if desired else set()
        present = set(live.essence["grants"]) if live else set()
        ids, bodies = (
            (live.context["grantIds"] if live else {}),
            (desired.context["grantBodies"] if desired else {}),
        )
        return SchemeWrite(
            server_id=live.server_id if live else None,
            grant_ids={grant: ids[grant] for grant in sorted(present - wanted)},
            grant_bodies={grant: bodies[grant] for grant in sorted(wanted - present)},
            scope=live.context.get("scope") if live else None,
        )

    def apply(self, client: SiteApi, change: Change) -> None:
        data = write_data_of(change, SchemeWrite)
        if change.action is Action.DELETE:
            scheme_id = data.live_id
            delete_verified(
                lambda: client.request(Api.JIRA, "DELETE", f"/permissionscheme/{scheme_id}"),
                lambda: found(lambda: client.get(Api.JIRA, f"/permissionscheme/{scheme_id}")),
            )
            return
        assert change.after is not None
        after = change.after
        heading: dict[str, Any] = {k: after[k] for k in ("name", "description") if k in after}
        if change.action is Action.CREATE:
            body = {**heading, "permissions": list(data.grant_bodies.values())}
            create_verified(
                lambda: client.request(Api.JIRA, "POST", "/permissionscheme", json_body=body),
                lambda: self._find(client, after["name"]),
            )
            return
        scheme_id = data.live_id
        before = change.before or {}
        if any(before.get(k) != v for k, v in heading.items()):
            # The document does not say that a field left out of the PUT is kept: send every one the scheme
            # should keep (the description a manifest leaves out is the live one), except `permissions`,
            # which is documented to replace every grant when present.
            body = {**heading, "description": heading.get("description", before.get("description", ""))}
            client.request(Api.JIRA, "PUT", f"/permissionscheme/{scheme_id}", json_body=body | _scope(data))
        client.map(lambda grant_id: self._delete_grant(client, scheme_id, grant_id), data.grant_ids.values())
        client.map(lambda grant: self._add_grant(client, scheme_id, grant), data.grant_bodies.values())

    def _delete_grant(self, client: SiteApi, scheme_id: str, grant_id: str) -> None:
        path = f"/permissionscheme/{scheme_id}/permission"
        try:
            client.request(Api.JIRA, "DELETE", f"{path}/{grant_id}")
        except TerminalSiteError as exc:
            # A missing grant is a 400, not a 404 (API-FACTS.md 8): that is what a DELETE sent again
            # after its answer was lost gets. Done if the grant is gone.
            if exc.status not in (400, 404):
                raise
            if any(str(g["id"]) == str(grant_id) for g in client.get(Api.JIRA, path)["permissions"]):
                raise

    def _add_grant(self, client: SiteApi, scheme_id: str, grant: dict[str, Any]) -> None:
        path = f"/permissionscheme/{scheme_id}/permission"

        def find() -> dict[str, Any] | None:
            present = client.get(Api.JIRA, path)["permissions"]
            return next((g for g in present if _same_grant(g, grant)), None)

        create_verified(lambda: client.request(Api.JIRA, "POST", path, json_body=grant), find)

    def _find(self, client: SiteApi, name: str) -> dict[str, Any] | None:
        schemes = client.get(Api.JIRA, "/permissionscheme")["permissionSchemes"]
        return next((s for s in schemes if s.get("name") == name), None)


def _scope(data: SchemeWrite) -> dict[str, Any]:
    return {"scope": data.scope} if data.scope else {}


def _same_grant(live: dict[str, Any], wanted: dict[str, Any]) -> bool:
    holder, target = live.get("holder") or {}, wanted["holder"]
    return bool(
        live.get("permission") == wanted["permission"]
        and holder.get("type") == target["type"]
        and (holder.get("value") or holder.get("parameter"))
        == (target.get("value") or target.get("parameter"))
    )


def holder_label(holder_type: str, ident: Any, lookups: Lookups) -> str:
    """The readable form of a holder when its name is unambiguous, else the exact mapping form.
    Desired and live holders go through this one function, so equal holders get equal labels."""
    if ident is None or ident == "":
        return holder_type
    ident = str(ident)
    # Only the lookup this holder needs is touched: a lookup read on demand is read at its first use.
    if holder_type == "group":
        by_id, by_name = lookups.groups, lookups.group_ids_by_name
    elif holder_type == "projectRole":
        by_id, by_name = lookups.project_roles, lookups.project_role_ids_by_name
    else:
        return f"{holder_type}:{ident}"
    name = by_id.get(ident)
    if name is not None and len(by_name.get(name, [])) == 1:
        return f"{holder_type}:{name}"
    return f"{{type: {holder_type}, value: {ident}}}"


def resolve_holder(holder: Holder, lookups: Lookups) -> tuple[str, dict[str, Any]] | str:
    """(label, API holder body) for a manifest holder, or why it cannot be resolved on this site."""
    kind = holder.type
    ident = holder.value or holder.parameter
    if ident is None:
        return kind, {"type": kind}
    if kind == "group":
        group_id = holder.value or _id_for_name(holder.parameter or "", lookups.group_ids_by_name)
        if group_id is None:
            return _unresolved(
                "group", holder.parameter, lookups.group_ids_by_name, "GET /rest/api/3/group/bulk"
            )
        if group_id not in lookups.groups:
            return f"no group with id {group_id!r} on the site"
        body = {"type": kind, "parameter": lookups.groups[group_id], "value": group_id}
        return holder_label(kind, group_id, lookups), body
    if kind == "projectRole":
        role_id = holder.value or _id_for_name(holder.parameter or "", lookups.project_role_ids_by_name)
        if role_id is None and holder.parameter in lookups.project_roles:
            role_id = holder.parameter  # `projectRole:10002` names the role by its id
        if role_id is None:
            return _unresolved(
                "project role", holder.parameter, lookups.project_role_ids_by_name, "GET /rest/api/3/role"
            )
        if role_id not in lookups.project_roles:
            return f"no project role with id {role_id!r} on the site"
        return holder_label(kind, role_id, lookups), {"type": kind, "parameter": role_id, "value": role_id}
    if kind in ("userCustomField", "groupCustomField"):
        field_id = _custom_field_id(ident, lookups)
        if field_id is None:
            source = "GET /rest/api/3/field, by id or exact name"
            return _unresolved("custom field", ident, lookups.custom_field_ids_by_name, source)
        return holder_label(kind, field_id, lookups), {"type": kind, "parameter": field_id, "value": field_id}
    if kind == "applicationRole" and ident not in lookups.application_roles:
        near = difflib.get_close_matches(ident, sorted(lookups.application_roles), n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        return f"no application role with key {ident!r} on the site (GET /rest/api/3/applicationrole){hint}"
    if kind == "user" and ident not in lookups.users:
        return f"no user with account id {ident!r} on the site (GET /rest/api/3/user/bulk)"
    return holder_label(kind, ident, lookups), {"type": kind, "parameter": ident, "value": ident}


def _custom_field_id(ident: str, lookups: Lookups) -> str | None:
    """A custom field named by its id, or by its exact name when no other field has that name."""
    if ident in lookups.custom_fields:
        return ident
    return _id_for_name(ident, lookups.custom_field_ids_by_name)


def _holders_to_check(state: DesiredState) -> CheckedHolders:
    holders = [
        holder
        for spec in state.objects.values()
        if isinstance(spec, PermissionSchemeSpec)
        for grant in spec.grants.values()
        for holder in grant
    ]

    def ident(holder: Holder) -> str | None:
        return holder.value or holder.parameter

    return CheckedHolders(
        application_roles=any(h.type == "applicationRole" and ident(h) for h in holders),
        custom_fields=any(h.type in ("userCustomField", "groupCustomField") for h in holders),
        account_ids=frozenset(i for h in holders if h.type == "user" and (i := ident(h))),
        groups=any(h.type == "group" for h in holders),
        project_roles=any(h.type == "projectRole" for h in holders),
        permission_keys=bool(holders),
    )


def _id_for_name(name: str, ids_by_name: Mapping[str, list[str]]) -> str | None:
    ids = ids_by_name.get(name, [])
    return ids[0] if len(ids) == 1 else None


def _unresolved(what: str, name: str | None, ids_by_name: Mapping[str, list[str]], source: str) -> str:
    ids = ids_by_name.get(name or "", [])
    if ids:
        return f"{len(ids)} {what}s are named {name!r}; use the mapping form with `value` ({', '.join(ids)})"
    near = difflib.get_close_matches(name or "", sorted(ids_by_name), n=1)
    hint = f"; did you mean {near[0]!r}?" if near else ""
    return f"no {what} named {name!r} on the site ({source}){hint}"
