"""Per-user caches shared by every portfolio on the machine, like pip's or matplotlib's.

Only derived data lives here, keyed so that a stale entry can never be used: deleting
the folder costs speed, never correctness. ``PORTFOLIO_CACHE_DIR`` moves it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from pathlib import Path

import jinja2

CACHE_FROM = 1024 * 1024  # smaller files are hashed each time: cheaper than a lookup's risk
MAX_DIGESTS = 10_000
# A file changed again within its file system's timestamp granularity keeps the same
# (mtime, ctime) and looks unchanged (Git's "racy clean" entries): a digest is only kept
# when the file was last changed this long before it was read.
RACY_MARGIN_NS = 2_000_000_000


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


class Digests:
    """SHA-256 of files, streamed in chunks; the digests of large files are remembered by
    (device, inode, size, mtime_ns, ctime_ns), so a 2 GB data file is read once, not on
    every build, no-op build and ``status``. Writing a file changes its ctime, which no
    tool can set back, so a remembered digest is never stale."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or user_cache_dir() / "digests.json"
        self._entries: dict[str, str] | None = None
        self._changed = False

    def sha256(self, path: Path) -> str:
        """The hex SHA-256 of ``path``'s content."""
        before = path.stat()
        key = _stat_key(before)
        cached = before.st_size >= CACHE_FROM
        if cached and key in self._loaded():
            return self._loaded()[key]
        started = time.time_ns()
        with path.open("rb") as fh:
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
        after = path.stat()
        if cached and _stat_key(after) == key and \
                max(after.st_mtime_ns, after.st_ctime_ns) < started - RACY_MARGIN_NS:
            self._loaded()[key] = digest
            self._changed = True
        return digest

    def save(self) -> None:
        """Write the remembered digests (the newest :data:`MAX_DIGESTS`), atomically; a
        cache that cannot be written costs speed only."""
        if not self._changed or self._entries is None:
            return
        entries = dict(list(self._entries.items())[-MAX_DIGESTS:])
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".digests-", dir=self.path.parent)
        except OSError:
            return
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(entries, fh)
            Path(tmp).replace(self.path)
        except OSError:
            Path(tmp).unlink(missing_ok=True)
            return
        self._changed = False

    def _loaded(self) -> dict[str, str]:
        if self._entries is None:
            try:
                raw = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                raw = {}
            self._entries = {k: v for k, v in raw.items() if isinstance(v, str)} \
                if isinstance(raw, dict) else {}
        return self._entries


def _stat_key(st: os.stat_result) -> str:
    return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


class Imports:
    """The modules each Python source imports (absolute imports, as written), remembered
    by the SHA-256 of its content: hashing a script is cheaper than parsing it, and the
    home page and tags read the libraries of every project on every build."""

    MAX = 10_000

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or user_cache_dir() / "imports.json"
        self._entries: dict[str, list[str]] | None = None
        self._changed = False

    def of(self, source: bytes) -> list[str]:
        key = hashlib.sha256(source).hexdigest()
        entries = self._loaded()
        if key not in entries:
            entries[key] = _imported(source)
            self._changed = True
        return entries[key]

    def save(self) -> None:
        """Write the newest :attr:`MAX` entries, atomically; failing costs speed only."""
        if not self._changed or self._entries is None:
            return
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".imports-", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(dict(list(self._entries.items())[-self.MAX:]), fh)
                Path(tmp).replace(self.path)
            finally:
                Path(tmp).unlink(missing_ok=True)
            self._changed = False

    def _loaded(self) -> dict[str, list[str]]:
        if self._entries is None:
            try:
                raw = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                raw = {}
            self._entries = {k: [str(n) for n in v] for k, v in raw.items()
                             if isinstance(v, list)} if isinstance(raw, dict) else {}
        return self._entries


def _imported(source: bytes) -> list[str]:
    """``import a.b`` and ``from c import d`` in ``source``: ``["a.b", "c"]``; none when
    it is not Python this interpreter can parse."""
    import ast

    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):  # ValueError: a NUL byte
        return []
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
    return list(dict.fromkeys(names))
