from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import Diagnostic, SourceSpan
from reconciler.yamlsource import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    LoadedYaml,
    SourceMap,
    load_yaml_file,
    load_yaml_text,
)


def load(text: str, environ: dict[str, str] | None = None) -> tuple[LoadedYaml | None, list[Diagnostic]]:
    return load_yaml_text(text, "m.yaml", environ or {})


def codes(text: str) -> list[tuple[int, int, str]]:
    _, diagnostics = load(text)
    return [(d.source.line, d.source.column, d.code) for d in diagnostics if d.source]


def test_plain_data_and_positions() -> None:
    loaded, diagnostics = load("version: 1\nproducts:\n  - name: A\n    renamedFrom: [B, C]\n  - {name: D}\n")
    assert diagnostics == [] and loaded is not None
    assert loaded.data == {
        "version": 1,
        "products": [{"name": "A", "renamedFrom": ["B", "C"]}, {"name": "D"}],
    }
    assert type(loaded.data["version"]) is int
    where = loaded.source_map
    assert where.locate(("products", 0, "renamedFrom", 1)) == SourceSpan("m.yaml", 4, 22)
    assert where.locate(("products", 0, "renamedFrom"), key=True) == SourceSpan("m.yaml", 4, 5)
    assert where.locate(("products", 1, "name")) == SourceSpan("m.yaml", 5, 12)
    assert where.locate(("products", 1)) == SourceSpan("m.yaml", 5, 5)
    # A path that goes further than the data ends at the deepest node that exists.
    assert where.locate(("products", 1, "grants", "X", 3)) == SourceSpan("m.yaml", 5, 5)
    assert where.locate(("nothing",)) == SourceSpan("m.yaml", 1, 1)


def test_source_map_without_positions() -> None:
    assert SourceMap("x.yaml").locate(("a",)) == SourceSpan("x.yaml", 1, 1)


def test_scalars_become_plain_types() -> None:
    loaded, _ = load("a: 1.5\nb: true\nc: null\nd: 0x10\ne: 'quoted'\nf: |\n  block\n")
    assert loaded is not None
    assert loaded.data == {"a": 1.5, "b": True, "c": None, "d": 16, "e": "quoted", "f": "block\n"}
    assert [type(v) for v in loaded.data.values()] == [float, bool, type(None), int, str, str]


def test_interpolation() -> None:
    text = 'a: ${JSM_VAR_TEAM} and $${LITERAL}\nb: ["x-${JSM_VAR_N}"]\n'
    loaded, diagnostics = load(text, {"JSM_VAR_TEAM": "SRE", "JSM_VAR_N": "2"})
    assert diagnostics == [] and loaded is not None
    assert loaded.data == {"a": "SRE and ${LITERAL}", "b": ["x-2"]}


def test_unset_and_malformed_variables_are_diagnostics_at_their_position() -> None:
    assert codes("a: ok\nb: x ${JSM_VAR_UNSET}\nc: ${JSM_VAR_A\n") == [
        (2, 6, "manifest.env"),
        (3, 4, "manifest.env"),
    ]


def test_only_jsm_var_variables_are_read() -> None:
    environ = {"JSM_API_TOKEN": "secret-token-value", "HOME": "/home/me", "JSM_VAR_OK": "ok"}
    text = 'a: "leak ${JSM_API_TOKEN}"\nb: |\n  one\n  $${HOME} ${HOME} ${not valid} ${JSM_VAR_OK}\n'
    loaded, diagnostics = load(text, environ)
    assert [(d.source.line, d.source.column, d.code) for d in diagnostics if d.source] == [
        (1, 10, "manifest.variable_not_allowed"),
        (4, 12, "manifest.variable_not_allowed"),
        (4, 20, "manifest.variable_not_allowed"),
    ]
    assert "JSM_VAR_" in diagnostics[0].message and "$${" in diagnostics[0].message
    assert loaded is not None and "secret-token-value" not in str(loaded.data)
    assert loaded.data["b"] == "one\n${HOME} ${HOME} ${not valid} ok\n"


def test_a_variable_written_with_escapes_is_refused_at_its_scalar() -> None:
    assert codes('a: "\\x24{HOME}"\n') == [(1, 4, "manifest.variable_not_allowed")]


def test_a_long_variable_name_is_quoted_short() -> None:
    _, diagnostics = load("a: ${" + "X" * 5000 + "}\n")
    assert len(diagnostics) == 1 and len(diagnostics[0].message) < 300


def test_variables_are_not_read_in_keys() -> None:
    loaded, diagnostics = load("${KEY}: 1\n")
    assert diagnostics == [] and loaded is not None and loaded.data == {"${KEY}": 1}


def test_non_text_keys() -> None:
    assert codes("1: a\nok: b\n") == [(1, 1, "manifest.invalid")]


def test_syntax_error_position() -> None:
    assert codes("a: [1, 2\nb: 3\n") == [(2, 2, "manifest.yaml")]


def test_duplicate_keys_are_all_reported() -> None:
    assert codes("a: 1\nb: {x: 1, x: 2}\na: 3\n") == [(2, 11, "manifest.yaml"), (3, 1, "manifest.yaml")]


def test_merge_keys_are_not_duplicates() -> None:
    loaded, diagnostics = load("base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n")
    assert diagnostics == [] and loaded is not None
    assert loaded.data["other"] == {"x": 1, "y": 2}


@pytest.mark.parametrize("text", ["a: !!binary aGk=\n", "a: !foo x\n", "a: !!map {}\n", "--- !!set\n? a\n"])
def test_tags_are_refused(text: str) -> None:
    assert [code for _, _, code in codes(text)] == ["manifest.yaml"]


def test_only_one_document() -> None:
    assert codes("a: 1\n---\nb: 2\n") == [(2, 1, "manifest.yaml")]


def test_empty_document() -> None:
    loaded, diagnostics = load("# nothing\n")
    assert diagnostics == [] and loaded is not None and loaded.data is None


def test_deep_nesting_fails_fast() -> None:
    assert codes("a: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)) == [
        (1, 3 + MAX_DEPTH, "manifest.too_large")
    ]
    loaded, diagnostics = load("a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1))
    assert diagnostics == [] and loaded is not None


def test_deep_nesting_through_an_alias_fails() -> None:
    inner = "[" * 40 + "]" * 40
    assert (
        codes(f"a: &x {inner}\nb: [[[[[[[[[[[[[[[[[[[[[[[[[[*x]]]]]]]]]]]]]]]]]]]]]]]]]]\n")[0][2]
        == "manifest.too_large"
    )


def test_alias_bomb_fails_fast() -> None:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    assert [code for _, _, code in codes("\n".join(lines) + "\n")] == ["manifest.too_large"]


def test_small_aliases_are_fine() -> None:
    loaded, diagnostics = load("a: &h [reporter, assignee]\nb: *h\n")
    assert diagnostics == [] and loaded is not None and loaded.data["b"] == ["reporter", "assignee"]


def test_recursive_alias() -> None:
    assert [code for _, _, code in codes("a: &x [1, *x]\n")] == ["manifest.yaml"]


def test_undefined_alias() -> None:
    assert [code for _, _, code in codes("a: *nowhere\n")] == ["manifest.yaml"]


def test_huge_file_is_not_parsed(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"# " + b"x" * MAX_FILE_BYTES + b"\n")
    loaded, diagnostics = load_yaml_file(path, "big.yaml")
    assert loaded is None and [d.code for d in diagnostics] == ["manifest.too_large"]
    loaded, diagnostics = load_yaml_text("x" * (MAX_FILE_BYTES + 1), "big.yaml")
    assert loaded is None and [d.code for d in diagnostics] == ["manifest.too_large"]


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    _, diagnostics = load_yaml_file(path, "latin1.yaml")
    assert [(d.code, d.source) for d in diagnostics] == [("manifest.yaml", SourceSpan("latin1.yaml", 1, 1))]


def test_unreadable_file(tmp_path: Path) -> None:
    _, diagnostics = load_yaml_file(tmp_path, "dir.yaml")
    assert [d.code for d in diagnostics] == ["manifest.read"]


def test_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes("\ufeffversion: 1\n".encode())
    loaded, diagnostics = load_yaml_file(path, "bom.yaml")
    assert diagnostics == [] and loaded is not None and loaded.data == {"version": 1}


@pytest.mark.parametrize("libyaml", [True, False], ids=["libyaml", "pure-python"])
def test_plain_scalars_follow_yaml_1_2(libyaml: bool) -> None:
    text = "a: yes\nb: on\nc: 0755\nd: 1:20\ne: ~\nf: .inf\ng: NO\nh: 0o17\ni: -.5e+1\nj: '0755'\nk:\n"
    loaded, diagnostics = load_yaml_text(text, "m.yaml", {}, libyaml=libyaml)
    assert diagnostics == [] and loaded is not None
    assert loaded.data == {
        "a": "yes",
        "b": "on",
        "c": 755,
        "d": "1:20",
        "e": None,
        "f": float("inf"),
        "g": "NO",
        "h": 15,
        "i": -5.0,
        "j": "0755",
        "k": None,
    }
    assert loaded.source_map.locate(("k",)) == SourceSpan("m.yaml", 12, 1)


@pytest.mark.parametrize("libyaml", [True, False], ids=["libyaml", "pure-python"])
def test_both_parsers_agree(libyaml: bool) -> None:
    text = (
        "version: 1\nempty:\n# note\nnext: &n {x: [1, 2.5, true, null]}\nmerged:\n  <<: *n\n  y: z\n"
        "folded: >\n  one\n  two\n"
    )
    loaded, diagnostics = load_yaml_text(text, "m.yaml", {}, libyaml=libyaml)
    assert diagnostics == [] and loaded is not None
    assert loaded.data["merged"] == {"y": "z", "x": [1, 2.5, True, None]}
    assert loaded.data["folded"] == "one two\n"
    assert dict(loaded.source_map.values)[("empty",)] == (4, 1)
    assert loaded.source_map.locate(("merged", "x")) == SourceSpan("m.yaml", 6, 3)
    assert codes("a: [1,\n") == [(2, 1, "manifest.yaml")]


def test_text_libyaml_reads_differently_gets_ruamels_reading() -> None:
    loaded, diagnostics = load("a: [x\ty]\n")
    assert loaded is None and [d.message for d in diagnostics] == [
        "invalid YAML: the list opened with '[' at line 1 lacks its ']', or a ',' between items"
        " (YAML parser: expected ',' or ']', but got '<scalar>', while parsing a flow sequence at line 1)"
    ]


def test_nesting_beyond_libyamls_own_limit_is_too_deep() -> None:
    # libyaml refuses 1000 flow levels itself, before it gives the first event of `a: [[[...`
    assert [code for _, _, code in codes("a: " + "[" * 5000 + "]" * 5000 + "\n")] == ["manifest.too_large"]


def test_an_anchor_defined_twice_is_refused() -> None:
    assert codes("a: &x 1\nb: &x 2\n") == [(2, 4, "manifest.yaml")]


def test_two_merge_keys_are_duplicates() -> None:
    assert codes("a: &a {x: 1}\nb:\n  <<: *a\n  <<: *a\n") == [(4, 3, "manifest.yaml")]


def test_empty_values_followed_by_a_comment_or_the_end_of_the_text_stay_after_the_colon() -> None:
    loaded, _ = load("a: # later\nb:\n  c:")
    assert loaded is not None and loaded.data == {"a": None, "b": {"c": None}}
    assert loaded.source_map.locate(("a",)) == SourceSpan("m.yaml", 1, 3)
    assert loaded.source_map.locate(("b", "c")) == SourceSpan("m.yaml", 3, 5)


def test_tabs_where_libyaml_and_ruamel_agree() -> None:
    loaded, diagnostics = load("a: 'x\ty'  # a\ttab\nb: [1,\t2]\n")
    assert diagnostics == [] and loaded is not None and loaded.data == {"a": "x\ty", "b": [1, 2]}


def messages(text: str) -> list[tuple[int, int, str, str]]:
    _, diagnostics = load(text)
    return [(d.source.line, d.source.column, d.code, d.message) for d in diagnostics if d.source]


def test_an_alias_to_its_own_enclosing_mapping_deep_inside_it() -> None:
    assert messages("a: &x {b: {c: [1, {d: *x}]}}\n") == [
        (1, 23, "manifest.yaml", "alias *x refers to itself")
    ]
    assert messages("a: &x {<<: *x}\n") == [(1, 12, "manifest.yaml", "alias *x refers to itself")]


def test_a_refused_alias_is_placed_at_the_alias_not_at_a_comment_naming_it() -> None:
    assert messages("a: &x [1, # *x is here\n  *x]\n") == [
        (2, 3, "manifest.yaml", "alias *x refers to itself")
    ]


def test_alias_bomb_through_merge_keys_fails_fast() -> None:
    lines = ["a0: &a0 {k0: 1, k1: 2, k2: 3, k3: 4, k4: 5, k5: 6, k6: 7, k7: 8, k8: 9}"]
    lines += [f"a{i}: &a{i} {{<<: [{', '.join([f'*a{i - 1}'] * 9)}]}}" for i in range(1, 9)]
    assert messages("\n".join(lines) + "\n") == [
        (5, 40, "manifest.too_large", "aliases expand to more than 100000 nodes; the document is refused")
    ]


def test_duplicate_keys_inside_merged_mappings() -> None:
    text = "a: &x {k: 1, k: 2}\nb: {<<: *x}\nc: {<<: {d: 1, d: 2}}\n"
    assert messages(text) == [
        (1, 14, "manifest.yaml", "duplicate key 'k' (first given at line 1)"),
        (3, 16, "manifest.yaml", "duplicate key 'd' (first given at line 3)"),
    ]


def test_aliases_inside_an_inline_merged_mapping_are_measured() -> None:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for previous, name in zip("abcd", "bcde", strict=True):
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    lines.append("g: {<<: {x: [*e, *e]}}")
    assert codes("\n".join(lines) + "\n") == [(6, 14, "manifest.too_large")]


@pytest.mark.parametrize("text", ["a: ! z\n", "a: &q ! z\n", "a: [! x]\n", "a: ! [1]\n"])
def test_the_non_specific_tag_alone_is_refused(text: str) -> None:
    assert [message for *_, message in messages(text)] == ["YAML tags such as ! are not allowed"]


def test_tags_on_keys_and_aliases_as_keys() -> None:
    assert messages("a: &s x\n*s : 2\n!!str x: 3\n") == [
        (3, 1, "manifest.yaml", "YAML tags such as !!str are not allowed")
    ]


def test_an_aliased_scalar_is_interpolated_where_it_is_used() -> None:
    loaded, diagnostics = load("a: &t ${JSM_VAR_TEAM}\nb: [*t, *t]\n", {"JSM_VAR_TEAM": "SRE"})
    assert diagnostics == [] and loaded is not None and loaded.data == {"a": "SRE", "b": ["SRE", "SRE"]}


def test_an_aliased_scalar_is_reported_once() -> None:
    assert codes("a: &t ${HOME}\nb: [*t, *t]\n") == [(1, 7, "manifest.variable_not_allowed")]


def test_nesting_beyond_the_pure_python_composers_recursion_is_too_deep() -> None:
    _, diagnostics = load_yaml_text("a: " + "[" * 5000 + "]" * 5000 + "\n", "m.yaml", {}, libyaml=False)
    assert [d.code for d in diagnostics] == ["manifest.too_large"]


def test_merging_what_is_not_a_mapping() -> None:
    assert messages("a: {<<: [1, {b: 2}]}\n") == [
        (1, 10, "manifest.yaml", "invalid YAML: `<<` can only merge a mapping or a list of mappings")
    ]


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("a: {1: !t z}\n", 8),  # under a key that is not text
        ("a: {[!t x]: 1}\n", 6),  # inside a key that is a collection
        ("a: {<<: [[!t x]]}\n", 11),  # merged, though not a mapping
        ("a: {<<: {k: !t 2}, k: 3}\n", 13),  # merged, though the mapping has the key
    ],
)
def test_nodes_the_data_leaves_out_are_checked_too(text: str, column: int) -> None:
    assert messages(text) == [(1, column, "manifest.yaml", "YAML tags such as !t are not allowed")]


def test_an_alias_as_a_key_is_not_a_duplicate_but_what_follows_may_be() -> None:
    assert messages("? &k b\n: 1\n*k : 2\nb: 3\n") == [
        (4, 1, "manifest.yaml", "duplicate key 'b' (first given at line 1)")
    ]


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("a: {1: {x: 1, x: 2}}\n", 15),  # under a key that is not text
        ("? {x: 1, x: 2}\n: 1\n", 10),  # inside a key that is a collection
        ("a: {<<: [[{x: 1, x: 1}]]}\n", 18),  # merged, though not a mapping
        ("a: {<<: {k: {x: 1, x: 2}}, k: 3}\n", 20),  # merged, though the mapping has the key
    ],
)
def test_duplicate_keys_in_nodes_the_data_leaves_out(text: str, column: int) -> None:
    assert messages(text) == [(1, column, "manifest.yaml", "duplicate key 'x' (first given at line 1)")]


def test_refusals_come_in_text_order_though_merged_entries_are_read_last() -> None:
    assert [column for _, column, *_ in messages("c: {<<: {d: 1, d: 2}, e: {f: 1, f: 2}}\n")] == [16, 33]


def test_ampersands_asterisks_and_exclamation_marks_in_text_are_only_text() -> None:
    loaded, diagnostics = load("a: x*y\nb: '*'\nc: R&D\nd: 'Go!'  # & !\n")
    assert diagnostics == [] and loaded is not None
    assert loaded.data == {"a": "x*y", "b": "*", "c": "R&D", "d": "Go!"}
