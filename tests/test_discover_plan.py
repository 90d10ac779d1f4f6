"""Discovery of project folders, and the input hash that decides what re-runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from portfolio import discover, plan
from portfolio.domain import Workspace
from portfolio.errors import MetadataError, ProjectNotFound


def test_discovers_project_folders_sorted_and_skips_the_rest(tiny: Path) -> None:
    (tiny / "projects" / "notes").mkdir()  # no project.yaml: not a project
    (tiny / "projects" / ".hidden").mkdir()
    (tiny / "projects" / ".hidden" / "project.yaml").write_text("title: Hidden\n")
    projects = discover.discover(Workspace(tiny))
    expected = sorted(p.parent.name for p in (tiny / "projects").glob("[!.]*/project.yaml"))
    assert [p.slug for p in projects] == expected
    assert {p.meta.title for p in projects} >= {"Tutorial-style Keras script"}


def test_selecting_slugs_and_an_unknown_slug(tiny: Path) -> None:
    ws = Workspace(tiny)
    assert [p.slug for p in discover.discover(ws, ["tutorial"])] == ["tutorial"]
    with pytest.raises(ProjectNotFound, match="no project named nope"):
        discover.discover(ws, ["nope"])


@pytest.mark.parametrize("script", ["../failing/train.py", "/etc/passwd", "missing.py"])
def test_script_must_exist_inside_the_project_folder(tiny: Path, script: str) -> None:
    meta = tiny / "projects" / "tutorial" / "project.yaml"
    meta.write_text(f"title: T\nscript: {script}\n")
    with pytest.raises(MetadataError) as caught:
        discover.discover(Workspace(tiny))
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.key) == (meta, 2, "script")


def test_invalid_folder_name_is_reported(tiny: Path) -> None:
    (tiny / "projects" / "tutorial").rename(tiny / "projects" / "Bad Name")
    with pytest.raises(MetadataError, match="not a valid slug"):
        discover.discover(Workspace(tiny))


def _hash(tiny: Path, slug: str = "tutorial") -> str:
    [project] = discover.discover(Workspace(tiny), [slug])
    return plan.inputs_of(project, tiny).digest


def test_hash_changes_with_the_script_and_training_fields_only(tiny: Path) -> None:
    folder = tiny / "projects" / "tutorial"
    first = _hash(tiny)
    assert _hash(tiny) == first  # content, not time: the same inputs hash the same

    (folder / "project.yaml").write_text("title: A new title\nsummary: x\ntags: [a]\n")
    assert _hash(tiny) == first  # presentation-only fields do not re-run training

    (folder / "project.yaml").write_text("title: T\nseed: 7\n")
    seeded = _hash(tiny)
    assert seeded != first

    (folder / "train.py").write_text((folder / "train.py").read_text() + "\n# edited\n")
    assert _hash(tiny) not in (first, seeded)


def test_hash_covers_data_files_but_not_hidden_or_cache_files(tiny: Path) -> None:
    folder = tiny / "projects" / "tutorial"
    first = _hash(tiny)
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "x.pyc").write_bytes(b"\0")
    (folder / ".DS_Store").write_bytes(b"\0")
    assert _hash(tiny) == first
    (folder / "data.csv").write_text("a,b\n1,2\n")
    assert _hash(tiny) != first


def test_reasons_name_what_changed() -> None:
    before = {"files": {"train.py": "1", "old.csv": "2"}, "meta": {"seed": 1},
              "versions": {"keras": "3.5.0"}, "format": 1}
    now = {"files": {"train.py": "9", "new.csv": "3"}, "meta": {"seed": 2},
           "versions": {"keras": "3.6.0"}, "format": 1}
    assert plan.why_changed(before, now) == [
        "new.csv added", "old.csv removed", "train.py changed",
        "project.yaml seed changed", "keras 3.5.0 → 3.6.0"]
