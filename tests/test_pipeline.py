"""The build pipeline in one module: each stage once, and a no-op build that writes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from portfolio import build as pipeline
from portfolio import discover, render, site
from portfolio.domain import Workspace

from tests.conftest import REPO, make_project, portfolio_cli


def quick_portfolio(root: Path) -> Path:
    root.mkdir(parents=True)
    shutil.copyfile(REPO / "tests" / "fixtures" / "tiny" / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(REPO / "tests" / "fixtures" / "tiny" / "profile", root / "profile")
    shutil.copytree(REPO / "site_templates", root / "site_templates")
    for slug in ("one", "two"):
        make_project(root, slug, "import portfolio\nportfolio.log_metric('accuracy', 0.5)\n")
    return root


def files(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file's identity and last write: a rewrite or a copy changes them."""
    return {p.relative_to(folder).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.cli
def test_a_no_op_build_rewrites_no_page_and_copies_nothing(tmp_path: Path) -> None:
    root = quick_portfolio(tmp_path / "p")
    assert portfolio_cli("build", "--no-warm", cwd=root).returncode == 0
    pages, built = files(root / ".build" / "docs"), files(root / "site")
    again = portfolio_cli("build", "--no-warm", cwd=root)
    assert again.returncode == 0, again.stderr
    assert "site unchanged" in again.stdout
    assert files(root / ".build" / "docs") == pages
    assert files(root / "site") == built


@pytest.mark.cli
def test_a_page_no_longer_needed_is_removed(tmp_path: Path) -> None:
    root = quick_portfolio(tmp_path / "p")
    assert portfolio_cli("build", "--no-warm", cwd=root).returncode == 0
    shutil.rmtree(root / "projects" / "two")
    assert portfolio_cli("build", "--no-warm", cwd=root).returncode == 0
    assert not (root / ".build" / "docs" / "projects" / "two").exists()
    assert (root / ".build" / "docs" / "projects" / "one" / "index.md").is_file()


@pytest.mark.cli
def test_each_stage_runs_once_and_validation_renders_no_page(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = quick_portfolio(tmp_path / "p")
    assert portfolio_cli("build", "--no-warm", cwd=root).returncode == 0
    calls: dict[str, int] = {}

    def counted(module: object, name: str) -> None:
        original = getattr(module, name)

        key = f"{module.__name__.rsplit('.', 1)[-1]}.{name}"

        def wrapper(*args: object, **kwargs: object) -> object:
            calls[key] = calls.get(key, 0) + 1
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, wrapper)

    for module, name in ((discover, "discover"), (render, "render"), (render, "check"),
                         (site, "check"), (site, "check_if_changed"), (site, "build_if_changed")):
        counted(module, name)
    monkeypatch.chdir(root)
    report = pipeline.build(Workspace(root), pipeline.Options(warm=False))
    assert report.outcomes == [] and report.site_built is False  # nothing was stale
    # The engine already accepted this very config: it is not loaded again (no site.check).
    assert calls == {"discover.discover": 1, "render.check": 1, "site.check_if_changed": 1,
                     "render.render": 1, "site.build_if_changed": 1}


@pytest.mark.cli
def test_a_changed_mkdocs_yml_is_checked_again_and_its_error_located(tmp_path: Path) -> None:
    root = quick_portfolio(tmp_path / "p")
    assert portfolio_cli("build", "--no-warm", cwd=root).returncode == 0
    config = root / "mkdocs.yml"
    config.write_text(config.read_text() + "\nuse_directory_urls: maybe\n")
    result = portfolio_cli("build", "--no-warm", cwd=root)
    assert result.returncode == 2, result.stderr
    assert "use_directory_urls" in result.stderr and "Traceback" not in result.stderr
