"""Stage 6: the static-site engine: MkDocs + Material (the default), or Zensical.

Rendering writes plain Markdown and a derived ``mkdocs.yml``; this module is the only
one that runs an engine. Zensical, by Material's authors, reads the same configuration
but builds nothing outside its config's folder: a small config beside the derived one
inherits from it and keeps the site and the theme overrides inside; the site built
there is then swapped into place as a MkDocs build is.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from portfolio import caches, swap, yamlpos
from portfolio.config import mkdocs_loader
from portfolio.errors import ConfigError, ResultsError, SiteBuildError, display


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


ENGINES = ("mkdocs", "zensical")


def engine_available(engine: str) -> str:
    """``engine`` if it can run here, else MkDocs, with a warning saying why."""
    import importlib.util

    if engine == "zensical" and importlib.util.find_spec("zensical") is None:
        print("warning: the zensical engine was asked for, but Zensical is not installed "
              "here (pip install 'portfolio[zensical]'): the site is built with MkDocs",
              file=sys.stderr,
              flush=True)
        return "mkdocs"
    return engine


def inputs_digest(config_file: Path, site_dir: Path, extra: list[Path],
                  engine: str = "mkdocs") -> str:
    """Everything the engine reads: the generated pages and assets, the configs, the theme
    overrides, and the engine's versions. Equal digests mean an identical site."""
    from importlib import metadata

    digest = hashlib.sha256()
    for name in ("mkdocs", "mkdocs-material", *(["zensical"] if engine == "zensical" else [])):
        digest.update(f"{name}={metadata.version(name)}\n".encode())
    folders = [config_file.parent / "docs", *(e for e in extra if e.is_dir())]
    files = [config_file, *inherited(config_file), *(e for e in extra if e.is_file()),
             *(p for f in folders for p in sorted(f.rglob("*")))]
    for path in files:
        if path.is_file():
            digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(str(site_dir.resolve()).encode())
    return digest.hexdigest()


def inherited(config_file: Path) -> list[Path]:
    """The configs ``config_file`` pulls in through ``INHERIT``, nearest first (the derived
    config inherits ``mkdocs.yml``, which may inherit a shared base): the engine reads each,
    so an edit to any of them is an edit to the site. A config that does not read is the
    last one followed: the engine's own check reports it."""
    chain: list[Path] = []
    current = config_file
    while True:
        try:
            data = yamlpos.load_file(current, mkdocs_loader()).data
        except (OSError, yamlpos.YAMLSyntaxError):
            return chain
        parent = data.get("INHERIT") if isinstance(data, dict) else None
        if not isinstance(parent, str):
            return chain
        # MkDocs reads INHERIT relative to the folder of the config that names it.
        current = Path(os.path.normpath(current.parent / parent))
        if current in chain or current == config_file:  # a loop: the engine refuses it
            return chain
        chain.append(current)


STAMP = "site-inputs.sha256"  # beside the derived config, in .build/


def build_if_changed(config_file: Path, site_dir: Path, extra: list[Path],
                     strict: bool = True,
                     then: Callable[[Path], None] = lambda folder: None,
                     engine: str = "mkdocs") -> bool:
    """Build unless the last build had the same inputs and its site is still there.
    Returns whether the engine ran. ``then`` gets the folder that becomes the site (the
    new build, before it is swapped in, or the site as it is) to add files to it.

    The engine writes into a sibling folder, which replaces ``site_dir`` in one swap once it
    is complete; the stamp, written last, names the inputs and the folder they built: Ctrl-C
    during a build leaves the old site as it was, and :func:`finished` tells a site that
    did not finish. (A partial MkDocs build would also leave the search index incomplete.)"""
    stamp = config_file.parent / STAMP
    digest = inputs_digest(config_file, site_dir, extra, engine)
    if finished(site_dir, config_file.parent) == digest:
        then(site_dir)
        return False
    building = site_dir.with_name(f".{site_dir.name}-new-{uuid.uuid4().hex[:8]}")
    try:
        if engine == "zensical":
            build_with_zensical(config_file, building)
        else:
            build(config_file, strict, site_dir=building)
        then(building)
        swap.replace(building, site_dir)
        stamp.write_text(f"{digest}\n{_identity(site_dir)}\n", encoding="utf-8")
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        raise _no_room(exc, site_dir, config_file.parent / "docs") from None
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return True


def _no_room(exc: OSError, site_dir: Path, docs: Path) -> ResultsError:
    """A full disk while the new site is built beside the old one (which stays until the
    new one is complete, so that a failed build loses nothing): how much room it needs."""
    old = _size(site_dir)
    needed = old or _size(docs)  # the new site is about the size of the old one
    where = f"{display(Path(exc.filename))}: " if exc.filename else ""
    kept = (f"; {display(site_dir)}/ ({_megabytes(old)}) is kept as it was until the new "
            "one is complete" if old else "")
    return ResultsError(f"{where}{exc.strerror}: the site is built beside the old one and "
                        f"needs about {_megabytes(needed)} free on that disk{kept}: free "
                        "some room and build again")


def _size(folder: Path) -> int:
    total = 0
    for path in folder.rglob("*") if folder.is_dir() else []:
        with contextlib.suppress(OSError):
            if path.is_file() and not path.is_symlink():
                total += path.stat().st_size
    return total


def _megabytes(size: int) -> str:
    return f"{max(size, 1) / 1024**2:.1f} MB"


def finished(site_dir: Path, build_dir: Path) -> str | None:
    """The inputs' digest of the build that finished ``site_dir``; ``None`` when the folder
    is not one a build finished (interrupted, made by hand or by another tool)."""
    try:
        digest, identity = (build_dir / STAMP).read_text(encoding="utf-8").split()
    except (OSError, ValueError):
        return None
    return digest if identity == _identity(site_dir) else None


def _identity(folder: Path) -> str:
    """Which folder this is: each build makes a new one, swapped in under the same name."""
    try:
        info = folder.stat()
    except OSError:
        return "none"
    return f"{info.st_dev}:{info.st_ino}"


def tidy(site_dir: Path) -> None:
    """Clear what a build killed outright left beside ``site_dir``: a half-built site, or the
    old site of a swap it never finished (put back if the new one is not in place)."""
    for stale in site_dir.parent.glob(f".{site_dir.name}-new-*"):
        shutil.rmtree(stale, ignore_errors=True)
    swap.finish(site_dir.parent, site_dir.name)


def check_if_changed(config_file: Path, user_config: Path, extra: list[Path],
                     stamp: Path) -> bool:
    """:func:`check`, unless the same engine already accepted the same derived config,
    ``mkdocs.yml`` and theme files (``extra``): a no-op build then skips loading MkDocs'
    configuration machinery. Returns whether the engine was asked."""
    from importlib import metadata

    digest = hashlib.sha256(config_file.read_bytes())
    for name in ("mkdocs", "mkdocs-material"):
        digest.update(f"{name}={metadata.version(name)}\n".encode())
    for path in [user_config, *inherited(config_file), *extra]:
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            if file.is_file():
                digest.update(file.as_posix().encode() + b"\0" + file.read_bytes() + b"\0")
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == digest.hexdigest():
        return False
    stamp.unlink(missing_ok=True)
    check(config_file, user_config)
    stamp.write_text(digest.hexdigest(), encoding="utf-8")
    return True


def check(config_file: Path, user_config: Path) -> None:
    """Load and validate the engine config without building: a broken ``mkdocs.yml`` is
    reported, with its line and key, before any project trains."""
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    from mkdocs import exceptions
    from mkdocs.config import load_config

    collector = _Collect()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(collector)
    try:
        load_config(config_file=str(config_file))
    except exceptions.ConfigurationError as exc:
        raise ConfigError(f"{user_config}: {exc}") from None
    except exceptions.Abort:
        raise ConfigError("\n".join(_located(user_config, m) for m in collector.messages
                                     if m.startswith("Config value")) or
                          f"{user_config}: MkDocs refused the configuration") from None
    finally:
        logger.removeHandler(collector)


def _located(user_config: Path, message: str) -> str:
    """'Config value 'theme': ...' → 'mkdocs.yml:3: theme: ...'."""
    match = re.match(r"Config value '([^']+)': (.*)", message, re.S)
    if not match:
        return f"{user_config}: {message}"
    key, detail = match[1], match[2]
    line = yamlpos.position_of(user_config, tuple(key.split(".")), mkdocs_loader()).line
    return f"{user_config}:{line}: {key}: {detail}"


def build(config_file: Path, strict: bool = True, site_dir: Path | None = None) -> None:
    """Build the site described by ``config_file`` (into ``site_dir`` if given, instead of
    the config's); warnings fail the build when strict."""
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")  # Material's end-of-life banner
    import jinja2
    from mkdocs import exceptions
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    collector = _Collect()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(collector)
    try:
        config = load_config(config_file=str(config_file), strict=strict,
                             **({"site_dir": str(site_dir)} if site_dir else {}))
        _cache_templates(config)
        mkdocs_build(config)
    except exceptions.ConfigurationError as exc:
        raise ConfigError(f"mkdocs.yml: {exc}") from None
    except exceptions.Abort as exc:
        details = "\n".join(f"  {m}" for m in collector.messages)
        raise SiteBuildError(f"the site did not build: {exc}\n{details}".rstrip()) from None
    except jinja2.TemplateError as exc:  # a theme override's mistake, not portfolio's
        raise SiteBuildError(f"the site did not build: {_template_error(exc)}") from None
    finally:
        logger.removeHandler(collector)


def build_with_zensical(config_file: Path, site_dir: Path) -> None:
    """Build with Zensical into ``site_dir``. It follows ``INHERIT`` (the derived config's,
    and the user's own) but builds only inside the folder of the config it is given: a
    ``zensical.yml`` beside the derived config inherits from it and moves the site folder
    and the theme overrides inside (the overrides copied there). Its refusal is a
    :class:`SiteBuildError` with its own words, never a traceback."""
    folder = config_file.parent
    derived = yamlpos.load_file(config_file, mkdocs_loader()).data or {}
    overrides = (derived.get("theme") or {}).get("custom_dir") \
        if isinstance(derived, dict) else None
    copied = folder / "zensical-overrides"
    shutil.rmtree(copied, ignore_errors=True)
    theme = ""
    if overrides and (folder / overrides).is_dir():
        shutil.copytree(folder / overrides, copied)
        theme = f"theme:\n  custom_dir: {copied.name}\n"
    built = folder / "zensical-site"
    shutil.rmtree(built, ignore_errors=True)
    (folder / "zensical.yml").write_text(
        f"INHERIT: {config_file.name}\nsite_dir: {built.name}\n{theme}", encoding="utf-8")
    try:
        result = subprocess.run([sys.executable, "-m", "zensical", "build", "-f",
                                 "zensical.yml"], cwd=folder, capture_output=True, text=True,
                                check=False)
    except OSError as exc:
        raise SiteBuildError(f"Zensical could not start: {exc}") from None
    if result.returncode != 0 or not (built / "index.html").is_file():
        source = folder / overrides if overrides else None
        said = _zensical_said(result.stderr or result.stdout, source)
        raise SiteBuildError("the site did not build with Zensical: "
                             + (said or f"exit code {result.returncode}"))
    built.rename(site_dir)


def _zensical_said(output: str, overrides: Path | None) -> str:
    """Zensical's refusal in its own words: when it ends in a Python traceback, the
    exception's message alone (``syntax error: unexpected `}` (in main.html:2)``), located
    in the theme overrides it names (``site_templates/overrides/main.html:2: ...``)."""
    lines = [line.rstrip() for line in output.strip().splitlines() if line.strip()]
    frames = [i for i, line in enumerate(lines) if line.lstrip().startswith('File "')]
    if frames:  # after the last frame: its source line (indented), then the exception
        rest = lines[frames[-1] + 1:]
        rest = rest[1:] if rest and rest[0].startswith((" ", "\t")) and len(rest) > 1 \
            else rest
        lines = [re.sub(r"^[\w.]*(Error|Exception|Exit)\w*: ", "", rest[0].strip()),
                 *rest[1:]] if rest else []
    said = "\n  ".join(line.strip() for line in lines[-5:])
    located = re.fullmatch(r"(.*) \(in ([^()\s]+):(\d+)\)", said, re.S)
    if located and overrides is not None and (overrides / located[2]).is_file():
        return f"{display(overrides / located[2])}:{located[3]}: {located[1]}"
    return said


def _template_error(error: Exception) -> str:
    """'site_templates/overrides/main.html:2: unexpected '}'' where Jinja knows the place."""
    name = getattr(error, "filename", None)
    line = getattr(error, "lineno", None)
    where = f"{display(Path(name))}:{line}: " if name and line else ""
    return f"{where}{type(error).__name__}: {error}"


def _cache_templates(config: Any) -> None:
    """Give the theme's Jinja environment a bytecode cache; MkDocs builds a fresh
    environment on every build and would otherwise recompile every Material template."""
    theme = config.theme
    make_env = theme.get_env

    def get_env() -> Any:
        env = make_env()
        env.bytecode_cache = caches.template_bytecode("mkdocs-theme")
        return env

    theme.get_env = get_env


def serve(config_file: Path, host: str = "127.0.0.1", port: int = 8000) -> None:
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    from mkdocs.commands.serve import serve as mkdocs_serve

    mkdocs_serve(config_file=str(config_file), open_in_browser=False, dev_addr=f"{host}:{port}")
