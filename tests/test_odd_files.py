"""Odd files in project folders and odd results/, .build/ and site/ folders: skipped or
reported with the file's name and exit 2, never a hang or a traceback."""

from __future__ import annotations

import contextlib
import json
import os
import stat
from pathlib import Path

import pytest
from portfolio import discover, plan, views
from portfolio.domain import Workspace

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


@pytest.mark.cli
@pytest.mark.parametrize("command", [("check",), ("build", "--no-run"), ("status",)])
def test_a_fifo_in_a_project_does_not_hang_the_build(tiny: Path, command: tuple) -> None:
    odd_files(tiny / "projects" / "tutorial")
    result = portfolio_cli(*command, cwd=tiny, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


class OpenSpy:
    """Counts the times ``name`` is opened for reading through ``Path.open``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
        self.name, self.count, real = name, 0, Path.open

        def spy(path: Path, *args: object, **kwargs: object) -> object:
            if path.name == self.name:
                self.count += 1
            return real(path, *args, **kwargs)

        monkeypatch.setattr(Path, "open", spy)
        monkeypatch.setattr(Path, "read_bytes", lambda path: pytest.fail(f"read_bytes({path})"))


def big_data_project(tiny: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.setenv("PORTFOLIO_CACHE_DIR", str(tiny / "cache"))
    folder = tiny / "projects" / "tutorial"
    data = folder / "big.bin"
    data.write_bytes(os.urandom(3 * 1024 * 1024))
    (folder / ".gitignore").write_text("*.bin\n")
    (folder / "project.yaml").write_text("title: T\ndata: [big.bin]\n")
    return folder, data


def digest_of(tiny: Path) -> str:
    [project] = discover.discover(Workspace(tiny), ["tutorial"])
    return plan.inputs_of(project, tiny).files["big.bin"]


def test_a_large_data_file_is_streamed_once_then_remembered(
        tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    from portfolio import caches

    _, data = big_data_project(tiny, monkeypatch)
    expected = hashlib.sha256(data.read_bytes()).hexdigest()
    monkeypatch.setattr(caches, "RACY_MARGIN_NS", -10**12)  # as if written long ago
    spy = OpenSpy(monkeypatch, "big.bin")
    assert digest_of(tiny) == expected and spy.count == 1
    assert expected in (tiny / "cache" / "digests.json").read_text()
    assert digest_of(tiny) == expected and spy.count == 1  # the second plan did not read it
    old = data.stat()
    with open(data, "r+b") as fh:  # noqa: PTH123 (not through the spy)
        fh.write(b"changed!")  # same size and, below, the same mtime: a new content
    os.utime(data, ns=(old.st_atime_ns, old.st_mtime_ns))
    assert (data.stat().st_size, data.stat().st_mtime_ns) == (old.st_size, old.st_mtime_ns)
    changed = digest_of(tiny)
    assert changed != expected and spy.count == 2


def test_a_file_changed_just_now_is_not_remembered(tiny: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    _, _ = big_data_project(tiny, monkeypatch)
    spy = OpenSpy(monkeypatch, "big.bin")
    first = digest_of(tiny)
    assert digest_of(tiny) == first and spy.count == 2  # racy: read each time


def good_results(root: Path, slug: str = "tutorial") -> dict[Path, bytes]:
    """A last good run of ``slug`` (as committed), and every file's bytes to compare with."""
    folder = root / "results" / slug
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({"status": "ok", "slug": slug}))
    (folder / "metrics.json").write_text('{"accuracy": 0.5}\n')
    return snapshot(root / "results")


def snapshot(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.cli
@pytest.mark.parametrize("command", [("check",), ("build", "--no-warm")])
@pytest.mark.parametrize("name", [".build", "site", "results"])
def test_a_file_where_a_folder_belongs_is_named(tiny: Path, name: str, command: tuple) -> None:
    if name != "results":
        kept = good_results(tiny)
    (tiny / name).write_text("not a folder\n")
    result = portfolio_cli(*command, cwd=tiny, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert f"error: {name}: is a file, but portfolio keeps" in result.stderr
    assert (tiny / name).read_text() == "not a folder\n"
    if name != "results":
        assert snapshot(tiny / "results") == kept


CONFLICT = """{
<<<<<<< HEAD
  "status": "ok",
=======
  "status": "failed",
>>>>>>> other
  "slug": "tutorial"
}
"""


@pytest.mark.cli
@pytest.mark.parametrize("command", [("check",), ("build", "--no-warm"), ("status",)])
def test_a_merge_conflict_in_results_is_named_and_kept(tiny: Path, command: tuple) -> None:
    good_results(tiny)
    run_json = tiny / "results" / "tutorial" / "run.json"
    run_json.write_text(CONFLICT)
    kept = snapshot(tiny / "results")
    result = portfolio_cli(*command, cwd=tiny, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "error: results/tutorial/run.json:2:1: an unresolved merge conflict" in result.stderr
    assert snapshot(tiny / "results") == kept
    assert not (tiny / "site").exists()


def test_a_read_only_results_folder_is_named_before_anything_runs(
        tiny: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """As a read-only file system does (root writes through a chmod; a mount it cannot)."""
    import errno
    import sys
    import tempfile

    from portfolio import cli

    kept = good_results(tiny)
    real = tempfile.mkdtemp

    def read_only(*args: object, dir: str | Path | None = None, **kwargs: object) -> str:
        if dir is not None and Path(dir).resolve().is_relative_to((tiny / "results").resolve()):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(dir))
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkdtemp", read_only)
    monkeypatch.chdir(tiny)
    monkeypatch.setattr(sys, "argv", ["portfolio", "build", "--no-warm", "tutorial"])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 2
    assert capsys.readouterr().err == (
        "error: results/: cannot write there (Read-only file system); portfolio writes each "
        "run's results in it: make it writable and build again\n")
    assert snapshot(tiny / "results") == kept
