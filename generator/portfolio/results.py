"""The layout of ``results/<slug>/``: the one place that names what a run leaves and
where a run is kept.

A run writes into a temporary folder of its own in ``results/``; when it ends, the
whole folder takes the place of the project's good run (``results/<slug>/``) when it
succeeded, of its ``failed/`` folder when it did not, or of its folder in the scratch
area for a smoke run, in one atomic step (:mod:`portfolio.swap`), so a reader or a
Ctrl-C finds the old run or the new, never half of either.
"""

from __future__ import annotations

import functools
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from portfolio import swap

if TYPE_CHECKING:  # domain's loaders use this module
    from portfolio.domain import Workspace

RUN_RECORD = "run.json"  # what the run did: record.RunRecord
METRICS = "metrics.json"  # the project's held-out results, name → value
LOG = "log.txt"  # everything the script wrote, as it wrote it
CLEAN_LOG = "log-clean.txt"  # the log as a terminal showed it (progress bars redrawn)
HISTORY = "history.csv"  # the final model's epochs, as Keras' CSVLogger writes them
PROGRESS = "progress.jsonl"  # events streamed to the parent while the run goes
FIGURES = "figures"  # every figure the script drew
SCRIPT_COPY = "script"  # the script as it was when the run started
CAPTURE_ERRORS = "capture-errors.txt"  # tracebacks of capture's own failures; never published
CORRUPT_RECORD = "run.corrupt.json"  # a run.json the script overwrote, kept as evidence
SAVED_MODEL = "model.keras"  # the trained model, when the script trained a Keras one
DEMO = "demo"  # the live demo: the model as ONNX, held-out examples, their thumbnails
DEMO_MODEL = "model.onnx"  # in demo/
DEMO_EXAMPLES = "examples.json"  # in demo/
# The child's word to the parent that the demo's export is under way: "START [END]" in
# seconds of CLOCK_MONOTONIC (one clock for every process of the machine). The export has
# its own budget; the parent leaves its time out of the script's timeout, then removes it.
DEMO_CLOCK = ".demo-clock"
# GitHub refuses a push holding a file over 100 MiB: results/ is committed, so no run
# writes one there (it says so instead).
MAX_FILE_BYTES = 100 * 1024 * 1024
FAILED = "failed"  # inside results/<slug>/: the latest run, when it failed
SCRATCH = ".scratch"  # inside results/: smoke runs, never published
RUNNING = ".run-"  # inside results/: a run's own folder while it goes


def slugify(text: str, fallback: str) -> str:
    """``text`` as a name safe in a file name and a URL: a figure's, a dataset's."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]
    return slug or fallback


@dataclass(frozen=True)
class RunFolder:
    """One run's folder: the good run, a failure, a smoke run or one still going."""

    path: Path

    @property
    def run_record(self) -> Path:
        return self.path / RUN_RECORD

    @property
    def metrics(self) -> Path:
        return self.path / METRICS

    @property
    def log(self) -> Path:
        return self.path / LOG

    @property
    def history(self) -> Path:
        return self.path / HISTORY

    def script_copy(self, script: str) -> Path:
        return self.path / SCRIPT_COPY / script

    def inside(self, relative: object) -> Path | None:
        """``path/relative`` when it is a file inside this folder, else ``None``. Paths
        come from ``run.json``, which may be hand-edited or crafted: an absolute path,
        ``..`` or a symlink that leads out of the folder (to a git-ignored secret, say) is
        never read, so never copied into the site."""
        if not isinstance(relative, str) or not relative or "\0" in relative:
            return None
        parts = PurePosixPath(relative).parts
        if parts[0] == "/" or ".." in parts:
            return None
        path = self.path.joinpath(*parts)
        try:
            # No symlink on the way: it is inside (a path of plain names cannot leave).
            # Else the symlinks decide, as the file system follows them.
            plain = not any(self.path.joinpath(*parts[:n]).is_symlink()
                            for n in range(1, len(parts) + 1))
            inside = plain or path.resolve().is_relative_to(self._resolved)
        except (OSError, RuntimeError, ValueError):  # a symlink loop
            return None
        return path if inside and path.is_file() else None

    @functools.cached_property
    def _resolved(self) -> Path:
        return self.path.resolve()


def good(workspace: Workspace, slug: str) -> RunFolder:
    """The project's last good run: what its page shows."""
    return RunFolder(workspace.results_dir / slug)


def failed(workspace: Workspace, slug: str) -> RunFolder:
    """The project's latest run when it failed; gone once a run succeeds again."""
    return RunFolder(workspace.results_dir / slug / FAILED)


def scratch(workspace: Workspace, slug: str) -> RunFolder:
    return RunFolder(workspace.results_dir / SCRATCH / slug)


def scratch_dir(workspace: Workspace) -> Path:
    return workspace.results_dir / SCRATCH


def new_run_folder(workspace: Workspace, slug: str) -> RunFolder:
    """A new, empty folder for a run of ``slug`` to write into, in ``results/`` (so the
    move into place is a rename on one file system)."""
    return RunFolder(Path(tempfile.mkdtemp(prefix=f"{RUNNING}{slug}-",
                                           dir=workspace.results_dir)))


def in_progress(workspace: Workspace, name: str) -> RunFolder:
    """A run's own temporary folder in ``results/`` (``name``: the job's, unique)."""
    return RunFolder(workspace.results_dir / name)


def keep(workspace: Workspace, run: RunFolder, slug: str, *, ok: bool, smoke: bool
         ) -> RunFolder:
    """Move a finished run into its place, atomically; return where it went. A failed
    run leaves the good one alone."""
    if smoke:
        target = scratch(workspace, slug)
    elif ok:
        target = good(workspace, slug)
    else:
        target = failed(workspace, slug)
    target.path.parent.mkdir(parents=True, exist_ok=True)
    swap.replace(run.path, target.path)  # a Ctrl-C keeps the old results or the new, whole
    return target


def tidy(workspace: Workspace) -> None:
    """Clear what a build killed outright (SIGKILL, a power cut) left in ``results/``:
    its runs' temporary ``.run-*`` folders, and the ``.old-*`` folders of a swap it never
    finished (put back when their results had not been replaced yet). Call it holding the
    build lock: another build's folders are not stale."""
    results = workspace.results_dir
    if not results.is_dir():
        return
    for stale in results.glob(f"{RUNNING}*"):
        shutil.rmtree(stale, ignore_errors=True)
    swap.finish(results)  # first: it may put a project's folder back
    for folder in results.iterdir():
        if folder.is_dir() and not folder.is_symlink():
            swap.finish(folder)  # a project's failed/, or the scratch folder
