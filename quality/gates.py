"""The site's quality gates (``make quality``): what an employer's first look depends on,
kept by the test suite rather than fixed once.

- **Lighthouse** 12.2.3 (npm, ``quality/package-lock.json``) with Debian's chromium on the
  home page, every project page and the results page, served on 127.0.0.1: accessibility,
  best practices and SEO must be 100. Performance is printed, not gated (this machine is
  noisy); ``make bench`` records it with the mobile and desktop presets.
- **The Nu Html Checker** (``vnu.jar`` from npm, run by Debian's Java) over every HTML file:
  no error, except the patterns of Material's own markup listed in :data:`MATERIAL`, each
  with its reason.
- **Links**: every internal link, image, stylesheet and script exists, and every
  ``#anchor`` names an element of its page.
- **Weight**: no project page with the images, styles and scripts it loads weighs over
  1 MB (the model, the log and the demo's runtime are downloaded on request, not counted).

Each gate names the page and what failed. Run ``python quality/gates.py SITE``; with no
SITE, the example portfolio is rendered from its committed results into a temporary folder.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import html.parser
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
TOOLS = HERE / "node_modules"
CHROMIUM = "/usr/bin/chromium"
GATED = ("accessibility", "best-practices", "seo")
CATEGORIES = ("performance", *GATED)
PAGE_LIMIT = 1024**2  # a project page with its figures, before the model is downloaded

# vnu errors caused by Material for MkDocs' own markup, not by portfolio's pages: each
# pattern (a regular expression on the message) with why it is left to Material.
MATERIAL = {
    r"^Attribute “autocomplete” is only allowed when the input type is": (
        "Material's drawer and search toggles are checkboxes with autocomplete=\"off\" "
        "(so a browser does not restore them open on back navigation)"),
    r"^Bad value “” for attribute “tabindex” on element “label”": (
        "Material's navigation.sections writes tabindex=\"\" on section labels"),
}


@dataclass
class Report:
    failures: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # what is printed, gated or not

    def fail(self, message: str) -> None:
        self.failures.append(message)

    @property
    def ok(self) -> bool:
        return not self.failures


# -- the pages ---------------------------------------------------------------------------
def audited_pages(site: Path) -> list[str]:
    """The home page, every project page and the results page, as URL paths."""
    projects = sorted(p.parent.name for p in (site / "projects").glob("*/index.html"))
    return ["/", *(f"/projects/{slug}/" for slug in projects), "/results/"]


@contextlib.contextmanager
def served(site: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


# -- Lighthouse --------------------------------------------------------------------------
def lighthouse(url: str, preset: str = "mobile") -> dict:
    """One Lighthouse run: the report as JSON (categories and audits)."""
    binary = TOOLS / ".bin" / "lighthouse"
    if not binary.exists():
        raise SystemExit(f"{binary} is missing: run `make quality-tools` (npm ci)")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        command = [str(binary), url, "--quiet", "--output=json", f"--output-path={out}",
                   f"--only-categories={','.join(CATEGORIES)}",
                   "--chrome-flags=--headless=new --no-sandbox --disable-gpu "
                   "--disable-background-networking --disable-component-update"]
        if preset == "desktop":
            command.append("--preset=desktop")
        done = subprocess.run(command, env={**os.environ, "CHROME_PATH": CHROMIUM},
                              capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0 or not out.is_file():
            raise RuntimeError(f"lighthouse {url} failed: {done.stderr.strip()[-800:]}")
        return json.loads(out.read_text())


def scores(report: dict) -> dict[str, int]:
    return {name: round(100 * (report["categories"][name]["score"] or 0))
            for name in CATEGORIES}


def failed_audits(report: dict, category: str) -> list[str]:
    """The audits that cost a category its points: id, title and the first element."""
    found = []
    for ref in report["categories"][category]["auditRefs"]:
        audit = report["audits"][ref["id"]]
        if ref["weight"] and audit["score"] is not None and audit["score"] < 1:
            items = (audit.get("details") or {}).get("items") or []
            node = (items[0].get("node") or {}).get("snippet", "") if items else ""
            found.append(f"{ref['id']} ({audit['title']}){': ' + node[:120] if node else ''}")
    return found


def lighthouse_gate(site: Path, report: Report, pages: list[str] | None = None) -> None:
    with served(site) as base:
        report.lines.append("Lighthouse 12.2.3, mobile: performance / accessibility / "
                            "best practices / SEO, and transfer size")
        for path in pages or audited_pages(site):
            result = lighthouse(base + path)
            got = scores(result)
            size = result["audits"]["total-byte-weight"]["numericValue"] / 1024
            report.lines.append(f"  {path:<34} " + " / ".join(str(got[c]) for c in CATEGORIES)
                                + f"   {size:,.0f} KB")
            for category in GATED:
                if got[category] < 100:
                    report.fail(f"{path}: Lighthouse {category} {got[category]} < 100: "
                                + "; ".join(failed_audits(result, category)))


# -- the Nu Html Checker -----------------------------------------------------------------
def vnu_gate(site: Path, report: Report) -> None:
    jar = TOOLS / "vnu-jar" / "build" / "dist" / "vnu.jar"
    if not jar.exists():
        raise SystemExit(f"{jar} is missing: run `make quality-tools` (npm ci)")
    done = subprocess.run(["java", "-jar", str(jar), "--errors-only", "--format", "json",
                           "--skip-non-html", str(site)], capture_output=True, text=True,
                          timeout=600, check=False)
    messages = json.loads(done.stderr or "{}").get("messages", [])
    kept = [m for m in messages
            if not any(re.search(pattern, m.get("message", "")) for pattern in MATERIAL)]
    report.lines.append(f"Nu Html Checker: {len(messages)} errors in Material's markup "
                        f"filtered ({len(MATERIAL)} patterns), {len(kept)} left")
    for message in kept:
        page = _page_of(site, message.get("url", ""))
        report.fail(f"{page}:{message.get('lastLine', '?')}: HTML error: {message['message']}")


def _page_of(site: Path, url: str) -> str:
    path = unquote(urlsplit(url).path)
    with contextlib.suppress(ValueError):
        return "/" + Path(path).resolve().relative_to(site.resolve()).as_posix()
    return url


# -- links -------------------------------------------------------------------------------
class _Page(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[tuple[str, str]] = []  # (tag, URL)
        self.weighed: list[str] = []  # images, styles, scripts the page loads itself

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        for key in ("id", "name") if tag == "a" else ("id",):
            if values.get(key):
                self.ids.add(values[key])
        for key in ("href", "src"):
            if key in values and not (tag == "link" and values.get("rel") in
                                       ("canonical", "alternate")):
                self.links.append((tag, values[key]))
        if tag == "img" and values.get("src"):
            self.weighed.append(values["src"])
        if tag == "link" and values.get("rel") == "stylesheet" and values.get("href"):
            self.weighed.append(values["href"])
        if tag == "script" and values.get("src"):
            self.weighed.append(values["src"])


@functools.cache
def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    return page


@functools.cache
def _base_path(site: Path) -> str:
    """Where the site is served (site_url's path, ``/portfolio/``): the 404 page's links
    are absolute, since it is served at any depth. Read from the home page's canonical."""
    home = site / "index.html"
    text = home.read_text(encoding="utf-8", errors="replace") if home.is_file() else ""
    found = re.search(r'<link rel="canonical" href="([^"]+)"', text)
    return urlsplit(found.group(1)).path if found else "/"


def _target(site: Path, page_url: str, link: str) -> tuple[Path, str] | None:
    """The file an internal link leads to, and its fragment; None for another host."""
    parts = urlsplit(link)
    if parts.scheme or parts.netloc or link.startswith(("mailto:", "javascript:", "data:")):
        return None
    resolved = urlsplit(urljoin(page_url, link))
    base = _base_path(site)
    within = resolved.path[len(base) - 1:] if link.startswith("/") and \
        resolved.path.startswith(base) else resolved.path
    path = site / unquote(within).lstrip("/")
    if within.endswith("/") or path.is_dir():
        path = path / "index.html"
    return path, unquote(resolved.fragment)


def link_gate(site: Path, report: Report) -> int:
    checked = 0
    for file in sorted(site.rglob("*.html")):
        page_url = "/" + file.relative_to(site).as_posix()
        for tag, link in _parse(file).links:
            target = _target(site, page_url, link)
            if target is None:
                continue
            checked += 1
            path, fragment = target
            shown = "/" + file.relative_to(site).as_posix()
            if not path.is_file():
                report.fail(f"{shown}: broken link: <{tag}> {link} (no {path.relative_to(site)})")
            elif fragment and path.suffix == ".html" and fragment not in _parse(path).ids:
                report.fail(f"{shown}: broken anchor: <{tag}> {link} (no id "
                            f"'{fragment}' in {path.relative_to(site)})")
    report.lines.append(f"Links: {checked} internal links and anchors checked")
    return checked


# -- weight ------------------------------------------------------------------------------
def page_weight(site: Path, path: str) -> int:
    """The page's HTML with every image, stylesheet and script it loads (each file once)."""
    file = site / path.lstrip("/") / "index.html"
    files = {file}
    for link in _parse(file).weighed:
        target = _target(site, path, link)
        if target and target[0].is_file():
            files.add(target[0])
    return sum(f.stat().st_size for f in files)


def weight_gate(site: Path, report: Report) -> None:
    report.lines.append("Page weight (HTML, images, styles, scripts; the model, log and demo "
                        "runtime load on request)")
    for path in audited_pages(site):
        weight = page_weight(site, path)
        report.lines.append(f"  {path:<34} {weight / 1024:,.0f} KB")
        if path.startswith("/projects/") and weight > PAGE_LIMIT:
            report.fail(f"{path}: weighs {weight / 1024**2:.2f} MB with its figures, over "
                        f"{PAGE_LIMIT / 1024**2:.0f} MB")


# -- all of it ---------------------------------------------------------------------------
def check(site: Path, with_lighthouse: bool = True) -> Report:
    report = Report()
    weight_gate(site, report)
    link_gate(site, report)
    vnu_gate(site, report)
    if with_lighthouse:
        lighthouse_gate(site, report)
    return report


def example_site(folder: Path) -> Path:
    """The example portfolio, rendered from its committed results (nothing trains)."""
    root = folder / "portfolio"
    root.mkdir(parents=True)
    for name in ("projects", "results", "site_templates"):
        shutil.copytree(REPO / name, root / name)
    shutil.copyfile(REPO / "mkdocs.yml", root / "mkdocs.yml")
    subprocess.run([sys.executable, "-m", "portfolio", "build", "--no-run"], cwd=root,
                   check=True, capture_output=True, text=True)
    return root / "site"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", nargs="?", type=Path, help="a built site (default: the "
                        "example portfolio, rendered into a temporary folder)")
    parser.add_argument("--no-lighthouse", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        site = args.site or example_site(Path(tmp))
        report = check(site, with_lighthouse=not args.no_lighthouse)
        print("\n".join(report.lines))
        if report.failures:
            print(f"\nquality gates failed ({len(report.failures)}):", file=sys.stderr)
            for failure in report.failures:
                print(f"  {failure}", file=sys.stderr)
            return 1
        print("\nquality gates passed")
        return 0


if __name__ == "__main__":
    sys.exit(main())
