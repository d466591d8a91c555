"""The access diff of a plan and the `access` report, as text, markdown, CSV and JSON."""

from __future__ import annotations

import csv
import io
import json

import pytest

from reconciler.access import Access, AccessDiff, Account, GrantHolder, ReportRow
from reconciler.render.access import (
    diff_markdown,
    diff_text,
    report_csv,
    report_json,
    report_markdown,
    report_text,
)

AGENTS = GrantHolder("group", "g1", "group:service-desk-agents")
TEAM = GrantHolder("projectRole", "10100", "projectRole:Service Desk Team")
ANYONE = GrantHolder("anyone", None, "anyone")
KEYS = [f"P{n:02}" for n in range(12)]


def _diff() -> AccessDiff:
    return AccessDiff(
        added=(
            *(Access(key, "ADMINISTER_PROJECTS", AGENTS, "Big scheme") for key in KEYS),
            Access("SD", "BROWSE_PROJECTS", TEAM, "CS"),
        ),
        removed=(Access("SD", "BROWSE_PROJECTS", ANYONE, "CS"),),
    )


def test_the_text_plan_lists_what_each_holder_gains_and_loses() -> None:
    assert diff_text(_diff()) == [
        (" ", "Access: what each holder gains (+) and loses (-), and where (13 added, 1 removed):"),
        (" ", "  anyone"),
        ("-", "    - BROWSE_PROJECTS in project SD (CS)"),
        (" ", "  group:service-desk-agents"),
        ("+", f"    + ADMINISTER_PROJECTS in projects {', '.join(KEYS)} (Big scheme)"),
        (" ", "  projectRole:Service Desk Team"),
        ("+", "    + BROWSE_PROJECTS in project SD (CS)"),
    ]


def test_the_markdown_block_is_open_and_caps_lines_and_projects_saying_what_it_cut() -> None:
    full = diff_markdown(_diff())
    assert full[0].startswith("<details open><summary><b>Access</b>: ") and full[0].endswith(
        "(13 added, 1 removed)</summary>"
    )
    assert full[2:9] == [
        "```diff",
        "anyone",
        "- BROWSE_PROJECTS in project SD (CS)",
        "group:service-desk-agents",
        f"+ ADMINISTER_PROJECTS in projects {', '.join(KEYS)} (Big scheme)",
        "projectRole:Service Desk Team",
        "+ BROWSE_PROJECTS in project SD (CS)",
    ]
    capped = diff_markdown(_diff(), max_lines=4, max_projects=10)
    listing = capped[capped.index("```diff") + 1 : capped.index("```")]
    assert listing == [
        "anyone",
        "- BROWSE_PROJECTS in project SD (CS)",
        "group:service-desk-agents",
        "+ ADMINISTER_PROJECTS in 12 projects: P00, P01, P02, P03, P04, P05, P06, P07, P08, P09 and 2 more "
        "(Big scheme)",
        "# … 1 more change(s), 1 of the 14 rows added and removed, not shown here: the plan JSON lists every "
        "one",
    ]
    # What is cut is counted in the head's unit (rows), not only in lines: a line stands for its projects.
    capped = diff_markdown(_diff(), max_lines=2)
    assert capped[capped.index("```") - 1] == (
        "# … 2 more change(s), 13 of the 14 rows added and removed, not shown here: the plan JSON lists "
        "every one"
    )
    assert diff_markdown(AccessDiff()) == []


MIA = Account("mia", "Mia Krystof", "projectRole:Service Desk Team")
ANA = Account("ana", "Ana Silva", "projectRole:Service Desk Team > group:service-desk-agents")
REPORT = [
    ReportRow(Access("SD", "BROWSE_PROJECTS", ANYONE, "CS"), "Service Desk"),
    ReportRow(Access("SD", "BROWSE_PROJECTS", TEAM, "CS"), "Service Desk", ANA),
    ReportRow(Access("SD", "BROWSE_PROJECTS", TEAM, "CS"), "Service Desk", MIA),
    ReportRow(Access("IT", "EDIT_ISSUES", AGENTS, "=HYPERLINK(x)"), "@IT support", None),
]


def test_the_csv_has_the_contracts_columns_and_no_cell_a_spreadsheet_would_run() -> None:
    plain = list(csv.reader(io.StringIO("".join(report_csv(REPORT, users=False)))))
    assert plain[0] == ["project", "projectName", "permission", "holder", "scheme"]
    assert plain[1] == ["SD", "Service Desk", "BROWSE_PROJECTS", "anyone", "CS"]
    # A formula from a name on the site stays text: the cell starts with an apostrophe.
    assert plain[4] == ["IT", "'@IT support", "EDIT_ISSUES", "group:service-desk-agents", "'=HYPERLINK(x)"]
    users = list(csv.reader(io.StringIO("".join(report_csv(REPORT, users=True)))))
    assert users[0][5:] == ["accountId", "displayName", "via"]
    assert users[1][5:] == ["", "", ""]
    assert users[2][5:] == ["ana", "Ana Silva", "projectRole:Service Desk Team > group:service-desk-agents"]


def test_the_csv_comes_in_pieces_of_whole_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("reconciler.render.access.CSV_PIECE_ROWS", 2)
    pieces = list(report_csv(REPORT * 2, users=True))
    assert len(pieces) == 4 and all(piece.endswith("\n") for piece in pieces)
    assert pieces[0].count("\n") == 3  # the header and two rows
    assert "".join(pieces) == "".join(report_csv(REPORT * 2, users=True))
    rows = list(csv.reader(io.StringIO("".join(pieces))))
    assert len(rows) == 9 and rows[5] == rows[1]


def test_the_json_report_has_the_csv_columns_and_no_workflow_command() -> None:
    rows = [ReportRow(Access("SD", "BROWSE_PROJECTS", AGENTS, "##[error]scheme"), "Service Desk", MIA)]
    text = report_json(rows, users=True, site="sandbox", planned=True)
    assert "##[" not in text
    data = json.loads(text)
    assert (data["site"], data["planned"]) == ("sandbox", True)
    assert data["access"] == [
        {
            "project": "SD",
            "projectName": "Service Desk",
            "permission": "BROWSE_PROJECTS",
            "holder": "group:service-desk-agents",
            "scheme": "##[error]scheme",
            "accountId": "mia",
            "displayName": "Mia Krystof",
            "via": "projectRole:Service Desk Team",
        }
    ]


def test_the_markdown_report_keeps_names_in_code_spans() -> None:
    rows = [ReportRow(Access("SD", "BROWSE_PROJECTS", AGENTS, "a | b `c`"), "Service Desk", None)]
    lines = report_markdown(rows, users=False, title="Access on sandbox").splitlines()
    assert lines[2] == "| Project | Permission | Holder | Scheme |"
    assert lines[4] == (
        "| `SD Service Desk` | `BROWSE_PROJECTS` | `group:service-desk-agents` | `` a \\| b `c` `` |"
    )


def test_the_text_report_shows_each_grant_once_with_its_accounts_under_it() -> None:
    assert report_text(REPORT, users=True).splitlines() == [
        "SD  Service Desk  (scheme: CS)",
        "  BROWSE_PROJECTS  anyone",
        "  BROWSE_PROJECTS  projectRole:Service Desk Team  Ana Silva (ana)  "
        "via projectRole:Service Desk Team > group:service-desk-agents",
        " " * 50 + "Mia Krystof (mia)",  # under Ana: the grant is said once
        "",
        "IT  @IT support  (scheme: =HYPERLINK(x))",
        "  EDIT_ISSUES      group:service-desk-agents",
    ]
