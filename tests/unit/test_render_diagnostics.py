from __future__ import annotations

from reconciler.errors import SourceSpan, error, warning
from reconciler.render.diagnostics import (
    MAX_ERROR_ANNOTATIONS,
    MAX_WARNING_ANNOTATIONS,
    github_annotation,
    github_annotations,
    render_diagnostics,
)
from reconciler.render.workflow_commands import in_github_actions

DIAGNOSTICS = [
    error(
        "manifest.unknown_key",
        "unknown key 'nmae'",
        source=SourceSpan("m/a.yaml", 3, 5),
        address="products/X",
    ),
    warning("plan.note", "50% done, a,b:c\nnext line"),
]


def test_text_lines() -> None:
    assert render_diagnostics(DIAGNOSTICS) == (
        "m/a.yaml:3:5: error[manifest.unknown_key]: unknown key 'nmae'\n"
        "warning[plan.note]: 50% done, a,b:c\nnext line"
    )


def test_github_annotations() -> None:
    assert github_annotations(DIAGNOSTICS) == [
        "::error file=m/a.yaml,line=3,col=5,title=manifest.unknown_key%3A products/X::unknown key 'nmae'",
        "::warning title=plan.note::50%25 done, a,b:c%0Anext line",
    ]


def test_property_values_are_escaped() -> None:
    annotation = github_annotation(error("c", "m", source=SourceSpan("a,b:c.yaml", 1, 1)))
    assert annotation == "::error file=a%2Cb%3Ac.yaml,line=1,col=1,title=c::m"


def test_in_github_actions() -> None:
    assert in_github_actions({"GITHUB_ACTIONS": "true"})
    assert not in_github_actions({"GITHUB_ACTIONS": "false"})
    assert not in_github_actions({})


def test_annotations_stop_where_github_stops_showing_them() -> None:
    many = [
        error("manifest.invalid", f"problem {n}", source=SourceSpan("m.yaml", n + 1, 1)) for n in range(70)
    ]
    annotations = github_annotations(many)
    assert len(annotations) == MAX_ERROR_ANNOTATIONS + 1
    assert annotations[-2].endswith("::problem 9")
    assert annotations[-1] == "::notice::60 more problem(s) are not annotated; the log lists them all"


def test_errors_are_annotated_before_warnings() -> None:
    """60 warnings then an error made 50 warning annotations and none for the error."""
    warnings = [
        warning("manifest.unknown_permission", f"w{n}", source=SourceSpan("m.yaml", n + 1, 1))
        for n in range(60)
    ]
    annotations = github_annotations(
        [*warnings, error("manifest.invalid", "e", source=SourceSpan("m.yaml", 99, 1))]
    )
    assert annotations[0] == "::error file=m.yaml,line=99,col=1,title=manifest.invalid::e"
    assert sum(a.startswith("::warning") for a in annotations) == MAX_WARNING_ANNOTATIONS
    assert annotations[-1] == "::notice::50 more problem(s) are not annotated; the log lists them all"
