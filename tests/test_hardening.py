"""Hardening: interrupted swaps and site builds, commands sharing the build lock, paths from
run.json kept inside their folder, git-ignored files kept off the site, README HTML
sanitised, matplotlibrc in warm runs, scripts that write into other projects' results."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

# A swap in a child process, where each rename (or the one exchange) is followed by a
# Ctrl-C sent to itself: the interruption lands at a known point, every time.
_INTERRUPTED_SWAP = """
import os, signal, sys
from pathlib import Path
from portfolio import swap

root = Path(sys.argv[1])
rename, exchange = Path.rename, swap._exchange

def rename_then_ctrl_c(self, target):
    moved = rename(self, target)
    os.kill(os.getpid(), signal.SIGINT)
    return moved

def exchange_then_ctrl_c(source, target):
    if sys.argv[2] == "two renames":
        return False
    done = exchange(source, target)
    os.kill(os.getpid(), signal.SIGINT)
    return done

Path.rename, swap._exchange = rename_then_ctrl_c, exchange_then_ctrl_c
try:
    swap.replace(root / ".run-new", root / "slug")
except KeyboardInterrupt:
    print("interrupted")
Path.rename = rename
swap.finish(root)  # what the next build does first
"""


@pytest.mark.parametrize("way", ["exchange", "two renames"])
def test_ctrl_c_during_the_swap_of_results_keeps_the_old_or_the_new_whole(
        tmp_path: Path, way: str) -> None:
    (tmp_path / "slug").mkdir()
    (tmp_path / "slug" / "metrics.json").write_text("old")
    (tmp_path / ".run-new").mkdir()
    (tmp_path / ".run-new" / "metrics.json").write_text("new")
    result = subprocess.run([sys.executable, "-c", _INTERRUPTED_SWAP, str(tmp_path), way],
                            capture_output=True, text=True, timeout=60, check=False,
                            env={**os.environ, "PYTHONPATH": str(REPO / "generator")})
    assert result.stdout.strip() == "interrupted", result.stderr
    assert (tmp_path / "slug" / "metrics.json").read_text() == "new"
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name != "slug")
    assert leftovers in ([], [".run-new"]), leftovers  # .run-* folders: removed by the build
