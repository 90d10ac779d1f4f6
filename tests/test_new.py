"""``portfolio new``: every template shipped in the package becomes a project that runs,
and one full run beats its trivial baseline on its page."""

from __future__ import annotations

import html
import json
import re
import sys
from pathlib import Path

import pytest

from tests.conftest import copy_portfolio, portfolio_cli

TEMPLATES = ["cnn", "lstm", "mlp", "regression", "spot-check"]


@pytest.fixture
def empty(tmp_path: Path) -> Path:
    """The tiny portfolio without its projects: what a user has before `portfolio new`."""
    root = copy_portfolio("tiny", tmp_path / "mine")
    for folder in (root / "projects").iterdir():
        for file in folder.iterdir():
            file.unlink()
        folder.rmdir()
    return root


def page_text(root: Path, slug: str) -> str:
    page = (root / "site" / "projects" / slug / "index.html").read_text(encoding="utf-8")
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


@pytest.mark.cli
def test_list_names_every_template_on_one_line_each(tmp_path: Path) -> None:
    result = portfolio_cli("new", "--list", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == TEMPLATES
    assert all(len(line.split()) > 3 for line in lines)  # each with its description


def test_templates_are_package_data_without_any_import_of_portfolio() -> None:
    from portfolio import new, schema

    found = new.templates()
    assert sorted(found) == TEMPLATES
    for template in found.values():
        script = template.folder.joinpath("train.py").read_text(encoding="utf-8")
        assert not re.search(r"^\s*(import|from)\s+portfolio\b", script, re.M)
        assert "plt.show()" in script or "plt.boxplot" in script
        meta, problems = schema.parse(Path("project.yaml"),
                                      template.folder.joinpath("project.yaml").read_text())
        assert not problems and meta is not None
        assert meta.task and meta.metric and meta.metric.goal and meta.summary
        assert meta.dataset and meta.dataset.name and meta.dataset.citation


@pytest.mark.cli
def test_every_template_builds_in_smoke_mode(empty: Path) -> None:
    for template in TEMPLATES:
        result = portfolio_cli("new", f"my-{template}", "--template", template, cwd=empty)
        assert result.returncode == 0, result.stderr
        assert sorted(p.name for p in (empty / "projects" / f"my-{template}").iterdir()) == \
            ["project.yaml", "train.py"]
    result = portfolio_cli("build", "--smoke", "-j", "2", cwd=empty)
    assert result.returncode == 0, result.stdout + result.stderr
    for template in TEMPLATES:
        record = json.loads((empty / "results" / ".scratch" / f"my-{template}" / "run.json")
                            .read_text())
        assert record["status"] == "ok" and record["smoke"], (template, record["error"])
        assert (empty / "site" / "projects" / f"my-{template}" / "index.html").is_file()


@pytest.mark.training
def test_a_full_run_of_the_mlp_template_shows_a_held_out_score_that_beats_its_trivial_baseline(
        empty: Path) -> None:
    assert portfolio_cli("new", "first", "--template", "mlp", cwd=empty).returncode == 0
    result = portfolio_cli("build", cwd=empty)
    assert result.returncode == 0, result.stdout + result.stderr
    record = json.loads((empty / "results" / "first" / "run.json").read_text())
    assert not record["smoke"]
    text = page_text(empty, "first")
    headline = re.search(r"([\d.]+)% accuracy on held-out data: \+([\d.]+) pts over "
                         r"Always predicts class \d", text)
    assert headline, text[:2000]
    trivial = re.search(r"Always predicts class \d \(trivial\) ([\d.]+)% \+[\d.]+ pts, better",
                        text)
    assert trivial, text
    assert float(headline.group(1)) > float(trivial.group(1))
    for section in ("Evaluate algorithms", "Improve results", "Results"):
        assert section in text


@pytest.mark.cli
def test_a_second_project_from_one_template_gets_its_own_title(empty: Path) -> None:
    from portfolio import new, schema

    template = new.templates()["mlp"]

    def title(slug: str) -> str:
        path = empty / "projects" / slug / "project.yaml"
        meta, problems = schema.parse(path, path.read_text())
        assert not problems and meta is not None
        return meta.title

    assert portfolio_cli("new", "first", cwd=empty).returncode == 0
    assert title("first") == template.title
    second = portfolio_cli("new", "second", cwd=empty)
    assert second.returncode == 0, second.stderr
    assert title("second") == f"{template.title} (second)"
    assert f"titled '{template.title} (second)'" in second.stdout
    chosen = 'Wine: a "first" look # not a comment'
    assert portfolio_cli("new", "third", "--title", chosen, cwd=empty).returncode == 0
    assert title("third") == chosen
    text = (empty / "projects" / "third" / "project.yaml").read_text()
    assert text.replace(f"title: {json.dumps(chosen)}\n", "") == \
        template.folder.joinpath("project.yaml").read_text().replace(
            f"title: {template.title}\n", "")  # only the title line differs
    blank = portfolio_cli("new", "fourth", "--title", " ", cwd=empty)
    assert blank.returncode == 2 and "--title may not be blank" in blank.stderr
    assert not (empty / "projects" / "fourth").exists()


@pytest.mark.cli
def test_an_existing_slug_is_refused_and_left_as_it_was(empty: Path) -> None:
    folder = empty / "projects" / "taken"
    folder.mkdir()
    (folder / "project.yaml").write_text("title: mine\n")
    result = portfolio_cli("new", "taken", "--template", "cnn", cwd=empty)
    assert result.returncode == 2
    assert "already exists" in result.stderr
    assert [p.name for p in folder.iterdir()] == ["project.yaml"]
    assert (folder / "project.yaml").read_text() == "title: mine\n"


@pytest.mark.cli
def test_a_slug_that_names_the_same_project_as_another_is_refused(empty: Path) -> None:
    (empty / "projects" / "digits_cnn").mkdir()
    result = portfolio_cli("new", "digits-cnn", "--template", "cnn", cwd=empty)
    assert result.returncode == 2
    assert "same project" in result.stderr
    assert not (empty / "projects" / "digits-cnn").exists()


@pytest.mark.cli
@pytest.mark.parametrize("slug", ["My-Project", "-dash", "has space", "../escape", "a/b",
                                  ".hidden", "x" * 101])
def test_an_invalid_slug_is_refused_with_the_rules(empty: Path, slug: str) -> None:
    result = portfolio_cli("new", "--template", "mlp", "--", slug, cwd=empty)
    assert result.returncode == 2
    assert "not a valid project name" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in (empty / "projects").iterdir()) == []


@pytest.mark.cli
def test_an_unknown_template_is_refused_listing_the_known_ones(empty: Path) -> None:
    result = portfolio_cli("new", "fine", "--template", "transformer", cwd=empty)
    assert result.returncode == 2
    assert "unknown template 'transformer'" in result.stderr
    assert all(name in result.stderr for name in TEMPLATES)
    assert not (empty / "projects" / "fine").exists()


@pytest.mark.cli
def test_new_outside_a_portfolio_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    result = portfolio_cli("new", "first", cwd=tmp_path)
    assert result.returncode == 2 and "not a portfolio" in result.stderr
    assert not (tmp_path / "projects").exists()


def test_every_template_imports_only_what_the_train_extra_installs() -> None:
    """A user who installed portfolio[train] can run every template."""
    import ast
    import tomllib

    from tests.conftest import REPO

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    installed = {re.match(r"[A-Za-z0-9_.-]+", r).group().lower()
                 for r in [*project["dependencies"], *project["optional-dependencies"]["train"]]}
    # The module a script imports → the distribution that brings it.
    brought_by = {"keras": "keras", "tensorflow": "tensorflow-cpu", "sklearn": "scikit-learn",
                  "numpy": "numpy", "matplotlib": "matplotlib", "statsmodels": "statsmodels",
                  "pandas": "statsmodels", "scipy": "scikit-learn"}
    templates = REPO / "generator" / "portfolio" / "project_templates"
    for script in templates.glob("*/train.py"):
        for node in ast.walk(ast.parse(script.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module] if isinstance(node, ast.ImportFrom) and node.module
                     else [])
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names:
                    continue
                assert brought_by.get(top) in installed, f"{script.parent.name}: {name}"
