"""The "Try the model" section of a project page: what it shows before anyone presses
anything, read from ``results/<slug>/demo/`` (see ``capture/demo.py``).

The page carries the examples' thumbnails (or a few of their features, or a sparkline of
their window) and a small script; the model, the examples' inputs and the runtime
(onnxruntime-web, ``web/ort/`` in the package, copied to the site's ``assets/ort/``) are
fetched when a visitor first picks an example, so a page nobody tries stays light.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from portfolio import results
from portfolio.domain import ProjectState
from portfolio.record import DrawingPad

# onnxruntime-web's WebAssembly-only build: the script, its loader and the runtime.
RUNTIME_FILES = ("ort.wasm.min.js", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm",
                 "NOTICE.txt")
RUNTIME_DIR = "assets/ort"  # in the site
SCRIPT = "assets/demo.js"  # in the site: site_templates/assets/demo.js
FEATURES_SHOWN = 4  # a tabular example shows its first few features on the page
PAD_PIXELS = 192  # the drawing pad's side on the screen


@dataclass(frozen=True)
class DemoExample:
    index: int
    label: str  # what a screen reader says for the example's button
    truth: str  # the true answer, as the page prints it
    thumbnail: str | None = None  # demo/example-NN.png, for images
    features: list[str] = field(default_factory=list)  # the first values, for tables
    points: str | None = None  # a sparkline of the window (SVG polyline), for sequences


@dataclass(frozen=True)
class DemoView:
    kind: str  # classification, regression, sequence
    image: bool
    examples: list[DemoExample]
    columns: list[str]  # the table's feature columns (tabular examples)
    more_columns: int  # features not shown in the table
    drawing: DrawingPad | None
    pad_pixels: int = PAD_PIXELS
    examples_href: str = f"{results.DEMO}/{results.DEMO_EXAMPLES}"
    model_href: str = f"{results.DEMO}/{results.DEMO_MODEL}"

    @property
    def intro(self) -> str:
        what = "image" if self.image else "window" if self.kind == "sequence" else "row"
        count = len(self.examples)
        return (f"Pick one of {count} held-out examples (each {what} from the test split, "
                "never seen in training): the model runs here, in your browser, and its "
                "answer appears next to the true one and to the prediction Keras made when "
                "the site was built. The first pick downloads the model and ONNX Runtime "
                "Web (about 14 MB); nothing is sent anywhere.")


def runtime_folder() -> Path:
    """Where the package keeps onnxruntime-web's files (``make web`` copies them there)."""
    return Path(str(resources.files("portfolio").joinpath("web", "ort")))


def demo_view(state: ProjectState) -> DemoView | None:
    """The section's content, or None: turned off (``demo: false``, or
    ``publish_model: false``, since the demo publishes the model), no demo recorded, or
    its files missing or unreadable."""
    meta, good = state.project.meta, state.good
    if not meta.demo or not meta.publish_model or good is None:
        return None
    recorded = good.run.demo
    if recorded is None or not recorded.available:
        return None
    folder = good.folder / results.DEMO
    if not (good.file(f"{results.DEMO}/{results.DEMO_MODEL}")
            and good.file(f"{results.DEMO}/{results.DEMO_EXAMPLES}")):
        return None
    try:
        described = json.loads((folder / results.DEMO_EXAMPLES).read_text(encoding="utf-8"))
        return _view(described, recorded.drawing, good.file)
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None  # a damaged file: the page goes without the demo


def _view(described: dict[str, Any], drawing: DrawingPad | None, exists: Any) -> DemoView:
    kind, classes = str(described["kind"]), [str(c) for c in described.get("classes") or []]
    examples, widths = [], []
    for index, example in enumerate(described["examples"]):
        values = [float(v) for v in example["input"]]
        truth = classes[int(example["truth"])] if kind == "classification" \
            else _number(float(example["truth"]))
        thumbnail = example.get("thumbnail")
        if thumbnail is not None and not exists(f"{results.DEMO}/{thumbnail}"):
            thumbnail = None
        shown = [_number(v) for v in values[:FEATURES_SHOWN]]
        widths.append(len(values))
        # The visible text of a button starts its spoken name (WCAG 2.5.3: label in name).
        label = (f"Window {index + 1}, true next value {truth}" if kind == "sequence" else
                 f"Example {index + 1}, true class {truth}" if thumbnail else
                 f"Try {index + 1}: true answer {truth}")
        examples.append(DemoExample(
            index=index, truth=truth, label=label,
            thumbnail=f"{results.DEMO}/{thumbnail}" if thumbnail else None,
            features=shown if not thumbnail and kind != "sequence" else [],
            points=_sparkline(values) if kind == "sequence" else None))
    columns = min(FEATURES_SHOWN, min(widths, default=0))
    image = bool(examples) and all(e.thumbnail for e in examples)
    return DemoView(kind=kind, image=image, examples=examples,
                    columns=[f"x{i + 1}" for i in range(columns)],
                    more_columns=max(0, min(widths, default=0) - columns),
                    drawing=drawing if image else None)


def _number(value: float) -> str:
    return f"{value:.4g}"


def _sparkline(values: list[float], width: int = 64, height: int = 20) -> str:
    """The window as SVG polyline points in a ``width``×``height`` box."""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = width / max(1, len(values) - 1)
    return " ".join(f"{i * step:.1f},{height - (v - low) / span * height:.1f}"
                    for i, v in enumerate(values))
