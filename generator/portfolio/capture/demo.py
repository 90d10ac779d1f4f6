"""The live demo, made in the child once the script has ended.

The published Keras model (the one the page offers for download) is exported to ONNX with
Keras' own ``model.export(path, format="onnx")``, and onnxruntime checks that the export
predicts what Keras predicts on up to 16 held-out examples: the rows of the test split
the model was evaluated on (the ledger kept the first few hundred). The examples, their
true answers and Keras' predictions go to ``demo/examples.json`` beside ``demo/model.onnx``,
with a thumbnail per image; the page's script runs the same model in the visitor's
browser and shows both predictions side by side.

Never a wrong demo: an export that fails, or that differs from Keras by more than 1e-4,
leaves no demo and a capture warning that says why. Never a failed run either: every
step is guarded, and a model this cannot handle only means a page without a demo.

Never a cost the owner turned off: with ``demo: false`` or ``publish_model: false`` (the
parent says so in ``PORTFOLIO_DEMO``) nothing is exported. The export has its own time
budget (``PORTFOLIO_DEMO_TIMEOUT``, from ``demo: {timeout: …}``), apart from the script's
timeout: it runs in a thread the child stops waiting for when the budget is spent, and
``.demo-clock`` tells the parent how long it took, so its time is not the script's. It is
made in a temporary folder and moved into ``demo/`` whole, never with a file over
GitHub's 100 MB limit: ``results/`` is committed.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import Any

from portfolio import results
from portfolio.provenance import Scoring, label_text, looks_like_labels
from portfolio.recorder import Recorder
from portfolio.schema import DEFAULT_DEMO_TIMEOUT_S

MAX_EXAMPLES = 16
TOLERANCE = 1e-4  # the largest difference between ONNX's and Keras' outputs allowed
MAX_VALUES = 200_000  # input values in examples.json in all: fetched when a visitor tries
MAX_PAD = 64  # a drawing pad for single-channel images up to 64×64


class NoDemo(Exception):
    """Why this run's page has no demo; ``warn``: capture failed at something it should
    manage (an export or a check), as opposed to a run that offers nothing to demo."""

    def __init__(self, reason: str, warn: bool = False) -> None:
        super().__init__(reason)
        self.warn = warn


def build(rec: Recorder) -> None:
    """Make ``demo/`` and record what became of it in ``rec.extra["demo"]``."""
    model = rec.extra.get("_published_model")
    if model is None:  # no Keras model was trained: nothing to run in a browser
        return
    if os.environ.get("PORTFOLIO_DEMO", "1") == "0":  # the owner turned it off: no export
        rec.extra["demo"] = {"available": False, "reason": "turned off in project.yaml "
                             "(demo: false, or publish_model: false); nothing was exported"}
        return
    folder = rec.out / results.DEMO
    clock = rec.out / results.DEMO_CLOCK
    started = time.monotonic()
    _tell_parent(clock, started)
    try:
        record = _in_budget(lambda staged: _build(rec, model, staged), folder, budget_s())
    except NoDemo as exc:
        shutil.rmtree(folder, ignore_errors=True)
        if exc.warn:
            rec.warn(f"demo: {exc}; the page has no live demo")
        rec.extra["demo"] = {"available": False, "reason": str(exc)}
        return
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)  # never half a demo
        raise
    finally:
        _tell_parent(clock, started, time.monotonic())
    rec.extra["demo"] = {**record, "seconds": round(time.monotonic() - started, 3)}


def budget_s() -> float:
    """The export's own time budget: ``demo: {timeout: …}``, passed on by the parent."""
    try:
        budget = float(os.environ.get("PORTFOLIO_DEMO_TIMEOUT", DEFAULT_DEMO_TIMEOUT_S))
    except ValueError:
        return DEFAULT_DEMO_TIMEOUT_S
    return budget if budget > 0 else DEFAULT_DEMO_TIMEOUT_S


def _tell_parent(clock: Path, start: float, end: float | None = None) -> None:
    """When the export started (and ended), for the parent to take out of the script's
    time; a clock that cannot be written only means the old accounting."""
    with contextlib.suppress(OSError):
        clock.write_text(f"{start!r}" if end is None else f"{start!r} {end!r}")


def _in_budget(make: Any, folder: Path, budget: float) -> dict[str, Any]:
    """``make(staged)`` in a thread, in a temporary folder, waited for ``budget`` seconds;
    then the folder moved to ``folder``. An exporter still busy is left behind (a daemon
    thread, writing nowhere the run keeps): the run's results go on without a demo."""
    temporary = Path(tempfile.mkdtemp(prefix="portfolio-demo-"))
    staged = temporary / results.DEMO  # made as demo/ would be (mkdtemp's is private)
    outcome: list[Any] = []

    def work() -> None:
        try:
            outcome.append(("ok", make(staged)))
        except BaseException as exc:  # handed to the waiting thread, raised there
            outcome.append(("error", exc))

    streams = sys.stdout, sys.stderr  # the exporter swaps them to silence its chatter
    worker = threading.Thread(target=work, name="portfolio-demo-export", daemon=True)
    try:
        worker.start()
        worker.join(budget)
        if not outcome:
            sys.stdout, sys.stderr = streams
            raise NoDemo(f"the ONNX export and its check ran out of their {budget:g} s "
                         "budget (demo: {timeout: …} in project.yaml sets it; it is not "
                         "counted in the script's timeout)", warn=True)
        kind, value = outcome[0]
        if kind == "error":
            raise value
        keep(staged, folder)
        return value
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


def keep(staged: Path, folder: Path, limit: int = results.MAX_FILE_BYTES) -> None:
    """Move the made demo into ``folder``, unless one of its files is over GitHub's limit
    for a file (``results/`` is committed, and the push would be refused): then no demo."""
    for path in sorted(staged.rglob("*")):
        size = path.stat().st_size if path.is_file() else 0
        if size > limit:
            raise NoDemo(f"the demo's {path.relative_to(staged).as_posix()} is "
                         f"{size / 2**20:,.0f} MB, over GitHub's {limit / 2**20:g} MB limit "
                         "for a file, so it was not kept (demo: false in project.yaml "
                         "skips the export)", warn=True)
    shutil.rmtree(folder, ignore_errors=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(staged, folder)


def _build(rec: Recorder, model: Any, folder: Path) -> dict[str, Any]:
    import numpy as np

    scoring = _held_out_scoring(rec, model)
    x, y = scoring.x_sample, np.asarray(scoring.y_values)[:len(scoring.x_sample)]
    try:
        inputs = list(model.inputs or [])
    except (AttributeError, ValueError):  # a subclassed model never called symbolically
        inputs = []
    if not inputs:
        raise NoDemo("the model does not declare its input (a subclassed model): nothing "
                     "says what a demo should feed it")
    if len(inputs) != 1:
        raise NoDemo("the model takes several inputs; a demo feeds one")
    expected = tuple(inputs[0].shape[1:])
    if len(expected) != x.ndim - 1 or any(
            e is not None and e != n for e, n in zip(expected, x.shape[1:], strict=True)):
        raise NoDemo(f"the inputs evaluated ({_shape(x.shape[1:])}) are not the model's "
                     f"({_shape(expected)})")
    labels = np.asarray(scoring.y_values)
    columns = _keras_outputs(model, np.ascontiguousarray(x[:1], dtype=np.float32)).shape[1]
    classification = _is_classification(labels, columns)
    kind = "classification" if classification else \
        "sequence" if x.ndim == 3 and x.shape[2] == 1 else "regression"
    per_example = int(np.prod(x.shape[1:]))
    chosen = _choose(y if classification else None, len(x),
                     min(MAX_EXAMPLES, MAX_VALUES // max(1, per_example)))
    if not chosen:
        raise NoDemo(f"one input holds {per_example:,} values: too large to send to a browser")
    xs = np.ascontiguousarray(x[chosen], dtype=np.float32)
    expected_out = _keras_outputs(model, xs)
    if not classification and expected_out.shape[1] != 1:
        raise NoDemo(f"the model's output ({_shape(expected_out.shape[1:])}) is neither one "
                     "value nor one score per class of the labels")

    folder.mkdir(parents=True, exist_ok=True)
    onnx_path = folder / results.DEMO_MODEL
    input_name, onnx_out = _export_and_run(model, onnx_path, xs)
    gap = np.abs(onnx_out - expected_out)
    difference = float(np.max(gap))
    # 1e-4, relative to the value for values over 1: a 32-bit float near 2e5 (a price in
    # dollars) has steps of 0.016, so no export could match Keras closer than that.
    if not np.isfinite(difference) or \
            np.any(gap > TOLERANCE * np.maximum(1.0, np.abs(expected_out))):
        raise NoDemo(f"the ONNX export predicts differently from Keras (largest difference "
                     f"{difference:.3g}, more than {TOLERANCE:g} of the value)", warn=True)

    image = classification and ((x.ndim == 4 and x.shape[-1] in (1, 3))
                                or (x.ndim == 3 and min(x.shape[1:]) >= 8))
    low_high = _training_range(rec, model, x)
    examples = []
    for number, (row, index) in enumerate(zip(xs, chosen, strict=True)):
        example: dict[str, Any] = {"input": _float32_list(row.reshape(-1)),
                                   "keras": _float32_list(expected_out[number])}
        example["truth"] = int(_class_index(y[index], labels)) if classification \
            else _value(np.asarray(y[index]).reshape(-1)[0])
        if image:
            example["thumbnail"] = _thumbnail(row, folder, number, low_high)
        examples.append(example)
    drawing = _pad(x, low_high) if image else None
    described: dict[str, Any] = {
        "kind": kind,
        "input": {"name": input_name, "shape": [1, *(int(n) for n in x.shape[1:])]},
        "examples": examples,
        "drawing": drawing,
    }
    if classification:
        described["output"] = _reading(model, expected_out)
        described["classes"] = _class_names(rec, labels, expected_out.shape[1])
    else:
        described["output"] = "value"
        # The score compared an inverse-transformed prediction (a·output + b) with values
        # in their own units: the page shows the model's output in those units too.
        described["rescale"] = list(scoring.rescale) if scoring.rescale else None
    (folder / results.DEMO_EXAMPLES).write_text(
        json.dumps(described, separators=(",", ":")), encoding="utf-8")
    return {"available": True, "kind": kind, "examples": len(examples), "image": bool(image),
            "drawing": drawing, "max_abs_diff": difference}


def _held_out_scoring(rec: Recorder, model: Any) -> Scoring:
    """The last score of the published model measured on held-out data whose inputs the
    ledger kept."""
    ledger = rec.ledger
    keys = [k for k, known in enumerate(ledger.models) if known is model]
    usable = []
    for scoring in reversed(ledger.scorings):
        entry = scoring.entries[0] if scoring.entries else {}
        if scoring.model in keys and entry.get("split") == "test" \
                and scoring.x_sample is not None and scoring.y_values is not None \
                and len(scoring.y_values) >= len(scoring.x_sample):
            usable.append(scoring)
    if usable:  # one that compared the model's own outputs first, else a rescaled one
        return next((s for s in usable if s.rescale is None), usable[0])
    raise NoDemo("the published model was never evaluated on held-out data capture could "
                 "read (model.evaluate(x_test, y_test) on arrays)")


def _choose(labels: Any, rows: int, count: int) -> list[int]:
    """Which rows to show: classes in turn (every class before any twice), else spread
    evenly over the rows (a forecast's examples span the test period)."""
    if count <= 0 or rows == 0:
        return []
    if labels is None:
        if rows <= count:
            return list(range(rows))
        step = (rows - 1) / (count - 1) if count > 1 else 0
        return sorted({round(i * step) for i in range(count)})
    by_class: dict[str, list[int]] = {}
    for index, label in enumerate(labels[:rows]):
        by_class.setdefault(label_text(label), []).append(index)
    chosen: list[int] = []
    while len(chosen) < min(count, rows):
        for members in by_class.values():
            if members and len(chosen) < count:
                chosen.append(members.pop(0))
    return chosen  # in turn, so the first examples on the page are of different classes


def _keras_outputs(model: Any, xs: Any) -> Any:
    """Keras' own prediction (inference mode), as a 2-D float64 array. Called directly,
    not through ``predict``: capture records the script's predictions, not ours."""
    import keras
    import numpy as np

    output = model(xs, training=False)
    if isinstance(output, list | tuple | dict):
        raise NoDemo("the model has several outputs; a demo shows one")
    array = np.asarray(keras.ops.convert_to_numpy(output), dtype=np.float64)
    return array.reshape(len(array), -1) if array.ndim != 2 else array


def _export_and_run(model: Any, path: Path, xs: Any) -> tuple[str, Any]:
    """Keras' ONNX export, quietly (the converter's chatter is not the script's log), then
    the exported model run by onnxruntime on the same inputs."""
    import numpy as np

    chatter = io.StringIO()
    quiet = [logging.getLogger(name) for name in ("tf2onnx", "onnx")]
    levels = [logger.level for logger in quiet]
    try:
        for logger in quiet:
            logger.setLevel(logging.CRITICAL)
        with contextlib.redirect_stdout(chatter), contextlib.redirect_stderr(chatter), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.export(str(path), format="onnx", verbose=False)
    except Exception as exc:  # the exporter's error: a layer it cannot convert
        raise NoDemo(f"the model could not be exported to ONNX ({_first_line(exc)})",
                     warn=True) from None
    finally:
        for logger, level in zip(quiet, levels, strict=True):
            logger.setLevel(level)
    try:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # errors only
        session = onnxruntime.InferenceSession(str(path), options,
                                               providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        output = session.run(None, {name: xs})[0]
    except Exception as exc:
        unknown = re.search(r"No Op registered for (\w+)", str(exc))
        if unknown:  # tf2onnx kept an operation it could not convert (a Python function)
            raise NoDemo(f"the exported model holds an operation ONNX does not know "
                         f"({unknown.group(1)}), as a custom layer running Python code "
                         "would", warn=True) from None
        raise NoDemo(f"onnxruntime could not run the exported model ({_first_line(exc)})",
                     warn=True) from None
    output = np.asarray(output, dtype=np.float64)
    return name, output.reshape(len(output), -1)


def _is_classification(labels: Any, columns: int) -> bool:
    """Class labels that the model's outputs score: whole numbers 0..k-1 for k columns (0
    and 1 for one sigmoid column), or as many named labels as columns. Whole-number targets
    a one-column model predicts (a wine's quality, 3 to 9) are values, not classes."""
    import numpy as np

    if not len(labels) or not looks_like_labels(labels):
        return False
    seen = np.unique(labels)
    if seen.dtype.kind not in "iufb":
        return len(seen) == max(columns, 2)
    if columns == 1:
        return bool(set(seen.astype(float).tolist()) <= {0.0, 1.0})
    return bool(seen.min() >= 0 and seen.max() < columns)


def _reading(model: Any, outputs: Any) -> str:
    """How a row of class scores reads: probabilities (softmax, or independent sigmoids),
    logits, or one sigmoid probability (or logit) for the second class. The last layer's
    activation says so; without one, the values do."""
    import numpy as np

    layers = getattr(model, "layers", None) or [None]
    activation = getattr(getattr(layers[-1], "activation", None), "__name__", "")
    single = outputs.shape[1] == 1
    if activation in ("softmax", "sigmoid"):
        return "sigmoid" if single else "probabilities"
    if activation == "linear":
        return "logit" if single else "logits"
    inside = bool(np.all(outputs >= -1e-6) and np.all(outputs <= 1 + 1e-6))
    if single:
        return "sigmoid" if inside else "logit"
    return "probabilities" if inside and np.allclose(outputs.sum(axis=1), 1, atol=1e-3) \
        else "logits"


def _class_index(label: Any, labels: Any) -> int:
    """The model's output index of a label: the label itself for whole numbers 0..k-1,
    else its place among the sorted labels seen."""
    import numpy as np

    if np.asarray(labels).dtype.kind in "iuf":
        return int(label)
    return [label_text(v) for v in np.unique(labels)].index(label_text(label))


def _class_names(rec: Recorder, labels: Any, columns: int) -> list[str]:
    """Names for the output indices: those the script gave (``target_names``,
    ``display_labels``), else the labels seen in the split, else the indices."""
    import numpy as np

    count = max(columns, 2)  # one sigmoid output: two classes
    given = rec.extra.get("_class_names") or []
    if len(given) == count:
        return [str(name) for name in given]
    seen = np.unique(np.asarray(labels))
    if seen.dtype.kind not in "iuf" and len(seen) == count:
        return [label_text(v) for v in seen]
    return [str(i) for i in range(count)]


def _training_range(rec: Recorder, model: Any, x: Any) -> tuple[float, float]:
    """The value range of the inputs the model was fitted on (else of the examples')."""
    import numpy as np

    keys = {k for k, known in enumerate(rec.ledger.models) if known is model}
    for training in reversed(rec.ledger.trainings):
        if training.model in keys and training.x_range is not None:
            return training.x_range
    return float(np.min(x)), float(np.max(x))


def _thumbnail(row: Any, folder: Path, number: int, low_high: tuple[float, float]) -> str:
    """The example as a PNG at its own size (the page scales it up, pixelated): grey with
    the largest values darkest, as ink on paper; colour images as they are."""
    import numpy as np
    from PIL import Image

    low, high = low_high
    scaled = np.clip((np.asarray(row, dtype=np.float64) - low) / ((high - low) or 1.0), 0, 1)
    if scaled.ndim == 3 and scaled.shape[-1] == 3:
        picture = Image.fromarray(np.round(scaled * 255).astype(np.uint8), "RGB")
    else:
        grey = 255 - np.round(scaled.reshape(scaled.shape[0], scaled.shape[1]) * 255)
        picture = Image.fromarray(grey.astype(np.uint8), "L")
    name = f"example-{number:02d}.png"
    picture.save(folder / name, optimize=True)
    return name


def _pad(x: Any, low_high: tuple[float, float]) -> dict[str, Any] | None:
    """A drawing pad for single-channel images up to 64×64."""
    height, width = int(x.shape[1]), int(x.shape[2])
    channels = 1 if x.ndim == 3 else int(x.shape[3])
    if channels != 1 or height > MAX_PAD or width > MAX_PAD:
        return None
    low, high = low_high
    return {"height": height, "width": width, "low": low, "high": high}


def _float32_list(values: Any) -> list[float]:
    """Each value as the shortest decimal that reads back as the same 32-bit float: the
    browser's Float32Array gets exactly the inputs Keras had."""
    import numpy as np

    return [float(str(np.float32(v))) for v in values]


def _value(value: Any) -> float:
    """A true value as the script had it: a 32-bit float by its shortest decimal."""
    import numpy as np

    return float(str(value)) if getattr(value, "dtype", None) == np.float32 else float(value)


def _shape(shape: Any) -> str:
    return "×".join("?" if n is None else str(n) for n in shape) or "a scalar"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__
