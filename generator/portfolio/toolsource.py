"""Where the running portfolio came from, so that a portfolio's CI installs the same tool.

Three answers, from PEP 610's ``direct_url.json`` (which pip and uv write beside an install
that did not come from a package index): the package index, with this version; a git
URL and commit a runner can fetch (https); or neither, since only this machine holds the
source (a wheel file, a folder, an editable checkout, a git repository on this disk).
Then ``portfolio init`` puts a wheel of the running tool into the portfolio
(:data:`TOOL_DIR`) and the workflow installs that: :func:`write_wheel` repacks the
installed files, or builds an editable install's source folder.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from urllib.request import url2pathname

from portfolio.errors import InputError, display

NAME = "portfolio"
TOOL_DIR = ".portfolio"  # in a portfolio: the wheel of the tool its workflow installs
# What an installer adds to a distribution's metadata folder: not part of the wheel.
INSTALLER_FILES = {"INSTALLER", "REQUESTED", "RECORD", "direct_url.json"}
# A wheel's entries carry this date, so the same installed files give the same bytes
# (a portfolio's history gains no copy of an unchanged tool).
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Installed:
    """The running portfolio as its installer recorded it."""

    version: str
    direct_url: dict | None  # None: installed from a package index
    dist: metadata.Distribution | None  # None: imported from sources never installed

    @property
    def editable(self) -> bool:
        info = (self.direct_url or {}).get("dir_info")
        return isinstance(info, dict) and bool(info.get("editable"))


def installed() -> Installed:
    """How this portfolio was installed (``direct_url.json``), or that it was not."""
    try:
        dist = metadata.distribution(NAME)
    except metadata.PackageNotFoundError:  # PYTHONPATH pointing at a checkout
        return Installed(version="", direct_url=None, dist=None)
    raw = dist.read_text("direct_url.json")
    return Installed(dist.version, json.loads(raw) if raw else None, dist)


def install_spec(direct_url: dict | None, version: str) -> str | None:
    """What pip installs, on any machine, to get this same tool: ``portfolio==VERSION``
    from the package index (no ``direct_url.json``); ``portfolio @ git+URL@COMMIT`` from
    a git URL a runner can fetch (https, no credential; GitHub's ssh becomes https); None
    when only this machine has it (a wheel file, a folder, a repository on this disk)."""
    if direct_url is None:
        return f"{NAME}=={version}" if version else None
    vcs = direct_url.get("vcs_info")
    if not (isinstance(vcs, dict) and vcs.get("vcs") == "git" and vcs.get("commit_id")):
        return None
    url = _fetchable(str(direct_url.get("url", "")))
    return f"{NAME} @ git+{url}@{vcs['commit_id']}" if url else None


def _fetchable(url: str) -> str | None:
    """``url`` as a CI runner can clone it: https without credentials, or None."""
    for ssh in ("ssh://git@github.com/", "git@github.com:"):  # a runner has no SSH key
        if url.startswith(ssh):
            url = "https://github.com/" + url.removeprefix(ssh)
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        return None
    netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))  # never a token in a committed file


def write_wheel(into: Path, tool: Installed | None = None) -> Path:
    """A wheel of the running portfolio, written into the folder ``into``: the installed
    files repacked (an install from a wheel, a folder or git), or an editable install's
    source folder built. Returns its path."""
    tool = tool or installed()
    if tool.dist is not None and not tool.editable:
        return _repack(tool.dist, into)
    return _build(_source_folder(tool), into)


def _repack(dist: metadata.Distribution, into: Path) -> Path:
    """The files ``dist``'s RECORD lists, as the wheel they were installed from held them:
    without compiled bytecode, the console script (the installer writes it from
    entry_points.txt) and what the installer added."""
    files = dist.files or []
    info = next((f.parts[0] for f in files if f.parts[0].endswith(".dist-info")), "")
    entries: dict[str, bytes] = {}
    for file in files:
        name = file.as_posix()
        parts = name.split("/")
        if ".." in parts or "__pycache__" in parts or name.endswith(".pyc"):
            continue
        if parts[:-1] == [info] and (parts[1] in INSTALLER_FILES
                                     or parts[1].startswith("uv_")):
            continue  # the installer's bookkeeping (uv adds uv_cache.json, uv_build.json)
        entries[name] = Path(str(dist.locate_file(file))).read_bytes()
    if f"{info}/METADATA" not in entries or f"{info}/WHEEL" not in entries:
        raise InputError(f"{display(Path(str(dist.locate_file(info))))}: the installed "
                         "portfolio's record lists no METADATA or WHEEL; reinstall portfolio, "
                         "then run this command again")
    tag = next((line.split(":", 1)[1].strip()
                for line in entries[f"{info}/WHEEL"].decode().splitlines()
                if line.startswith("Tag:")), "py3-none-any")
    path = into / f"{_wheel_name(dist.metadata['Name'])}-{dist.version}-{tag}.whl"
    _write_zip(path, entries, info)
    return path


def _wheel_name(name: str) -> str:
    """A distribution name as a wheel's file name spells it (PEP 427)."""
    return "_".join(name.replace(".", "-").replace("_", "-").split("-")).lower()


def _write_zip(path: Path, entries: dict[str, bytes], info: str) -> None:
    """The wheel: files in name order, metadata last, then the RECORD of their hashes."""
    names = sorted(entries, key=lambda n: (n.startswith(f"{info}/"), n))
    record = [f"{n},sha256={_digest(entries[n])},{len(entries[n])}" for n in names]
    entries[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in [*names, f"{info}/RECORD"]:
            entry = zipfile.ZipInfo(name, ZIP_DATE)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, entries[name])


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _source_folder(tool: Installed) -> Path:
    """The checkout an editable install (or a PYTHONPATH) runs portfolio from."""
    url = str((tool.direct_url or {}).get("url", ""))
    if url.startswith("file://"):
        folder = Path(url2pathname(urlsplit(url).path))
    else:  # never installed: generator/portfolio/__init__.py is two folders down
        import portfolio

        folder = Path(portfolio.__file__).resolve().parents[2]
    if not (folder / "pyproject.toml").is_file():
        raise InputError(f"{display(folder)}: this portfolio runs from there, but it holds no "
                         "pyproject.toml to build a wheel of it for the workflow; install "
                         "portfolio with pip (not -e), then run this command again")
    return folder


def _build(folder: Path, into: Path) -> Path:
    """A wheel built into ``into`` (a folder with no other wheel) from the source
    ``folder`` with the build backend its pyproject.toml names, imported by this Python
    (nothing downloaded), in a copy of the folder: a build leaves build/ and *.egg-info
    where it runs, never in the user's checkout."""
    import tomllib

    system = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))
    backend = system.get("build-system", {}).get("build-backend",
                                                 "setuptools.build_meta:__legacy__")
    code = ("import importlib, sys; module, _, attr = sys.argv[1].partition(':'); "
            "backend = importlib.import_module(module); "
            "(getattr(backend, attr) if attr else backend).build_wheel(sys.argv[2])")
    with tempfile.TemporaryDirectory(prefix="portfolio-src-") as scratch:
        copy = Path(scratch) / "src"
        _copy_sources(folder, copy)
        done = subprocess.run([sys.executable, "-c", code, backend, str(into)], cwd=copy,
                              capture_output=True, text=True, timeout=600, check=False)
    built = sorted(into.glob("*.whl"))
    if done.returncode != 0 or len(built) != 1:
        why = (done.stderr.strip().splitlines() or ["no wheel"])[-1]
        raise InputError(f"{display(folder)}: cannot build a wheel of portfolio for the "
                         f"workflow ({backend}: {why}); install portfolio with pip (not -e), "
                         "then run this command again")
    return built[0]


def _copy_sources(folder: Path, copy: Path) -> None:
    """What a build of ``folder`` may read: in a git checkout the files git tracks or does
    not ignore (no virtualenv, no node_modules), else the folder without them."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                                 "--exclude-standard"], cwd=folder, capture_output=True,
                                check=False)
    except FileNotFoundError:  # no git installed
        listed = subprocess.CompletedProcess([], 1, b"", b"")
    if listed.returncode != 0:
        junk = shutil.ignore_patterns(".git", ".venv", "venv", "node_modules", "__pycache__",
                                      "build", "dist", "*.egg-info", "site", ".build")
        shutil.copytree(folder, copy, ignore=junk, symlinks=True)
        return
    for name in filter(None, listed.stdout.decode().split("\0")):
        source, target = folder / name, copy / name
        if source.is_file():  # deleted since the last commit: not in the build
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
