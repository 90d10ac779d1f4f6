"""What a run changed in ``results/`` outside its own run folder.

A script writes into its run folder (``PORTFOLIO_OUT``) and its project folder; one that
writes into another project's results, or deletes ``results/``, damages runs it does not
own. Nothing stops it (it runs as the user), but the build notices: a cheap snapshot of
``results/`` (each file's size and modification time) is taken when the run starts and
compared when it ends.
"""

from __future__ import annotations

import os
from pathlib import Path

from portfolio import swap
from portfolio.results import RUNNING, SCRATCH

__all__ = ["Snapshot", "changes", "describe", "take"]

Snapshot = dict[str, tuple[int, int]]  # path under results/ → (size, mtime in ns)

# Not anybody's results: runs' folders being written, swaps, smoke runs.
_SKIPPED = (RUNNING, swap.OLD, SCRATCH)


def take(results: Path) -> Snapshot:
    """Every file under ``results/`` but the folders of runs in progress."""
    files: Snapshot = {}
    try:
        tops = list(os.scandir(results))
    except OSError:  # no results/ (yet, or any more)
        return files
    for top in tops:
        if top.name.startswith(_SKIPPED):
            continue
        if not top.is_dir(follow_symlinks=False):
            _add(files, results, Path(top.path))
            continue
        for folder, dirs, names in os.walk(top.path, onerror=lambda error: None):
            dirs[:] = [d for d in dirs if not d.startswith(".old-")]
            for name in names:
                _add(files, results, Path(folder) / name)
    return files


def _add(files: Snapshot, results: Path, path: Path) -> None:
    try:
        info = path.lstat()
    except OSError:  # gone between listing and reading: a change the next snapshot shows
        return
    files[path.relative_to(results).as_posix()] = (info.st_size, info.st_mtime_ns)


def changes(before: Snapshot, after: Snapshot, skip: set[str]) -> dict[str, list[str]]:
    """Paths added, changed and deleted between the snapshots, leaving out those under the
    top-level folders in ``skip`` (results the build itself replaced meanwhile)."""
    def kept(path: str) -> bool:
        return path.split("/", 1)[0] not in skip

    return {"added": sorted(p for p in after.keys() - before.keys() if kept(p)),
            "changed": sorted(p for p in after.keys() & before.keys()
                              if after[p] != before[p] and kept(p)),
            "deleted": sorted(p for p in before.keys() - after.keys() if kept(p))}


def describe(found: dict[str, list[str]], results_exists: bool, shown: int = 5) -> str | None:
    """One sentence for the build output and the run's record; ``None`` if nothing changed."""
    if not results_exists and found["deleted"]:
        return (f"the script deleted results/ ({len(found['deleted'])} files of earlier "
                "runs); restore them from git (`git checkout -- results`) or re-run them")
    parts = []
    for kind in ("changed", "added", "deleted"):
        paths = found[kind]
        if paths:
            listed = ", ".join(f"results/{p}" for p in paths[:shown])
            more = f" and {len(paths) - shown} more" if len(paths) > shown else ""
            parts.append(f"{kind} {listed}{more}")
    if not parts:
        return None
    return ("the script wrote outside its run folder, into results/ that other runs own: "
            + "; ".join(parts) + " (restore them from git, or re-run those projects)")
