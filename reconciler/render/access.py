"""Access as people and programs read it: the access diff of a plan (text and markdown), and the `access`
report (text, markdown, CSV, JSON; CLI.md)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence

from reconciler.access import Access, AccessDiff, Account, ReportRow
from reconciler.render.markdown import code, fenced, visible
from reconciler.render.workflow_commands import json_inert

DIFF_TITLE = "Access: what each holder gains (+) and loses (-), and where"
CSV_COLUMNS = ("project", "projectName", "permission", "holder", "scheme")
USER_COLUMNS = ("accountId", "displayName", "via")
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection): such a cell gets a
# leading apostrophe, which spreadsheets show as text and do not display.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_PIECE_ROWS = 10_000


def diff_counts(diff: AccessDiff) -> str:
    return f"{len(diff.added)} added, {len(diff.removed)} removed"


def diff_lines(diff: AccessDiff, *, max_projects: int | None = None) -> list[tuple[str, str]]:
    """(symbol, text) pairs: each holder (symbol " "), then each permission it gains (+) or loses (-) through
    one scheme, with the projects concerned (at most `max_projects` named, and how many others)."""
    lines: list[tuple[str, str]] = []
    for label, changes in diff.by_holder():
        lines.append((" ", label))
        for change in changes:
            lines.append(
                (
                    change.sign,
                    f"{change.permission} in {_projects(change.projects, max_projects)} ({change.scheme})",
                )
            )
    return lines


def _rows_per_line(diff: AccessDiff) -> list[int]:
    """For each line of `diff_lines`, how many (project, permission, holder) rows it stands for."""
    counts: list[int] = []
    for _label, changes in diff.by_holder():
        counts += [0, *(len(change.projects) for change in changes)]
    return counts


def _projects(keys: Sequence[str], most: int | None) -> str:
    if len(keys) == 1:
        return f"project {keys[0]}"
    if most is None or len(keys) <= most:
        return f"projects {', '.join(keys)}"
    return f"{len(keys)} projects: {', '.join(keys[:most])} and {len(keys) - most} more"


def diff_text(diff: AccessDiff) -> list[tuple[str, str]]:
    """The text plan's block: its head, then (symbol, line) pairs, indented."""
    head = f"{DIFF_TITLE} ({diff_counts(diff)}):"
    body = [
        (symbol, f"  {text}" if symbol == " " else f"    {symbol} {text}")
        for symbol, text in diff_lines(diff)
    ]
    return [(" ", head), *body]


def diff_markdown(
    diff: AccessDiff, *, max_lines: int | None = None, max_projects: int | None = None
) -> list[str]:
    """A collapsible block, open, of a ```diff listing; `max_lines` caps it, saying how many were left out."""
    if not diff:
        return []
    lines = diff_lines(diff, max_projects=max_projects)
    shown = lines if max_lines is None else lines[:max_lines]
    listing = [f"{symbol} {text}" if symbol != " " else text for symbol, text in shown]
    cut = [rows for rows in _rows_per_line(diff)[len(shown) :] if rows]
    if cut:
        # In the head's unit too (rows added and removed), so a reader can tell how much is left out.
        total = len(diff.added) + len(diff.removed)
        listing.append(
            f"# … {len(cut)} more change(s), {sum(cut)} of the {total} rows added and removed, not shown "
            "here: the plan JSON lists every one"
        )
    title = DIFF_TITLE.replace("Access", "<b>Access</b>", 1)
    summary = f"<details open><summary>{title} ({diff_counts(diff)})</summary>"
    return [summary, "", *fenced(listing, "diff"), "", "</details>", ""]


# --- the access report -------------------------------------------------------------------------------


def report_csv(rows: Iterable[ReportRow], *, users: bool) -> Iterator[str]:
    """The CSV, in pieces of whole lines: `access --users` on a large site has millions of rows, written out
    as they are made rather than held. A grant's and an account's cells are escaped once, not on every row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow((*CSV_COLUMNS, *(USER_COLUMNS if users else ())))
    grant: Access | None = None
    grant_cells: tuple[str, ...] = ()
    account_cells: dict[Account | None, tuple[str, ...]] = {None: ("", "", "")}
    for count, row in enumerate(rows, start=1):
        if row.access is not grant:
            grant = row.access
            shown = (grant.project, row.project_name, grant.permission, grant.holder.label, grant.scheme)
            grant_cells = tuple(_cell(value) for value in shown)
        if not users:
            writer.writerow(grant_cells)
        else:
            cells = account_cells.get(row.account)
            if cells is None:
                account = row.account
                assert account is not None
                reached = (account.account_id, account.display_name, account.via)
                cells = account_cells[account] = tuple(_cell(value) for value in reached)
            writer.writerow(grant_cells + cells)
        if count % CSV_PIECE_ROWS == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    if out.tell():
        yield out.getvalue()


def _cell(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def report_json(rows: Sequence[ReportRow], *, users: bool, site: str, planned: bool) -> str:
    report = {"site": site, "planned": planned, "access": [row.fields(users) for row in rows]}
    return json_inert(json.dumps(report, indent=2, ensure_ascii=False)) + "\n"


def report_markdown(rows: Sequence[ReportRow], *, users: bool, title: str) -> str:
    columns = ("Project", "Permission", "Holder", "Scheme", *(("Account", "Via") if users else ()))
    lines = [f"### {title}", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        fields = row.fields(users)
        cells = [f"{fields['project']} {fields['projectName']}", fields["permission"], fields["holder"]]
        cells.append(fields["scheme"])
        if users:
            cells += [_account_text(row.account), row.account.via if row.account else ""]
        lines.append("| " + " | ".join(code(cell, in_table=True) if cell else "" for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def report_text(rows: Sequence[ReportRow], *, users: bool) -> str:
    """One block per project (its key, name and scheme), then a line per permission and holder, aligned;
    with `users`, a line per account, and the group it is in when the holder alone does not say it."""
    lines: list[str] = []
    width = max((len(row.access.permission) for row in rows), default=0)
    holder_width = max((len(row.access.holder.label) for row in rows), default=0)
    previous: tuple[str, str, str] | None = None
    for row in rows:
        access = row.access
        if previous is None or access.project != previous[0]:
            lines += [""] if lines else []
            lines.append(f"{access.project}  {row.project_name}  (scheme: {access.scheme})")
        grant = (access.project, access.permission, access.holder.label)
        line = "" if grant == previous else f"{access.permission:<{width}}  {access.holder.label}"
        previous = grant
        if users and row.account is not None:
            line = f"{line:<{width + holder_width + 2}}  {_account_text(row.account)}"
            if row.account.via != access.holder.label:
                line += f"  via {row.account.via}"
        lines.append(f"  {line}")
    return "".join(f"{visible(line)}\n" for line in lines)


def _account_text(account: Account | None) -> str:
    if account is None:
        return ""
    return f"{account.display_name} ({account.account_id})" if account.display_name else account.account_id
