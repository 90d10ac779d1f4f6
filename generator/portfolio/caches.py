"""Per-user caches shared by every portfolio on the machine, like pip's or matplotlib's.

Only derived data lives here, keyed so that a stale entry can never be used: deleting
the folder costs speed, never correctness. ``PORTFOLIO_CACHE_DIR`` moves it.
"""

from __future__ import annotations

import os
from pathlib import Path

import jinja2


def user_cache_dir() -> Path:
    if override := os.environ.get("PORTFOLIO_CACHE_DIR"):
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "portfolio"


def template_bytecode(name: str) -> jinja2.BytecodeCache | None:
    """Compiled Jinja templates for the environment called ``name``.

    Compiling Material's templates is most of an MkDocs build's time here (about 0.6 s of
    0.9 s for a small site), and they only change when the theme is upgraded. Jinja checks
    each entry against its template's source checksum; the folder is per Jinja version and
    per environment because the compiled code also depends on the environment's settings.
    Returns None when the cache cannot be written (a read-only home): builds still work.
    """
    folder = user_cache_dir() / "jinja" / f"{name}-{jinja2.__version__}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    if not os.access(folder, os.W_OK):
        return None
    return jinja2.FileSystemBytecodeCache(str(folder))
