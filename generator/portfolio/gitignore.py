"""Which repository files git ignores: they hold secrets and local data, never the site's.

Git is asked (``git check-ignore``), so every rule it applies counts: ``.gitignore`` files
in every folder, ``.git/info/exclude`` and the user's ``core.excludesFile``. Outside a
repository, or without git, the ``.gitignore`` files of the root and of each folder on the
way to the file are read instead.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

__all__ = ["ignored"]


def ignored(root: Path, paths: list[str]) -> set[str]:
    """The ones of ``paths`` (POSIX, relative to ``root``) that git ignores."""
    if not paths:
        return set()
    answer = _ask_git(root, paths)
    if answer is not None:
        return answer
    return {path for path in paths if _matched_by_files(root, path)}


def _ask_git(root: Path, paths: list[str]) -> set[str] | None:
    """git's own answer; ``None`` outside a work tree or when git cannot answer."""
    if shutil.which("git") is None:
        return None
    try:
        result = subprocess.run(["git", "check-ignore", "--stdin", "-z"], cwd=root,
                                input="".join(f"{p}\0" for p in paths), capture_output=True,
                                text=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode not in (0, 1):  # 128: not a repository
        return None
    return {p for p in result.stdout.split("\0") if p}


def _matched_by_files(root: Path, path: str) -> bool:
    """Each folder's ``.gitignore`` judges the path relative to that folder; a deeper file
    has the last word (its ``!pattern`` re-includes)."""
    import pathspec

    parts = path.split("/")
    verdict = False
    for depth in range(len(parts)):
        ignore = root.joinpath(*parts[:depth], ".gitignore")
        if not ignore.is_file():
            continue
        spec = pathspec.GitIgnoreSpec.from_lines(
            ignore.read_text(encoding="utf-8", errors="replace").splitlines())
        result = spec.check_file("/".join(parts[depth:]))
        if result.include is not None:
            verdict = result.include
    return verdict
