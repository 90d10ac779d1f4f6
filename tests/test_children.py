"""One way to start a child: runs and the preview drawing go through ``portfolio.children``."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from portfolio import childenv, children, preview


@pytest.mark.cli
def test_a_fresh_child_writes_stdout_and_stderr_to_one_pipe_and_reports_its_end(
        tmp_path: Path) -> None:
    (tmp_path / "talk.py").write_text(
        "import sys\nprint('to stdout', flush=True)\nprint('to stderr', file=sys.stderr)\n"
        "sys.exit(3)\n")
    env = {**childenv.child_environment(), "PYTHONPATH": str(tmp_path)}
    child = children.start("talk", [], tmp_path, env, 1, worker=None)
    with child.output:
        said = children.read_to_end(child, 60).decode()
    returncode, peak_mb = child.wait(60)
    assert said.splitlines() == ["to stdout", "to stderr"]
    assert returncode == 3 and peak_mb and peak_mb > 1
    assert child.process == {"kind": "fresh interpreter"}


def test_a_child_that_never_starts_has_nothing_to_read_or_stop(tmp_path: Path) -> None:
    class Busy:  # a warm worker still importing when the caller gives up
        def start(self, *args: object) -> None:
            return None

    child = children.start("talk", [], tmp_path, {}, 1, Busy(), expired=lambda: True)
    assert child.pid == 0 and children.read_to_end(child, 1) == b""
    assert child.wait(0) is None and children.stop_group(child) is None


@pytest.mark.cli
def test_the_preview_drawing_runs_as_a_child_and_lands_under_every_target(
        tmp_path: Path) -> None:
    targets = [tmp_path / "docs", tmp_path / "site"]
    for target in targets:
        (target / "assets").mkdir(parents=True)
    spec = {"title": "A project", "headline": "98.1% accuracy", "curve": [1.0, 0.5, 0.2]}
    preview.start([(spec, "assets/preview.png")], tmp_path / "cache").finish(*targets)
    for target in targets:
        with Image.open(target / "assets" / "preview.png") as image:
            assert image.size == (preview.WIDTH, preview.HEIGHT)
    # Drawn once: the next build finds it in the cache and starts no child.
    assert preview.start([(spec, "assets/preview.png")], tmp_path / "cache").child is None


@pytest.mark.cli
def test_a_failed_drawing_says_what_the_child_said(tmp_path: Path) -> None:
    pending = preview.start([({"no": "title"}, "x.png")], tmp_path / "cache")
    with pytest.raises(RuntimeError, match="KeyError: 'title'"):
        pending.finish(tmp_path)


@pytest.mark.cli
def test_a_drawing_still_going_when_the_site_build_fails_is_stopped(tmp_path: Path) -> None:
    (tmp_path / "hang.py").write_text("import time\nprint('drawing', flush=True)\n"
                                      "time.sleep(600)\n")
    env = {**childenv.child_environment(), "PYTHONPATH": str(tmp_path)}
    pending = preview.Pending(children.start("hang", [], tmp_path, env, 1, worker=None))
    child = pending.child
    assert child.output.readline() == b"drawing\n"  # it is running
    pending.stop()
    assert pending.child is None
    returncode, _ = child.wait(60)
    assert returncode < 0  # stopped by a signal, not ended by itself


def test_a_record_the_script_wrote_over_fails_the_run_and_names_the_file(
        tmp_path: Path) -> None:
    from portfolio import run

    (tmp_path / "run.json").write_text("{not json")
    status, error = run._status_from_child(tmp_path, 0)
    assert status == "failed"
    assert "run.json:1:2" in error and "unreadable" in error
