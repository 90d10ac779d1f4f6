"""``portfolio serve`` follows edits: in a real browser (Debian chromium through
Playwright), the open page reloads by itself with what changed, and a changed script
marks its project stale instead of training. It says where it serves, stops cleanly on
Ctrl-C and names a busy port in one line."""

from __future__ import annotations

import errno
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Built, portfolio_cli
from test_browser import CHROMIUM, FLAGS

WAIT_MS = 60_000  # for a change to reach the open page; never reached when all is well


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening_addresses(port: int) -> set[str]:
    """The local addresses a TCP socket listens on at ``port`` (from /proc/net/tcp*)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


@pytest.fixture
def preview(built_tiny: Built, tmp_path: Path) -> Iterator[tuple[Path, str, subprocess.Popen]]:
    root = tmp_path / "tiny"
    shutil.copytree(built_tiny.root, root, ignore=shutil.ignore_patterns(".build", "site"))
    port = free_port()
    log = (tmp_path / "serve.log").open("w")  # a file: a full pipe would block the server
    server = subprocess.Popen([sys.executable, "-m", "portfolio", "serve", "--port", str(port)],
                              cwd=root, stdout=log, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/tiny"  # site_url's path, as MkDocs serves it
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}/projects/tutorial/", timeout=5):
                break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail("portfolio serve did not start: "
                            f"{(tmp_path / 'serve.log').read_text()}")
            time.sleep(0.2)
    try:
        yield root, url, server
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.mark.browser
def test_the_open_page_follows_edits_and_never_trains(
        preview: tuple[Path, str, subprocess.Popen]) -> None:
    root, url, server = preview
    port = int(url.split(":")[2].split("/")[0])
    assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1, nothing else
    folder = root / "projects" / "tutorial"
    record = (root / "results" / "tutorial" / "run.json").read_bytes()
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = browser.new_page()
        page.goto(f"{url}/projects/tutorial/")
        marker = page.evaluate("() => { window.pfMarker = 1; return window.pfMarker; }")
        assert marker == 1

        meta = folder / "project.yaml"
        meta.write_text(meta.read_text().replace(
            "title: Tutorial-style Keras script", "title: Retitled while serving"))
        expect(page.locator("h1")).to_contain_text("Retitled while serving", timeout=WAIT_MS)
        # The browser reloaded the page itself: the marker set before is gone.
        assert page.evaluate("() => window.pfMarker") is None

        (folder / "README.md").write_text("## Data\n\nA sentence written while serving.\n")
        expect(page.locator("article")).to_contain_text("A sentence written while serving.",
                                                        timeout=WAIT_MS)

        with (folder / "train.py").open("a") as fh:
            fh.write("\n# edited while serving\n")
        expect(page.locator(".pf-stale")).to_contain_text(
            "Stale: train.py changed; run portfolio build", timeout=WAIT_MS)

        # mkdocs.yml changes no page's Markdown: the engine is told all the same.
        yml = root / "mkdocs.yml"
        name = re.search(r"^site_name: (.*)$", yml.read_text(), re.M)[1]
        yml.write_text(yml.read_text().replace(f"site_name: {name}", "site_name: Renamed"))
        expect(page).to_have_title(re.compile("Renamed"), timeout=WAIT_MS)

        # A project.yaml half typed: reported, and the preview keeps its pages; fixed, it
        # renders again.
        good = meta.read_text()
        meta.write_text(good + "seed: [\n")
        log = root.parent / "serve.log"
        deadline = time.monotonic() + WAIT_MS / 1000
        while "project.yaml" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "(the preview keeps its last pages until this is fixed)" in log.read_text()
        expect(page.locator("h1")).to_contain_text("Retitled while serving")
        meta.write_text(good.replace("Retitled while serving", "Fixed again"))
        expect(page.locator("h1")).to_contain_text("Fixed again", timeout=WAIT_MS)
        browser.close()

    assert (root / "results" / "tutorial" / "run.json").read_bytes() == record  # no training
    assert server.poll() is None


def _start(root: Path, port: int, out: Path) -> tuple[subprocess.Popen, str]:
    """``portfolio serve`` started as a user would; returns it and its first line, read
    from its output (files: a full pipe would block the server)."""
    with (out / "stdout").open("w") as stdout, (out / "stderr").open("w") as stderr:
        server = subprocess.Popen([sys.executable, "-m", "portfolio", "serve", "--port",
                                   str(port)], cwd=root, stdout=stdout, stderr=stderr)
    deadline = time.monotonic() + 120
    while not (out / "stdout").read_text().endswith("\n"):
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail(f"no start line: {(out / 'stderr').read_text()}")
        time.sleep(0.1)
    return server, (out / "stdout").read_text()


@pytest.mark.cli
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_serve_says_where_stops_cleanly_and_names_a_busy_port(
        tiny: Path, tmp_path: Path, stop: signal.Signals) -> None:
    port = free_port()
    server, said = _start(tiny, port, tmp_path)
    try:
        url = f"http://127.0.0.1:{port}/tiny/"  # under site_url's path, as MkDocs serves it
        assert said == f"serving the preview on {url} (Ctrl-C to stop)\n"
        with urllib.request.urlopen(url, timeout=10) as page:  # printed once it answers
            assert page.status == 200
        assert len(list((tiny / ".build").glob("serve-*"))) == 1

        busy = portfolio_cli("serve", "--port", str(port), cwd=tiny, timeout=120)
        assert busy.returncode == 2, busy.stderr
        assert busy.stdout == ""
        assert busy.stderr == (f"error: port {port} is in use on 127.0.0.1 (another program, "
                               "or another portfolio serve, listens there): pick another with "
                               "--port\n")
    finally:
        server.send_signal(stop)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
    errors = (tmp_path / "stderr").read_text()
    assert server.returncode == 0, errors
    assert "Traceback" not in errors and "Error" not in errors, errors
    assert (tmp_path / "stdout").read_text() == said  # nothing more: no "interrupted"
    assert not list((tiny / ".build").glob("serve-*"))  # its folder went with it


def test_a_port_taken_while_the_preview_rendered_is_named_too(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The port was free when ``serve`` looked, then taken before the engine listened:
    the engine's OSError becomes the same one line."""
    from portfolio import livepreview, render, site
    from portfolio.domain import Workspace
    from portfolio.errors import InputError

    def taken(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EADDRINUSE, "Address already in use")

    monkeypatch.setattr(site, "serve", taken)
    rendered = render.Rendered(tmp_path / "mkdocs.yml", tmp_path / "docs", [])
    with pytest.raises(InputError, match=r"^port 8123 is in use on 127\.0\.0\.1 .* --port$"):
        livepreview.serve(Workspace(tmp_path), tmp_path, rendered, "127.0.0.1", 8123)
