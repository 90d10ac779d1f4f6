"""A project's README.md split into sections and placed under the five steps."""

from __future__ import annotations

from pathlib import Path

import pytest
from portfolio import narrative


@pytest.mark.parametrize(("heading", "step"), [
    ("Problem", "problem"), ("Why it matters", "problem"), ("The data set", "data"),
    ("Preparing the data", "data"), ("Spot-checking algorithms", "evaluate"),
    ("Hyper-parameter tuning", "improve"), ("Results", "results"),
    ("Limitations and risks", "limitations"), ("Acknowledgements", None),
])
def test_headings_map_to_steps(heading: str, step: str | None) -> None:
    assert narrative.step_of(heading) == step


def test_readme_is_split_into_intro_steps_and_others(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text(
        "# Title\n\nIntro.\n\n## Data\n\nRows.\n\n### Detail\n\n```\n## not a heading\n```\n"
        "\n## Tuning\n\nGrid.\n\n## Data cleaning\n\nMore rows.\n\n## Thanks\n\nPeople.\n")
    story = narrative.read(tmp_path)
    assert story.intro == "Intro."
    assert story.steps["data"].startswith("Rows.\n\n### Detail")
    assert "## not a heading" in story.steps["data"]  # code blocks are left alone
    assert story.steps["data"].endswith("### Data cleaning\n\nMore rows.")
    assert story.steps["improve"] == "Grid."
    assert story.other == [("Thanks", "People.")]


def test_no_readme_is_an_empty_story(tmp_path: Path) -> None:
    story = narrative.read(tmp_path)
    assert story.intro == "" and story.other == [] and not any(story.steps.values())


def test_setext_headings_and_nested_fences_are_read_as_markdown_reads_them(
        tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text(
        "Title\n=====\n\nIntro.\n\nData\n----\n\nRows.\n\n"
        "````markdown\n```python\n## not a heading\n```\n## still code\n````\n\n"
        "> ## quoted, not a section\n\n"
        "## Results\n\nGood.\n")
    story = narrative.read(tmp_path)
    assert story.intro == "Intro."
    assert story.steps["data"].startswith("Rows.")
    assert "## not a heading\n```\n## still code\n````" in story.steps["data"]
    assert "> ## quoted, not a section" in story.steps["data"]
    assert story.steps["results"] == "Good."
    assert story.other == []


def test_a_readme_that_is_not_utf8_is_one_located_problem(tmp_path: Path) -> None:
    from portfolio.errors import MetadataError

    (tmp_path / "README.md").write_bytes("# T\n\n## Data\n\nCaf\xe9.\n".encode("latin-1"))
    with pytest.raises(MetadataError) as caught:
        narrative.read(tmp_path)
    [problem] = caught.value.problems
    assert (problem.line, problem.column) == (5, 4)
    assert problem.message.startswith("not UTF-8 text")
