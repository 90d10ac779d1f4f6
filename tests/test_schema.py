"""project.yaml validation: every error names file, line, column and key."""

from __future__ import annotations

from pathlib import Path

import pytest
from portfolio import schema

from tests.conftest import portfolio_cli, yaml_problems

problems_for = yaml_problems


def test_only_title_is_required(tmp_path: Path) -> None:
    path = tmp_path / "project.yaml"
    path.write_text("title: Minimal\n")
    meta, problems = schema.parse(path)
    assert problems == []
    assert meta is not None
    assert (meta.title, meta.script, meta.timeout) == ("Minimal", "train.py", 30 * 60)


def test_wrong_enum_value_points_at_the_key(tmp_path: Path) -> None:
    text = "title: T\nmetric:\n  name: accuracy\n  goal: maxx\n"
    assert problems_for(tmp_path, text) == [
        "project.yaml:4:3: metric.goal: expected 'max' or 'min'"]


def test_unknown_key_suggests_the_closest(tmp_path: Path) -> None:
    assert problems_for(tmp_path, "title: T\nsumary: x\n") == [
        "project.yaml:2:1: sumary: unknown key; did you mean 'summary'?"]


def test_unknown_nested_key_suggests_from_its_own_level(tmp_path: Path) -> None:
    text = "title: T\nbaselines:\n  - name: b\n    valeu: 1\n"
    assert problems_for(tmp_path, text) == [
        "project.yaml:3:5: baselines[0].value: required key is missing",
        "project.yaml:4:5: baselines[0].valeu: unknown key; did you mean 'value'?",
    ]


def test_missing_title_and_wrong_types_are_all_reported(tmp_path: Path) -> None:
    found = problems_for(tmp_path, "tags: cnn\ntimeout: soon\n")
    assert found == [
        "project.yaml:1:1: title: required key is missing",
        "project.yaml:1:1: tags: expected a list, got a string",
        "project.yaml:2:1: timeout: expected a number, got a string",
    ]


def test_yaml_syntax_error_has_a_position(tmp_path: Path) -> None:
    [problem] = problems_for(tmp_path, "title: [unclosed\n")
    assert problem.startswith("project.yaml:2:1: invalid YAML")


def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    assert problems_for(tmp_path, "title: a\ntitle: b\n") == [
        "project.yaml:2:1: title: duplicate key"]


def test_task_typo_gets_a_suggestion(tmp_path: Path) -> None:
    [problem] = problems_for(tmp_path, "title: T\ntask: regresion\n")
    assert problem.startswith("project.yaml:2:1: task: expected")
    assert problem.endswith("did you mean 'regression'?")


@pytest.mark.parametrize("text", ["- a list\n", "just a string\n"])
def test_document_must_be_a_mapping(tmp_path: Path, text: str) -> None:
    assert problems_for(tmp_path, text) == [
        "project.yaml:1:1: expected a mapping of keys to values"]


@pytest.mark.cli
def test_check_exits_2_with_every_problem_and_no_traceback(tiny: Path) -> None:
    (tiny / "projects" / "tutorial" / "project.yaml").write_text(
        "title: T\nmetric:\n  name: accuracy\n  goal: maxx\n")
    (tiny / "projects" / "failing" / "project.yaml").write_text("titel: Oops\n")
    result = portfolio_cli("check", cwd=tiny)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert "projects/tutorial/project.yaml:4:3: metric.goal: expected 'max' or 'min'" in lines
    assert "projects/failing/project.yaml:1:1: titel: unknown key; did you mean 'title'?" in lines


@pytest.mark.cli
def test_check_accepts_the_fixture_portfolio(tiny: Path) -> None:
    result = portfolio_cli("check", cwd=tiny)
    assert result.returncode == 0, result.stderr
    assert "3 project(s) OK" in result.stdout


@pytest.mark.cli
def test_build_refuses_bad_metadata_before_running_anything(tiny: Path) -> None:
    (tiny / "projects" / "failing" / "project.yaml").write_text("title: [\n")
    result = portfolio_cli("build", cwd=tiny)
    assert result.returncode == 2
    assert "projects/failing/project.yaml:2:1: invalid YAML" in result.stderr
    assert not (tiny / "results").exists()
    assert not (tiny / "site").exists()
