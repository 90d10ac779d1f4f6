"""``portfolio serve`` follows edits: in a real browser (Debian chromium through
Playwright), the open page reloads by itself with what changed, and a changed script
marks its project stale instead of training."""

from __future__ import annotations

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
from conftest import Built
from test_browser import CHROMIUM, FLAGS

pytestmark = pytest.mark.browser
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
