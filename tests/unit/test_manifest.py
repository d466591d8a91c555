from __future__ import annotations

import logging
import os
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from reconciler.address import Address
from reconciler.errors import Severity, SourceSpan
from reconciler.kinds.permission_scheme import PermissionSchemeSpec
from reconciler.kinds.team_role import TeamRoleSpec
from reconciler.manifest import load as load_module
from reconciler.manifest import validation
from reconciler.manifest.document import manifest_document
from reconciler.manifest.load import PROBLEMS_PER_FILE, PROBLEMS_PER_SET, load_manifests
from reconciler.registry import KINDS
from reconciler.state import DesiredState, Settings, Thresholds

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "manifests"


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[tuple[int, int, str]]:
    path = write(tmp_path, "m.yaml", text)
    _, diagnostics = load_manifests([path], KINDS, environ={})
    return [(d.source.line, d.source.column, d.code) for d in diagnostics if d.source]


def test_empty_state() -> None:
    state = DesiredState.empty()
    assert state.objects == {} and state.settings == Settings() and state.files == ()
    assert state.locate(Address("products", "", "x")) is None


def test_locate(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "m.yaml",
        """\
        version: 1
        teamRoles:
          - team: Platform SRE
            roles:
              - name: responder
                granted: [access-reports]
        permissionSchemes:
          - name: S
            grants:
              BROWSE_PROJECTS:
                - reporter
                - group:jira-administrators
        """,
    )
    state, diagnostics = load_manifests([path], KINDS, environ={})
    assert diagnostics == []
    shown = path.as_posix()
    scheme = Address("permissionSchemes", "", "S")
    assert isinstance(state.objects[scheme], PermissionSchemeSpec)
    assert state.locate(scheme) == SourceSpan(shown, 8, 5)
    assert state.locate(scheme, "name") == SourceSpan(shown, 8, 5)
    assert state.locate(scheme, "grants", "BROWSE_PROJECTS") == SourceSpan(shown, 10, 7)
    assert state.locate(scheme, "grants", "BROWSE_PROJECTS", 1) == SourceSpan(shown, 12, 11)
    assert state.locate(scheme, "grants", "MISSING", 4) == SourceSpan(shown, 10, 7)
    role = Address("teamRoles", "Platform SRE", "responder")
    assert state.objects[role] == TeamRoleSpec(
        team="Platform SRE", name="responder", granted=["access-reports"], renamed_from=[]
    )
    assert state.locate(role) == SourceSpan(shown, 5, 9)
    assert state.locate(role, "team") == SourceSpan(shown, 3, 5)
    assert state.locate(role, "granted", 0) == SourceSpan(shown, 6, 19)


def test_directories_are_read_recursively_in_order_skipping_hidden(tmp_path: Path) -> None:
    write(tmp_path, "b/two.yml", "version: 1\nproducts: [{name: Two}]\n")
    write(tmp_path, "a.yaml", "version: 1\nproducts: [{name: One}]\n")
    write(tmp_path, ".github/workflows/ci.yml", "on: push\n")
    write(tmp_path, "notes.txt", "not yaml")
    state, diagnostics = load_manifests([tmp_path, tmp_path / "a.yaml"], KINDS, environ={})
    assert diagnostics == []
    assert [p.removeprefix(tmp_path.as_posix()) for p in state.files] == ["/a.yaml", "/b/two.yml"]
    assert [a.name for a in state.objects] == ["One", "Two"]


def test_missing_path_and_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    _, diagnostics = load_manifests([tmp_path / "nope.yaml", tmp_path / "empty"], KINDS, environ={})
    assert [d.code for d in diagnostics] == ["manifest.read", "manifest.read"]


def test_a_name_that_is_not_utf8_is_refused_at_its_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pull request can add such a file: it is named with its bytes escaped, and neither read nor walked."""
    manifest = "version: 1\nproducts: [{name: One}]\n"
    write(tmp_path, "ok.yaml", manifest)
    write(tmp_path, os.fsdecode(b"perm\xff.yaml"), manifest)
    write(tmp_path, os.fsdecode(b"dir\xfe") + "/inner.yaml", manifest)
    write(tmp_path, os.fsdecode(b"notes\xff.txt"), "not a manifest, so not refused")
    state, diagnostics = load_manifests([tmp_path], KINDS, environ={})
    root = tmp_path.as_posix()
    refused = "the name is not UTF-8 text, so it is not read; rename it"
    assert [(d.code, d.message, d.source) for d in diagnostics] == [
        ("manifest.read", f"{root}/dir\\xfe: {refused}", None),
        ("manifest.read", refused, SourceSpan(f"{root}/perm\\xff.yaml", 1, 1)),
    ]
    assert [p.removeprefix(root) for p in state.files] == ["/ok.yaml"]
    _, given = load_manifests([tmp_path / os.fsdecode(b"perm\xff.yaml")], KINDS, environ={})
    assert [(d.code, d.source) for d in given] == [
        ("manifest.read", SourceSpan(f"{root}/perm\\xff.yaml", 1, 1))
    ]
    monkeypatch.chdir(tmp_path)
    _, here = load_manifests([], KINDS, environ={})
    assert [(d.code, d.source) for d in here] == [("manifest.read", SourceSpan("perm\\xff.yaml", 1, 1))]


def test_version_is_required_and_must_be_1(tmp_path: Path) -> None:
    assert problems(tmp_path, "products: []\n") == [(1, 1, "manifest.version")]
    assert problems(tmp_path, "version: true\n") == [(1, 10, "manifest.version")]
    assert problems(tmp_path, "version: '1'\n") == [(1, 10, "manifest.version")]
    assert problems(tmp_path, "# nothing\n") == [(1, 1, "manifest.version")]
    assert problems(tmp_path, "- version: 1\n") == [(1, 1, "manifest.invalid")]


def test_a_quoted_version_is_said_to_be_text(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", 'version: "1"\n')
    [quoted] = load_manifests([tmp_path], KINDS, environ={})[1]
    assert quoted.message == "the manifest version '1' is text (quoted); write the number: `version: 1`"
    write(tmp_path, "a.yaml", "version: 2\n")
    [other] = load_manifests([tmp_path], KINDS, environ={})[1]
    assert other.message == "unsupported manifest version 2; write `version: 1`"


def test_settings_in_one_file_only(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "version: 1\nsettings: {prune: [products]}\n")
    write(tmp_path, "b.yaml", "version: 1\nsettings:\n  prune: [customRoles]\n")
    state, diagnostics = load_manifests([tmp_path], KINDS, environ={})
    assert [(d.source.file.rsplit("/", 1)[-1], d.source.line, d.code) for d in diagnostics if d.source] == [
        ("b.yaml", 2, "manifest.settings")
    ]
    assert "a.yaml:2:1" in diagnostics[0].message
    assert state.prune == frozenset({"products"})


def test_settings_model() -> None:
    settings = Settings.model_validate(
        {"prune": ["teamRoles"], "protect": ["teamRoles/Platform SRE/responder"], "thresholds": {}}
    )
    assert settings.thresholds == Thresholds(
        max_delete_percent=None, max_update_percent=None, min_existing=10
    )


def test_rename_chain_and_swap_are_fine(tmp_path: Path) -> None:
    text = """\
        version: 1
        products:
          - {name: C, renamedFrom: [B]}
          - {name: B, renamedFrom: [A]}
          - {name: X, renamedFrom: [Y]}
          - {name: Y, renamedFrom: [X]}
        """
    assert problems(tmp_path, text) == []


def test_team_roles_are_scoped_by_team(tmp_path: Path) -> None:
    text = """\
        version: 1
        teamRoles:
          - team: A
            roles: [{name: r, renamedFrom: [old]}]
          - team: B
            roles: [{name: r, renamedFrom: [old]}]
        """
    assert problems(tmp_path, text) == []


def test_detail_field_names_compare_without_case_in_renames(tmp_path: Path) -> None:
    text = """\
        version: 1
        detailFields:
          organization:
            - {name: Region, type: TEXT, renamedFrom: [region]}
        """
    assert problems(tmp_path, text) == [(4, 48, "manifest.renamed_from")]


def test_app_permission_keys_pass_offline(tmp_path: Path) -> None:
    text = """\
        version: 1
        permissionSchemes:
          - name: S
            grants:
              com.example.timesheets__LOG_TIME: [reporter]
              TEMPO__LOG_WORK: [reporter]
              LOG_TIME: [reporter]
        """
    assert problems(tmp_path, text) == [(7, 7, "manifest.unknown_permission")]


def test_invalid_objects_do_not_hide_cross_object_problems(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "version: 1\nproducts: [{name: P}, {name: Q, bad: 1}]\n")
    write(tmp_path, "b.yaml", "version: 1\nproducts: [{name: P}]\n")
    state, diagnostics = load_manifests([tmp_path], KINDS, environ={})
    assert [d.code for d in diagnostics] == ["manifest.unknown_key", "manifest.duplicate"]
    assert diagnostics[0].address == "products/Q"
    assert [a.name for a in state.objects] == ["P"]


def test_snake_case_keys_are_unknown(tmp_path: Path) -> None:
    assert problems(tmp_path, "version: 1\nproducts: [{name: P, renamed_from: [O]}]\n") == [
        (2, 22, "manifest.unknown_key")
    ]


def test_environment_is_interpolated(tmp_path: Path) -> None:
    path = write(tmp_path, "m.yaml", "version: 1\nproducts: [{name: '${JSM_VAR_PRODUCT}'}]\n")
    state, diagnostics = load_manifests([path], KINDS, environ={"JSM_VAR_PRODUCT": "Acme"})
    assert diagnostics == [] and list(state.objects) == [Address("products", "", "Acme")]


def test_an_unexpected_failure_becomes_a_diagnostic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("reconciler.manifest.load.load_yaml_file", explode)
    path = write(tmp_path, "m.yaml", "version: 1\n")
    _, diagnostics = load_manifests([path], KINDS, environ={})
    assert [(d.code, d.source) for d in diagnostics] == [
        ("manifest.internal", SourceSpan(path.as_posix(), 1, 1))
    ]


def test_manifest_document_model() -> None:
    document = manifest_document(KINDS).model_validate({"version": 1, "products": [{"name": "A"}]})
    products = getattr(document, "products", None)
    assert products is not None and products[0].name == "A"


# Property: no input, random or mutated from the examples, ever escapes as an exception.

EXAMPLE_TEXTS = [path.read_text(encoding="utf-8") for path in sorted(EXAMPLES.glob("*.yaml"))]
JUNK = st.sampled_from(
    [
        "!!python/object:os.system x",
        "&a [*a]",
        "*nowhere",
        "[[[[[[[[",
        "{a: 1, a: 2}",
        "${UNSET}",
        "${JSM_VAR_UNSET}",
        "$${",
        ": :",
        "- - -",
        "'",
        "\t",
        "\x00",
        "null",
        "1e999",
        "2024-01-01",
        "{type: group}",
        "[" * 70 + "]" * 70,
        "!custom x",
        "<<: *x",
        "? [a]\n: b",
        "---\n---",
        "\ufeff",
    ]
)


@st.composite
def mutated_example(draw: st.DrawFn) -> str:
    lines = draw(st.sampled_from(EXAMPLE_TEXTS)).splitlines()
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["drop", "junk", "rename", "retype", "indent", "duplicate"]))
        line = lines[index]
        if action == "drop":
            del lines[index]
        elif action == "junk":
            lines[index] = line.split(":", 1)[0] + ": " + draw(JUNK)
        elif action == "rename":
            lines[index] = line.replace(":", draw(st.sampled_from(["x:", "s:", ": ", ":"])), 1)
        elif action == "retype":
            lines[index] = (
                line.split(":", 1)[0] + ": " + draw(st.sampled_from(["1", "true", "[]", "{}", "~", "-3"]))
            )
        elif action == "indent":
            lines[index] = draw(st.sampled_from(["", "  ", "    ", " "])) + line.lstrip()
        else:
            lines.insert(index, line)
        if not lines:
            break
    return "\n".join(lines) + "\n"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(mutated_example(), st.text(max_size=200), JUNK))
def test_no_input_raises(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    state, diagnostics = load_manifests([path], KINDS, environ={})
    for diagnostic in diagnostics:
        assert diagnostic.code.startswith("manifest.")
        assert diagnostic.code != "manifest.internal", diagnostic.message
        assert "Value error" not in diagnostic.message
    assert isinstance(state, DesiredState)


def test_without_paths_only_manifests_in_the_working_directory_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    write(tmp_path, "jsm.yaml", "version: 1\nproducts: [{name: One}]\n")
    write(tmp_path, "typo.yml", "versoin: 1\nprodcts: [{name: Two}]\n")  # a manifest with mistakes
    write(tmp_path, "docker-compose.yml", "version: '3.8'\nservices: {web: {image: nginx}}\n")
    write(tmp_path, "dependabot.yaml", "version: 2\nupdates: []\n")
    write(tmp_path, "cloudformation.yaml", "Resources:\n  Bucket: !Ref Name\n  - broken: [\n")
    write(tmp_path, "broken.yaml", "version: 1\nproducts: [\n")
    write(tmp_path, "sub/other.yaml", "version: 1\nproducts: [{name: Three}]\n")
    monkeypatch.chdir(tmp_path)
    with caplog.at_level(logging.INFO, logger="reconciler.manifest"):
        state, diagnostics = load_manifests([], KINDS, environ={})
    assert state.files == ("broken.yaml", "jsm.yaml", "typo.yml")
    assert [a.name for a in state.objects] == ["One"]
    assert {d.source.file for d in diagnostics if d.source} == {"broken.yaml", "typo.yml"}
    assert "skipping docker-compose.yml: not a manifest" in caplog.text
    assert "reading jsm.yaml" in caplog.text


def test_without_paths_and_no_manifests_the_error_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "mkdocs.yml", "site_name: docs\n")
    write(tmp_path, "manifests/jsm.yaml", "version: 1\n")
    monkeypatch.chdir(tmp_path)
    _, diagnostics = load_manifests([], KINDS, environ={})
    assert [d.code for d in diagnostics] == ["manifest.read"]
    assert diagnostics[0].message.startswith("no manifests found in .")
    assert "1 YAML file(s) there are not manifests (-v lists them)" in diagnostics[0].message


def test_a_directory_given_is_read_whole(tmp_path: Path) -> None:
    write(tmp_path, "tool.yaml", "version: 2\n")
    _, diagnostics = load_manifests([tmp_path], KINDS, environ={})
    assert [d.code for d in diagnostics] == ["manifest.version"]


def test_a_file_reports_its_first_problems_only_and_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """500,000 wrong list items made 500,000 diagnostics: 11 s, 1.2 GB and 135 MB of log."""
    handed: list[int] = []
    real = validation.diagnostics_from

    def spy(exc: ValidationError, *args: Any) -> Any:
        handed.append(exc.error_count())
        return real(exc, *args)

    monkeypatch.setattr(load_module, "diagnostics_from", spy)
    path = tmp_path / "m.yaml"
    path.write_text("version: 1\nproducts: [" + ",".join(["1"] * 200_000) + "]\n", encoding="utf-8")
    _, diagnostics = load_manifests([path], KINDS, environ={})
    assert len(diagnostics) == PROBLEMS_PER_FILE + 1
    last = diagnostics[-1]
    assert last.code == "manifest.too_many_problems" and last.source == diagnostics[-2].source
    assert "only the first 100 in this file are shown" in last.message
    assert handed == [PROBLEMS_PER_FILE + 1]  # pydantic's errors of the cut lists, not of 200,000 items


def test_a_set_reports_its_first_problems_only_and_reads_no_more_files(tmp_path: Path) -> None:
    wrong = "version: 1\nproducts: [" + ",".join(["1"] * 150) + "]\n"
    for number in range(12):
        write(tmp_path, f"m{number:02}.yaml", wrong)
    _, diagnostics = load_manifests([tmp_path], KINDS, environ={})
    closing = [d for d in diagnostics if d.code == "manifest.too_many_problems"]
    assert len(diagnostics) == PROBLEMS_PER_SET + len(closing)
    assert len(closing) == 10  # nine files' lines, and at the tenth's 101st problem the set's
    assert "only the first 1000 of the set are shown, and no more files were read" in closing[0].message
    assert not any(d.source and d.source.file.endswith(("m10.yaml", "m11.yaml")) for d in diagnostics)


@pytest.mark.parametrize("text", ["", "[1]\n"], ids=["empty", "not a mapping"])
def test_files_that_cost_nothing_still_count_toward_the_limit_of_the_set(tmp_path: Path, text: str) -> None:
    """An empty file is no bytes of the 20 MB: its one error each must count, or a set of them has no end."""
    for number in range(PROBLEMS_PER_SET + 100):
        write(tmp_path, f"m{number:04}.yaml", text)
    _, diagnostics = load_manifests([tmp_path], KINDS, environ={})
    assert len(diagnostics) == PROBLEMS_PER_SET + 1
    assert [d.code for d in diagnostics].count("manifest.too_many_problems") == 1


def test_the_errors_kept_are_the_first_by_position_though_lists_are_cut(tmp_path: Path) -> None:
    """The first list's errors are all past the cut's 101 items, the second's are 200: the cut alone
    showed the second list's and dropped the 99 that come first."""
    roles = [
        f"  - {{name: r{n}, grantedRights: [alert-action]}}" if n < 101 else f"  - {{name: r{n}, bogus: 1}}"
        for n in range(200)
    ]
    projects = [f"  - {{key: P{n}, bogus: 1}}" for n in range(200)]
    text = "\n".join(["version: 1", "customRoles:", *roles, "projects:", *projects]) + "\n"
    _, diagnostics = load_manifests([write(tmp_path, "m.yaml", text)], KINDS, environ={})
    lines = [d.source.line for d in diagnostics if d.source]
    assert lines[0] == 104  # r101, the first wrong item
    assert lines[98] == 202 and lines[99] > 202  # every wrong role, then the projects
    assert diagnostics[-1].code == "manifest.too_many_problems"


def test_warnings_do_not_count_toward_the_limit_nor_stop_the_reading(tmp_path: Path) -> None:
    """120 grants of an app's permission made 120 warnings: the 101st stopped the file as if it were wrong."""
    schemes = "".join(f"  - name: S{n}\n    grants:\n      NEW_KEY: [reporter]\n" for n in range(120))
    path = write(tmp_path, "m.yaml", "version: 1\npermissionSchemes:\n" + schemes)
    desired, diagnostics = load_manifests([path], KINDS, environ={})
    assert len(desired.objects) == 120
    assert all(d.severity is Severity.WARNING for d in diagnostics)
    assert len(diagnostics) == PROBLEMS_PER_FILE + 1
    assert diagnostics[-1].code == "manifest.too_many_problems"
    assert diagnostics[-1].message == "20 more warning(s) in this file are not shown"


def test_errors_of_list_items_past_the_cut_are_not_lost(tmp_path: Path) -> None:
    """The cut to 101 items kept one error of 151 (items 5 and 150 to 299 wrong), and said nothing more."""
    items = [f"  - name: P{n}\n" + ("    bogus: 1\n" if n == 5 or n >= 150 else "") for n in range(300)]
    path = write(tmp_path, "m.yaml", "version: 1\nproducts:\n" + "".join(items))
    _, diagnostics = load_manifests([path], KINDS, environ={})
    assert [d.code for d in diagnostics].count("manifest.unknown_key") == PROBLEMS_PER_FILE
    assert diagnostics[-1].code == "manifest.too_many_problems"


def test_the_errors_kept_are_the_first_by_position(tmp_path: Path) -> None:
    """pydantic reports products before projects: the projects' errors above them were cut."""
    projects = "".join(f"  - key: K{n}\n    permissionScheme: s\n    bogus: 1\n" for n in range(10))
    products = "".join(f"  - name: P{n}\n    bogus: 1\n" for n in range(120))
    path = write(tmp_path, "m.yaml", f"version: 1\nprojects:\n{projects}products:\n{products}")
    _, diagnostics = load_manifests([path], KINDS, environ={})
    lines = [d.source.line for d in diagnostics if d.source]
    assert lines[:10] == [5 + 3 * n for n in range(10)]
    assert lines == sorted(lines) and len(diagnostics) == PROBLEMS_PER_FILE + 1


def test_a_symbolic_link_loop_is_refused_at_its_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """resolve() raised RuntimeError("Symlink loop") on Python 3.11: "Internal error: RuntimeError"."""
    write(tmp_path, "jsm/products.yaml", "version: 1\nproducts:\n  - name: P\n")
    (tmp_path / "jsm" / "l.yaml").symlink_to("l.yaml")
    (tmp_path / "loop").symlink_to("loop")
    monkeypatch.chdir(tmp_path)
    cases = {"jsm": "jsm/l.yaml", "jsm/l.yaml": "jsm/l.yaml", "loop": "loop", "loop/x.yaml": "loop/x.yaml"}
    for path, refused in cases.items():
        _, diagnostics = load_manifests([Path(path)], KINDS, environ={})
        assert [(d.code, d.source) for d in diagnostics] == [("manifest.symlink", SourceSpan(refused, 1, 1))]


SECRET = "ghp_" + "Z" * 44
QUOTING = {  # every message that quotes text of the file, each fed a long secret-like value
    "tag": f"foo: !{SECRET}!bar x\n",
    "list": f"version: 1\nproducts: {SECRET}\n",
    "item": f"version: 1\nproducts:\n  - name: x\n  - {SECRET}\n",
    "enum": f"version: 1\ndetailFields:\n  organization:\n    - name: x\n      type: {SECRET}\n",
    "holder": (
        "version: 1\npermissionSchemes:\n  - name: x\n    grants:\n"
        f"      BROWSE_PROJECTS: [{{type: {SECRET}, parameter: x}}]\n"
    ),
    "control character": f'version: 1\nproducts:\n  - name: "{SECRET}\\tx"\n',
}


@pytest.mark.parametrize("text", QUOTING.values(), ids=QUOTING.keys())
def test_no_message_quotes_a_value_whole(tmp_path: Path, text: str) -> None:
    _, diagnostics = load_manifests([write(tmp_path, "m.yaml", text)], KINDS, environ={})
    assert diagnostics
    assert any(SECRET[:15] in d.message for d in diagnostics), diagnostics  # quoted, but short
    assert not any(SECRET in d.message for d in diagnostics)
