"""Fixed vocabularies of the Atlassian APIs, shared by manifest validation and the sandbox site.

Sources are in ../shared/docs/API-FACTS.md: the Ops custom role rights (section 1), the 17 team role
rights (section 2), the built-in Jira project permissions and holder types (section 8) and the CSM
detail field rules (section 9).
"""

from __future__ import annotations

CUSTOM_ROLE_RIGHTS: frozenset[str] = frozenset(
    """
    who-is-on-call-show-all notification-rules-edit quiet-hours-edit alerts-access-all reports-access
    logs-page-access maintenance-edit contacts-edit profile-edit login-email-edit profile-custom-fields-edit
    configurations-read-only configurations-edit configurations-delete billing-manage alert-action
    alert-create alert-add-attachment alert-delete-attachment alert-add-note alert-acknowledge
    alert-unacknowledge alert-snooze alert-escalate alert-close alert-delete alert-take-ownership
    alert-assign-ownership alert-add-recipient alert-add-team alert-edit-tags alert-edit-details
    alert-custom-action alert-update-priority alert-acknowledge-all alert-close-all incident-create
    incident-add-stakeholder incident-add-responder incident-resolve incident-reopen
    mass-notification-create service-access forwardings-edit manage-roles it-user-functionality
    parent-login-as-user update-login-as-user-state see-alerts alert-delete-note alert-update-note
    alert-update-description alert-update-message alert-add-responder alert-grant-visibility
    alert-create-issue alert-link-issue incidents-access-all assign-response-role incident-action
    incident-associate-alerts incident-dissociate-alerts incident-remove-responder incident-update-priority
    incident-edit-tags incident-edit-details incident-edit-impact-times incident-edit-postmortem-fields
    incident-edit-message incident-add-note incident-close incident-delete incident-custom-action
    update-potential-causes incident-create-issue incident-link-issue edit-impacted-services
    postmortem-access-published postmortem-access-unpublished postmortem-create postmortem-edit
    postmortem-delete slack-channel-create slack-channel-unlink join-icc-session create-icc-session
    access-icc-past-sessions incident-commander edit-incident-command-center-room
    delete-incident-command-center-room incident-timeline-create incident-timeline-edit
    incident-timeline-delete service-access-status service-send-status-update
    """.split()
)

EXTENDED_ROLES: tuple[str, ...] = ("user", "observer", "stakeholder")

# Alphabetical, the order in which the API lists them.
TEAM_ROLE_RIGHTS: tuple[str, ...] = (
    "access-reports",
    "delete-escalations",
    "delete-heartbeats",
    "delete-integrations",
    "delete-maintenance",
    "delete-policies",
    "delete-routing-rules",
    "delete-schedules",
    "delete-team-roles",
    "edit-escalations",
    "edit-heartbeats",
    "edit-integrations",
    "edit-maintenance",
    "edit-policies",
    "edit-routing-rules",
    "edit-schedules",
    "edit-team-roles",
)

BUILTIN_PERMISSION_KEYS: frozenset[str] = frozenset(
    """
    ADMINISTER_PROJECTS EDIT_WORKFLOW EDIT_ISSUE_LAYOUT BROWSE_PROJECTS MANAGE_SPRINTS_PERMISSION
    SERVICEDESK_AGENT VIEW_DEV_TOOLS VIEW_READONLY_WORKFLOW ASSIGNABLE_USER ASSIGN_ISSUES CLOSE_ISSUES
    CREATE_ISSUES DELETE_ISSUES EDIT_ISSUES LINK_ISSUES MODIFY_REPORTER MOVE_ISSUES RESOLVE_ISSUES
    SCHEDULE_ISSUES SET_ISSUE_SECURITY TRANSITION_ISSUES MANAGE_WATCHERS VIEW_VOTERS_AND_WATCHERS
    ADD_COMMENTS DELETE_ALL_COMMENTS DELETE_OWN_COMMENTS EDIT_ALL_COMMENTS EDIT_OWN_COMMENTS
    CREATE_ATTACHMENTS DELETE_ALL_ATTACHMENTS DELETE_OWN_ATTACHMENTS DELETE_ALL_WORKLOGS
    DELETE_OWN_WORKLOGS EDIT_ALL_WORKLOGS EDIT_OWN_WORKLOGS WORK_ON_ISSUES
    """.split()
)

# Holder types that take no parameter, and those that do. `applicationRole` takes an optional one:
# without it, it means any logged-in user.
HOLDER_TYPES_WITHOUT_PARAMETER: frozenset[str] = frozenset(
    {"anyone", "assignee", "reporter", "projectLead", "sd.customer.portal.only"}
)
HOLDER_TYPES_WITH_PARAMETER: frozenset[str] = frozenset(
    {"group", "projectRole", "user", "userCustomField", "groupCustomField"}
)
HOLDER_TYPES_OPTIONAL_PARAMETER: frozenset[str] = frozenset({"applicationRole"})
HOLDER_TYPES: frozenset[str] = (
    HOLDER_TYPES_WITHOUT_PARAMETER | HOLDER_TYPES_WITH_PARAMETER | HOLDER_TYPES_OPTIONAL_PARAMETER
)

DETAIL_FIELD_TYPES: tuple[str, ...] = (
    "TEXT",
    "EMAIL",
    "URL",
    "DATE",
    "NUMBER",
    "BOOLEAN",
    "PHONE",
    "SELECT",
    "MULTISELECT",
)
DETAIL_FIELD_TYPES_WITH_OPTIONS: frozenset[str] = frozenset({"SELECT", "MULTISELECT"})
DETAIL_FIELD_NAME_MIN = 2
DETAIL_FIELD_NAME_MAX = 255
# The last one is U+201C, exactly as the CSM reference writes it.
DETAIL_FIELD_FORBIDDEN_CHARACTERS: tuple[str, ...] = ("?", ":", ";", ".", "=", "\u201c")
DETAIL_FIELD_RESERVED_NAMES: frozenset[str] = frozenset({"name", "key", "created", "updated", "label"})
MAX_DETAIL_FIELDS_PER_ENTITY = 50
DETAIL_FIELD_OPTION_MAX = 255

PRODUCT_NAME_MAX = 200


def detail_field_name_problem(name: str) -> str | None:
    """Why the CSM API would refuse this detail field name, or None when it accepts it."""
    if not DETAIL_FIELD_NAME_MIN <= len(name) <= DETAIL_FIELD_NAME_MAX:
        return f"detail field names are {DETAIL_FIELD_NAME_MIN} to {DETAIL_FIELD_NAME_MAX} characters long"
    bad = [c for c in DETAIL_FIELD_FORBIDDEN_CHARACTERS if c in name]
    if bad:
        return f"detail field names cannot contain {' '.join(bad)}"
    if name.casefold() in DETAIL_FIELD_RESERVED_NAMES:
        return f"{name!r} is reserved (Name, Key, Created, Updated and Label cannot be used, in any case)"
    return None


def detail_field_option_problem(option: str) -> str | None:
    if "," in option:
        return "options cannot contain a comma"
    if len(option) > DETAIL_FIELD_OPTION_MAX:
        return f"options are at most {DETAIL_FIELD_OPTION_MAX} characters long"
    if not option:
        return "options cannot be empty"
    return None
