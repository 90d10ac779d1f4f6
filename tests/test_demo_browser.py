"""The live demo in a real browser (Debian chromium, Playwright), served on 127.0.0.1 with
nothing from elsewhere: each example page runs its model in the browser and shows the
prediction Keras recorded at build time; the drawing pad classifies a stroke; a page
nobody tries stays light; no WebAssembly is said in one line; keyboard and dark mode work.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.conftest import REPO, example_portfolio, served
from tests.test_browser import CHROMIUM, FLAGS

SLUGS = ["breast-cancer-mlp", "digits-cnn", "sunspots-lstm"]
LIGHT_BYTES = 20 * 1024  # what a demo may add to a page before anyone presses anything


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The example site with its demos, and the same site with ``demo: false``, served."""
    base = tmp_path_factory.mktemp("demo-browser")
    with served(example_portfolio(base / "with") / "site") as with_demo, \
            served(example_portfolio(base / "without", "demo: false\n") / "site") as without:
        yield with_demo, without


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is missing: `make test` installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield browser
        browser.close()


class Visit:
    """A page with every request, response size and console error recorded."""

    def __init__(self, browser, url: str, **context: object) -> None:
        self.context = browser.new_context(**context)
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error"
                     else None)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.set_default_timeout(30_000)
        response = self.page.goto(url, wait_until="networkidle")
        assert response is not None and response.ok, url

    def weight(self) -> int:
        """The bytes of every body the page loaded: its HTML and each resource, as the
        browser's Resource Timing counts them (every URL here is same-origin)."""
        return int(self.page.evaluate("""() => performance.getEntriesByType('navigation')
            .concat(performance.getEntriesByType('resource'))
            .reduce((sum, entry) => sum + entry.encodedBodySize, 0)"""))

    def outside(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(("http://127.0.0.1", "data:",
                                                               "blob:"))]

    def result(self) -> dict[str, str]:
        self.page.wait_for_selector(".pf-demo-result[data-browser]")
        return self.page.eval_on_selector(".pf-demo-result", "e => ({...e.dataset, "
                                          "text: e.innerText})")

    def close(self) -> None:
        self.context.close()


@pytest.mark.browser
@pytest.mark.parametrize("slug", SLUGS)
def test_pressing_an_example_runs_the_model_and_agrees_with_keras(
        browser, sites: tuple[str, str], slug: str) -> None:
    recorded = json.loads((REPO / "results" / slug / "demo" / "examples.json").read_text())
    visit = Visit(browser, f"{sites[0]}/projects/{slug}/")
    before = len(visit.requests)
    assert not [u for u in visit.requests if "/assets/ort/" in u or u.endswith(".onnx")]
    for index in (0, len(recorded["examples"]) - 1):
        visit.page.click(f".pf-demo-pick[data-index='{index}']")
        visit.page.wait_for_function(
            "document.querySelector(\".pf-demo-pick[aria-pressed='true']\")?.dataset.index === "
            f"'{index}' && document.querySelector('.pf-demo-result').dataset.truth !== "
            "undefined && document.querySelector('.pf-demo-result').getAttribute("
            "'aria-busy') !== 'true'")
        shown = visit.result()
        example = recorded["examples"][index]
        assert float(shown["difference"]) <= 1e-4, shown
        if recorded["kind"] == "classification":
            assert shown["browser"] == shown["keras"], shown  # the same class
            assert shown["truth"] == recorded["classes"][example["truth"]]
            assert "%" in shown["text"]
        else:
            assert abs(float(shown["browser"]) - example["keras"][0]) <= 1e-4
            assert abs(float(shown["truth"]) - example["truth"]) <= 1e-6
    if recorded["kind"] == "sequence":
        assert visit.page.locator(".pf-demo-chart circle").count() == 2
    fetched = visit.requests[before:]
    assert any(u.endswith("/assets/ort/ort-wasm-simd-threaded.wasm") for u in fetched)
    assert any(u.endswith("/demo/model.onnx") for u in fetched)
    assert visit.outside() == [] and visit.errors == [], (visit.outside(), visit.errors)
    visit.close()


@pytest.mark.browser
def test_the_drawing_pad_classifies_a_stroke(browser, sites: tuple[str, str]) -> None:
    visit = Visit(browser, f"{sites[0]}/projects/digits-cnn/")
    canvas = visit.page.locator(".pf-demo-pad canvas")
    canvas.scroll_into_view_if_needed()  # near the screen: the demo's script comes
    visit.page.wait_for_selector(".pf-demo[data-ready]", state="attached")
    box = canvas.bounding_box()
    assert box is not None
    mouse = visit.page.mouse
    mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.15)
    mouse.down()
    for step in range(1, 11):  # a vertical stroke: a "1"
        mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * (0.15 + step * 0.07))
    mouse.up()
    visit.page.click(".pf-demo-classify")
    shown = visit.result()
    classes = json.loads((REPO / "results" / "digits-cnn" / "demo" /
                          "examples.json").read_text())["classes"]
    assert shown["browser"] in classes
    assert "keras" not in shown and "truth" not in shown  # a drawing has neither
    assert visit.page.locator(".pf-demo-bars li").count() == 3
    visit.page.click(".pf-demo-clear")
    blank = visit.page.eval_on_selector(".pf-demo-pad canvas", "c => c.getContext('2d')"
                                        ".getImageData(0, 0, c.width, c.height).data"
                                        ".some(v => v !== 0)")
    assert blank is False
    assert visit.outside() == [] and visit.errors == []
    visit.close()


@pytest.mark.browser
@pytest.mark.parametrize("slug", SLUGS)
def test_a_page_nobody_tries_grows_by_under_20_kb(browser, sites: tuple[str, str],
                                                  slug: str) -> None:
    with_demo = Visit(browser, f"{sites[0]}/projects/{slug}/")
    without = Visit(browser, f"{sites[1]}/projects/{slug}/")
    grown = with_demo.weight() - without.weight()
    assert 0 < grown < LIGHT_BYTES, (slug, grown)
    assert not [u for u in with_demo.requests
                if "/assets/ort/" in u or u.endswith((".onnx", "examples.json"))]
    with_demo.close()
    without.close()


@pytest.mark.browser
def test_without_webassembly_it_says_so_in_one_line(browser, sites: tuple[str, str]) -> None:
    visit = Visit(browser, f"{sites[0]}/projects/breast-cancer-mlp/")
    visit.page.add_init_script("delete window.WebAssembly;")
    visit.page.reload(wait_until="networkidle")
    visit.page.click(".pf-demo-pick >> nth=0")
    visit.page.wait_for_function("document.querySelector('.pf-demo-result').innerText"
                                 ".includes('WebAssembly')")
    text = visit.page.inner_text(".pf-demo-result").strip()
    assert text == "This browser cannot run WebAssembly, so the model cannot run here."
    assert not [u for u in visit.requests if "/assets/ort/" in u]
    visit.close()


@pytest.mark.browser
def test_the_keyboard_alone_runs_an_example_in_dark_mode_on_a_phone(
        browser, sites: tuple[str, str]) -> None:
    visit = Visit(browser, f"{sites[0]}/projects/digits-cnn/", color_scheme="dark",
                  viewport={"width": 375, "height": 800})
    page = visit.page
    assert page.evaluate("document.body.getAttribute('data-md-color-scheme')") == "slate"
    page.focus(".pf-demo-pick >> nth=3")
    page.keyboard.press("Enter")
    shown = visit.result()
    assert shown["browser"] == shown["keras"]
    # The bars are drawn in the accent colour, seen against the dark page.
    fill, background = page.evaluate("""() => {
        const bar = document.querySelector('.pf-demo-bar > span');
        return [getComputedStyle(bar).backgroundColor,
                getComputedStyle(document.body).backgroundColor];
    }""")
    assert fill != background
    overflow = page.evaluate("document.documentElement.scrollWidth - "
                             "document.documentElement.clientWidth")
    assert overflow <= 0
    visit.close()
