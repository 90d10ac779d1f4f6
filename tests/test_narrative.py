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
