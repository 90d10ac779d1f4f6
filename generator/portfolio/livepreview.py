"""``portfolio serve``: a live preview that follows edits, and never trains.

The pages are rendered from ``results/`` into a folder of the preview's own and served by
the engine's development server, which rebuilds and reloads the browser whenever a page it
serves changes. A watcher looks at what the pages are made from (each ``project.yaml``,
``README.md`` and script, ``mkdocs.yml`` with the profile's files, ``site_templates/``,
``results/``) twice a second, and renders again when something changed: only the pages
whose Markdown changed are written, so only those reload. A script (or data) that changed
is not run: its page says it is stale and why, until ``portfolio build`` runs it. A file
that does not parse (a ``project.yaml`` half typed) is reported once and the preview
keeps the last pages that rendered.
"""

from __future__ import annotations

import errno
import os
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from portfolio import discover, plan, render, site
from portfolio.config import load_mkdocs_yml, profile_of
from portfolio.domain import Workspace
from portfolio.errors import InputError, PortfolioError

WATCH_EVERY_S = 0.5
# Folders under projects/ and results/ whose changes no page shows.
_QUIET = {"__pycache__", ".ipynb_checkpoints", "node_modules", ".venv", "venv"}


def render_preview(ws: Workspace, out: Path) -> render.Rendered:
    """The pages as the files are now, with a banner on each project whose results are
    behind its inputs (the reasons ``portfolio status`` gives)."""
    projects = discover.discover(ws)
    states, stale = [], {}
    for project in projects:
        # Judged by the files alone, as CI judges them: a preview without the training
        # libraries installed must not call every project stale for that.
        decision = plan.decide(ws, project, versions=False)
        states.append(decision.state)
        if decision.staleness == "stale":
            stale[project.slug] = ", ".join(decision.reasons)
    return render.render(ws, states, out=out, stale=stale)


def snapshot(ws: Workspace) -> dict[str, tuple[int, int]]:
    """(modification time, size) of every file a page is made from."""
    seen: dict[str, tuple[int, int]] = {}
    roots = [ws.projects_dir, ws.results_dir, ws.templates_dir]
    files = [ws.mkdocs_yml]
    try:
        profile = profile_of(load_mkdocs_yml(ws.mkdocs_yml), ws.mkdocs_yml)
        files += profile.local_files(ws.root)
    except PortfolioError:
        pass  # reported by the render that follows
    for path in [*files, *_walk(roots)]:
        try:
            info = path.stat()
        except OSError:
            continue
        seen[str(path)] = (info.st_mtime_ns, info.st_size)
    return seen


def _walk(roots: list[Path]) -> Iterator[Path]:
    for root in roots:
        for top, dirs, names in os.walk(root):
            # A run in progress (results/.run-*) shows once it is kept, not while it runs.
            dirs[:] = [d for d in dirs if d not in _QUIET and not d.startswith(".")]
            for name in names:
                yield Path(top) / name


class Follower(threading.Thread):
    """Renders the preview again when its files change, until stopped."""

    def __init__(self, ws: Workspace, out: Path,
                 since: dict[str, tuple[int, int]] | None = None) -> None:
        super().__init__(name="portfolio-serve-watch", daemon=True)
        self._ws, self._out = ws, out
        # Not ``_stop``: that is a method of Thread that join() calls, and an Event there
        # made every stop a TypeError.
        self._halt = threading.Event()
        self._last = snapshot(ws) if since is None else since
        self._failing: str | None = None

    def run(self) -> None:
        while not self._halt.wait(WATCH_EVERY_S):
            now = snapshot(self._ws)
            if now == self._last:
                continue
            self._last = now
            self.refresh()

    def refresh(self) -> None:
        try:
            rendered = render_preview(self._ws, self._out)
            # The engine rebuilds when a page it serves changes; a change to mkdocs.yml or
            # a theme override changes no page, so its config is touched to say so.
            os.utime(rendered.config)
        except Exception as exc:  # a half-typed file or template: keep the last pages
            message = str(exc) if isinstance(exc, PortfolioError) else \
                f"{type(exc).__name__}: {exc}"
            if message != self._failing:
                print(f"error: {message}\n(the preview keeps its last pages until this is "
                      "fixed)", file=sys.stderr, flush=True)
            self._failing = message
            return
        if self._failing is not None:
            print("the preview renders again", file=sys.stderr, flush=True)
        self._failing = None

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=30)  # a render under way ends before its folder is removed


def check_port(host: str, port: int) -> None:
    """Refuse, in one line, an address the server could not listen on, before anything is
    rendered: a port in use (another preview still running), one only root may take, a
    host that is not this machine's. The server binds as this probe does (with
    SO_REUSEADDR: a port a stopped preview left in TIME_WAIT is free)."""
    try:
        with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise _unusable(host, port, exc) from None


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _unusable(host: str, port: int, exc: OSError) -> PortfolioError | OSError:
    """What to do about an address the server cannot listen on; any other error as it is."""
    if exc.errno == errno.EADDRINUSE:
        return InputError(f"port {port} is in use on {host} (another program, or another "
                          "portfolio serve, listens there): pick another with --port")
    if exc.errno == errno.EACCES:
        return InputError(f"port {port} on {host} needs more privileges than this user has: "
                          "pick one above 1023 with --port")
    if exc.errno == errno.EADDRNOTAVAIL or isinstance(exc, socket.gaierror):
        return InputError(f"--host {host} is not an address of this machine: use 127.0.0.1 "
                          "(this machine only) or 0.0.0.0 (your network too)")
    return exc


def url_of(ws: Workspace, host: str, port: int) -> str:
    """The preview's address, as the engine serves it: under the path of ``site_url`` (the
    preview's config inherits it from the portfolio's ``mkdocs.yml``)."""
    try:
        site_url = load_mkdocs_yml(ws.mkdocs_yml).get("site_url")
    except PortfolioError:
        site_url = None
    path = urlsplit(site_url if isinstance(site_url, str) else "").path.strip("/")
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/{path + '/' if path else ''}"


def _announce(host: str, port: int, url: str, stopped: threading.Event) -> None:
    """Print the address once the server answers there (the engine builds the site before it
    listens): an address printed earlier would refuse the first click."""
    near = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # any address: this one
    while not stopped.wait(0.1):
        try:
            with socket.create_connection((near, port), timeout=1):
                pass
        except OSError:
            continue
        print(f"serving the preview on {url} (Ctrl-C to stop)", flush=True)
        return


def serve(ws: Workspace, out: Path, rendered: render.Rendered, host: str, port: int,
          since: dict[str, tuple[int, int]] | None = None) -> None:
    """Serve the pages :func:`render_preview` wrote into ``out`` on ``host:port`` until
    Ctrl-C, following edits made after ``since`` (the files as they were before that
    render: an edit made while it ran is not missed). The engine takes Ctrl-C itself and
    returns; the follower has stopped (no render under way) when this returns."""
    follower = Follower(ws, out, since)
    follower.start()
    stopped = threading.Event()
    threading.Thread(target=_announce, args=(host, port, url_of(ws, host, port), stopped),
                     name="portfolio-serve-announce", daemon=True).start()
    try:
        site.serve(rendered.config, host=host, port=port)
    except OSError as exc:  # taken since check_port looked
        raise _unusable(host, port, exc) from None
    finally:
        stopped.set()
        follower.stop()
