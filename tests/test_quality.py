"""The site's quality gates (quality/gates.py, run by `make quality`, which `make test`
runs): every gate can fail, and names the page. A broken copy of the example site holds
an image without alt text, a broken link and anchor, an invalid element and an oversized
figure; the example site itself passes the gates that need no Lighthouse (`make quality`
runs Lighthouse on every page)."""

from __future__ import annotations

import importlib.util
import shutil
import struct
import sys
import zlib
from pathlib import Path

import pytest

from tests.conftest import REPO


def _gates():
    spec = importlib.util.spec_from_file_location("quality_gates",
                                                  REPO / "quality" / "gates.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["quality_gates"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


gates = _gates()


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return gates.example_site(tmp_path_factory.mktemp("quality"))


@pytest.mark.browser
def test_the_example_site_passes_the_html_link_and_weight_gates(example: Path) -> None:
    report = gates.check(example, with_lighthouse=False)
    assert report.ok, report.failures
    text = "\n".join(report.lines)
    assert "/projects/digits-cnn/" in text and "/results/" in text  # every page weighed
    checked = gates.link_gate(example, gates.Report())
    assert checked > 100


def _noisy_png(size: int) -> bytes:
    """A valid PNG that does not compress: ``size`` bytes of noise as pixels."""
    import os

    width = 1024
    rows = max(1, size // (width * 3))
    raw = b"".join(b"\0" + os.urandom(width * 3) for _ in range(rows))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, rows, 8, 2,
                                                               0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 0)) + chunk(b"IEND", b""))


@pytest.fixture
def broken(example: Path, tmp_path: Path) -> Path:
    site = tmp_path / "site"
    shutil.copytree(example, site)
    home = site / "index.html"
    page = home.read_text()
    page = page.replace('alt="Misclassified test digits &#40;7 of 360&#41;" ', "", 1)
    assert 'src="projects/digits-cnn/card.png" width' in page  # the card's alt is gone
    home.write_text(page)
    results = site / "results" / "index.html"
    results.write_text(results.read_text().replace(
        "</article>", '<p><a href="../projects/nowhere/">gone</a> '
                      '<a href="../projects/digits-cnn/#no-such-section">lost</a></p>'
                      "<span><div>a block inside a span</div></span></article>", 1))
    figure = site / "projects" / "sunspots-lstm" / "figures" / "learning-curve.png"
    figure.write_bytes(_noisy_png(1_200_000))
    return site


@pytest.mark.browser
def test_each_gate_fails_on_a_broken_copy_and_names_the_page(broken: Path) -> None:
    report = gates.check(broken, with_lighthouse=False)
    failures = "\n".join(report.failures)
    assert not report.ok
    # vnu: the card image without alt, and a div inside a span, each on its page.
    assert any(f.startswith("/index.html:") and "alt" in f for f in report.failures), failures
    assert any(f.startswith("/results/index.html:") and "HTML error" in f and "div" in f
               for f in report.failures), failures
    # links: a page that does not exist, an anchor that does not.
    assert "/results/index.html: broken link: <a> ../projects/nowhere/" in failures
    assert "/results/index.html: broken anchor: <a> ../projects/digits-cnn/#no-such-section" \
        in failures
    # weight: the figure over the limit makes its page too heavy.
    assert any(f.startswith("/projects/sunspots-lstm/: weighs") for f in report.failures)
    assert not any(f.startswith("/projects/breast-cancer-mlp/") for f in report.failures)


@pytest.mark.browser
def test_lighthouse_fails_a_page_whose_image_has_no_alt_text(broken: Path) -> None:
    report = gates.Report()
    gates.lighthouse_gate(broken, report, pages=["/"])
    assert any(f.startswith("/: Lighthouse accessibility")
               and "image-alt" in f for f in report.failures), report.failures


@pytest.mark.browser
def test_the_material_filters_each_say_why() -> None:
    assert gates.MATERIAL and all(len(reason) > 20 for reason in gates.MATERIAL.values())


@pytest.mark.browser
def test_charts_are_published_as_palette_pngs_and_photographs_as_they_are(
        example: Path, tmp_path: Path) -> None:
    from PIL import Image
    from portfolio import render

    figures = sorted(example.glob("projects/*/figures/*.png"))
    assert figures
    for published in figures:
        original = REPO / "results" / published.parts[-3] / "figures" / published.name
        with Image.open(published) as page_image, Image.open(original) as kept:
            assert page_image.mode == "P" and page_image.size == kept.size, published
        assert published.stat().st_size < original.stat().st_size * 0.6, published
    photo = tmp_path / "photo.png"
    photo.write_bytes(_noisy_png(200_000))  # every pixel its own colour
    tree = render.Tree(tmp_path / "docs")
    tree.figure(photo, "figures/photo.png")
    assert (tmp_path / "docs" / "figures" / "photo.png").read_bytes() == photo.read_bytes()
