"""Odd files in project folders and odd results/, .build/ and site/ folders: skipped or
reported with the file's name and exit 2, never a hang or a traceback."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

import pytest
from portfolio import discover, plan, views
from portfolio.model import Workspace

from tests.conftest import portfolio_cli


def odd_files(folder: Path) -> None:
    """A FIFO named like a script, a dangling symlink, a device file, and a virtual
    environment and a git-ignored folder full of imports the project never makes."""
    os.mkfifo(folder / "pipe.py")
    (folder / "gone.py").symlink_to(folder / "no-such-file.py")
    with contextlib.suppress(PermissionError):  # if refused, the FIFO stands for them all
        os.mknod(folder / "null.py", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    site = folder / ".venv" / "lib" / "python3.11" / "site-packages"
    (site / "torch").mkdir(parents=True)
    (site / "torch" / "__init__.py").write_text("import jax\n")
    (folder / "venv" / "lib").mkdir(parents=True)
    (folder / "venv" / "lib" / "t.py").write_text("import transformers\n")
    (folder / "node_modules").mkdir()
    (folder / "node_modules" / "x.py").write_text("import torch\n")
    (folder / "scratch").mkdir()
    (folder / "scratch" / "old.py").write_text("import xgboost\n")
    (folder / ".gitignore").write_text("scratch/\n")


def test_special_files_and_environments_are_neither_hashed_nor_read(tiny: Path) -> None:
    folder = tiny / "projects" / "tutorial"
    [project] = discover.discover(Workspace(tiny), ["tutorial"])
    before = plan.inputs_of(project, tiny)
    libraries = views.libraries_of(folder)
    odd_files(folder)
    assert plan.source_files(folder, tiny) == [folder / "project.yaml", folder / "train.py"]
    assert plan.inputs_of(project, tiny).digest == before.digest
    assert views.libraries_of(folder) == libraries
    assert not {"PyTorch", "JAX", "Transformers", "XGBoost"} & set(libraries)


def test_declared_data_in_an_ignored_folder_is_still_hashed(tiny: Path) -> None:
    folder = tiny / "projects" / "tutorial"
    (folder / "data").mkdir()
    (folder / "data" / "big.csv").write_text("a\n1\n")
    (folder / "data" / "other.csv").write_text("b\n")
    (folder / ".gitignore").write_text("data/\n")
    (folder / "project.yaml").write_text("title: T\ndata: [data/big.csv]\n")
    [project] = discover.discover(Workspace(tiny), ["tutorial"])
    assert sorted(plan.inputs_of(project, tiny).files) == ["data/big.csv", "train.py"]


@pytest.mark.parametrize("command", [("check",), ("build", "--no-run"), ("status",)])
def test_a_fifo_in_a_project_does_not_hang_the_build(tiny: Path, command: tuple) -> None:
    odd_files(tiny / "projects" / "tutorial")
    result = portfolio_cli(*command, cwd=tiny, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
