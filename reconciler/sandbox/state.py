"""The sandbox site's state: the model, id allocation and atomic JSON persistence.

The state file is this model dumped as JSON (`State.model_dump(mode="json")`); it is an internal format.
People write *seeds* instead (YAML or JSON, loaded by `reconciler.sandbox.seed`). Every section of a seed
is optional, an empty seed is an empty site, and objects refer to each other by name:

```yaml
cloudId: 4f7c1f3e-...               # optional; a fixed id otherwise
groups:                             # Jira groups: name, (optional) group id, members (account ids of users)
  - {name: jira-administrators, id: 6f0a8a2e-3b1c-4d7e-9a55-1c2d3e4f5a60, members: [5b10ac8d82e05b22cc7d4ef5]}
projectRoles:                       # Jira project roles; id optional
  - {name: Administrators, id: 10002, description: Admins of the project}
appPermissions:                     # permission keys defined by apps, besides the built-in ones
  - {key: com.example.timesheets__LOG_TIME, type: PROJECT, name: Log time, description: ...}
applicationRoles:                   # Jira application roles (applicationRole:KEY holders)
  - {key: jira-servicedesk, name: Jira Service Management}
customFields:                       # custom fields (userCustomField / groupCustomField holders); id optional
  - {id: customfield_10050, name: Approvers, type: multiuserpicker}
users:                              # Jira users (user:ACCOUNT_ID holders)
  - {accountId: 5b10ac8d82e05b22cc7d4ef5, displayName: Mia Krystof}
teams:                              # platform teams (ops cannot create them), with their team roles
  - name: Platform SRE
    id: 2f1e4b6a-9c3d-4e5f-8a7b-6c5d4e3f2a10
    roles:
      - {name: on-call, granted: [access-reports]}      # rights not listed are not granted
detailFields:                       # CSM detail fields per entity, in position order
  organization:
    - {name: AM email, type: EMAIL}
    - {name: Region, type: SELECT, options: [AU, EU]}
  customer: []
  entitlement: []
organizations:                      # id optional (a positive integer as a string)
  - {name: Acme Corp, details: {AM email: [am@acme.example], Region: [EU]}}
customers:                          # id optional (an account id)
  - {name: Jane Doe, details: {Tier: [Gold]}}
products:                           # id optional (a UUID)
  - {name: Acme Widget}
entitlements:                       # one of organization / customer, by name
  - {product: Acme Widget, organization: Acme Corp, details: {Support level: [24x7]}}
customRoles:                        # Ops custom user roles; extendedRole defaults to user
  - {name: FinanceRole, extendedRole: user, grantedRights: [alert-action], disallowedRights: []}
permissionSchemes:                  # holder: group or project role *name*, else the raw parameter
  - name: CS scheme
    description: Old
    grants:
      - {permission: ADMINISTER_PROJECTS, type: projectRole, holder: Administrators}
      - {permission: EDIT_ISSUES, type: group, holder: jira-administrators}
      - {permission: BROWSE_PROJECTS, type: applicationRole, holder: jira-servicedesk}
      - {permission: ASSIGNABLE_USER, type: userCustomField, holder: customfield_10050}
      - {permission: CREATE_ISSUES, type: reporter}
projects:                           # Jira projects and the scheme each uses (default: the first scheme)
  - key: SD
    name: Service Desk
    permissionScheme: CS scheme
    roles:                          # who is in each project role in this project (account ids, group names)
      Administrators: {users: [5b10ac8d82e05b22cc7d4ef5], groups: [jira-administrators]}
```

A seed goes through the same rules as the API (detail field names, known rights, holders, ...), so a
seeded site is one the real API could have produced.
"""

from __future__ import annotations

import errno
import json
import os
import uuid
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from reconciler.errors import shortened
from reconciler.files import write_atomically

EntityKind = Literal["organization", "customer", "entitlement"]
ENTITY_KINDS: tuple[EntityKind, ...] = ("organization", "customer", "entitlement")

DEFAULT_CLOUD_ID = "5c1e0f4a-7b2d-4c8e-9f10-a1b2c3d4e5f6"
# Jira-style numeric ids start here, as on a real site.
FIRST_ID = 10000


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Group(_Model):
    id: str
    name: str
    members: list[str] = Field(default_factory=list)  # account ids of users


class ProjectRole(_Model):
    id: int
    name: str
    description: str = ""


class TeamRole(_Model):
    id: str
    name: str
    granted: list[str] = Field(default_factory=list)


class Team(_Model):
    id: str
    name: str
    roles: list[TeamRole] = Field(default_factory=list)


class AppPermission(_Model):
    key: str
    type: Literal["GLOBAL", "PROJECT"]
    name: str
    description: str = ""


class DetailField(_Model):
    """Values are stored under `id`, so a rename keeps them and a delete (which drops the id) erases them."""

    id: str
    name: str
    type: str
    options: list[str] = Field(default_factory=list)


class Entity(_Model):
    """An organization or a customer; `values` maps a detail field id to its values."""

    id: str
    name: str
    values: dict[str, list[str]] = Field(default_factory=dict)


class Entitlement(_Model):
    id: str
    product_id: str
    entity_type: Literal["ORGANIZATION", "CUSTOMER"]
    entity_id: str
    values: dict[str, list[str]] = Field(default_factory=dict)


class Product(_Model):
    id: str
    name: str
    # Creation order; product cursors point after a sequence number so deletions don't shift pages.
    seq: int


class CustomRole(_Model):
    id: str
    name: str
    extended_role: str = "user"
    granted_rights: list[str] = Field(default_factory=list)
    disallowed_rights: list[str] = Field(default_factory=list)


class Grant(_Model):
    """A permission grant; for a group holder `holder_value` is the group id (names can change)."""

    id: int
    permission: str
    holder_type: str
    holder_value: str | None = None


class ApplicationRole(_Model):
    """A Jira application role (a product the site is licensed for), the parameter of applicationRole."""

    key: str
    name: str


class CustomField(_Model):
    """A Jira custom field; `type` is the last part of its custom type key, e.g. `multiuserpicker`."""

    id: str
    name: str
    type: str = "userpicker"


class User(_Model):
    account_id: str
    display_name: str
    active: bool = True


class PermissionScheme(_Model):
    id: int
    name: str
    description: str = ""
    grants: list[Grant] = Field(default_factory=list)


class RoleActor(_Model):
    """Someone in a project role in one project: a user (`value` an account id) or a group (a group id)."""

    id: int
    type: Literal["user", "group"]
    value: str


class Project(_Model):
    """A Jira project, as far as the sandbox knows one: its key, name, permission scheme and who is in each
    project role there."""

    id: int
    key: str
    name: str
    permission_scheme_id: int | None = None
    role_actors: dict[str, list[RoleActor]] = Field(default_factory=dict)  # project role id -> actors


class State(_Model):
    cloud_id: str = DEFAULT_CLOUD_ID
    next_id: int = FIRST_ID
    groups: list[Group] = Field(default_factory=list)
    project_roles: list[ProjectRole] = Field(default_factory=list)
    app_permissions: list[AppPermission] = Field(default_factory=list)
    teams: list[Team] = Field(default_factory=list)
    detail_fields: dict[EntityKind, list[DetailField]] = Field(
        default_factory=lambda: {kind: list[DetailField]() for kind in ENTITY_KINDS}
    )
    organizations: list[Entity] = Field(default_factory=list)
    customers: list[Entity] = Field(default_factory=list)
    entitlements: list[Entitlement] = Field(default_factory=list)
    products: list[Product] = Field(default_factory=list)
    custom_roles: list[CustomRole] = Field(default_factory=list)
    role_assignments: dict[str, str] = Field(default_factory=dict)
    permission_schemes: list[PermissionScheme] = Field(default_factory=list)
    application_roles: list[ApplicationRole] = Field(default_factory=list)
    custom_fields: list[CustomField] = Field(default_factory=list)
    users: list[User] = Field(default_factory=list)
    projects: list[Project] = Field(default_factory=list)

    # Users and groups come only from seeds: indexes built at their first use (again if more were added),
    # so that a read of a group's members or a role's actors does not go through every user.
    _users_by_id: dict[str, User] = PrivateAttr(default_factory=dict)
    _groups_by_id: dict[str, Group] = PrivateAttr(default_factory=dict)

    def user(self, account_id: str) -> User:
        if len(self._users_by_id) != len(self.users):
            self._users_by_id = {user.account_id: user for user in self.users}
        return self._users_by_id[account_id]

    def group(self, group_id: str) -> Group:
        if len(self._groups_by_id) != len(self.groups):
            self._groups_by_id = {
                group.id: group for group in reversed(self.groups)
            }  # the first of an id wins
        return self._groups_by_id[group_id]

    def new_int(self) -> int:
        value = self.next_id
        self.next_id += 1
        return value

    def new_uuid(self) -> str:
        # Derived from the site and a counter, so the same seed and the same calls give the same ids.
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.cloud_id}/{self.new_int()}"))

    def reserve(self, used_id: int) -> None:
        """Keep allocated ids clear of an id that a seed chose."""
        self.next_id = max(self.next_id, used_id + 1)


class StateFileError(ValueError):
    """The state file cannot be read as a sandbox site."""


# The default state file is in the working directory, which in CI is a pull request's checkout: a link there
# could point at any file the job may read, such as a credential, so the state file is never a link.
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def _symbolic_link(path: Path) -> StateFileError:
    return StateFileError(
        f"{path}: a symbolic link, which the sandbox never follows; delete it, or choose another state file"
    )


def load_state(path: Path) -> State:
    try:
        with os.fdopen(os.open(path, _READ_FLAGS), "rb") as stream:
            content = stream.read()
    except OSError as exc:
        if exc.errno == errno.ELOOP or path.is_symlink():
            raise _symbolic_link(path) from None
        raise StateFileError(f"{path}: cannot read the sandbox state: {exc.strerror or exc}") from None
    try:
        return State.model_validate_json(content)
    except ValidationError as exc:
        raise StateFileError(
            f"{path}: not a sandbox state file ({describe_validation_error(exc)}); delete it, "
            "or start again with `jsm-reconciler sandbox reset`"
        ) from None


def describe_validation_error(exc: ValidationError, *, limit: int = 3) -> str:
    """Where and what, for people: `products.0.name: Field required; ...`, without pydantic's links. A key
    read from the file is shortened: the file may be anything, a credential file too."""
    problems = [
        f"{'.'.join(shortened(str(part)) for part in problem['loc']) or 'the whole file'}: {problem['msg']}"
        for problem in exc.errors(include_url=False)
    ]
    more = f"; and {len(problems) - limit} more" if len(problems) > limit else ""
    return "; ".join(problems[:limit]) + more


def save_state(state: State, path: Path) -> None:
    """Write atomically: a reader sees the old file or the new one, never half of one."""
    if path.is_symlink():  # the rename would replace the link, not follow it; refused all the same
        raise _symbolic_link(path)
    write_atomically(path, json.dumps(state.model_dump(mode="json"), indent=1, ensure_ascii=False))
