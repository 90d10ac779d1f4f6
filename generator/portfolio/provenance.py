"""Where a score was measured: on data the model trained on, or on data it never saw.

A tutorial that calls ``model.fit(X, Y)`` and then ``model.evaluate(X, Y)`` reports a
training score; one that fits on ``x[:1000]`` and evaluates on ``x[1000:]`` reports a
held-out one, with no ``train_test_split`` in sight. Capture can only tell them apart
by looking at the data itself, so every array a model is fitted on, predicts from or is
scored on gets a fingerprint (its shape, a digest of its bytes, and a digest per row),
and the :class:`Ledger` decides, once the script has ended and everything is known,
what each recorded score was measured on:

- ``train``: most of its rows are rows the model was fitted on;
- ``validation``: the ``validation_data`` handed to ``fit`` (it steered training);
- ``mixed``: a sizeable share of training rows, not held out;
- ``test``: none of them (or only a few duplicates a real dataset has) — held-out;
- ``unknown``: capture could not place it (a ``tf.data`` pipeline, a prediction it
  cannot trace to a model).

Scores only ever name the data; which result is the project's own is decided by
:func:`judge`. Nothing here imports more than NumPy, and that only when a script has.
"""

from __future__ import annotations

import itertools
import linecache
import math
import sys
from dataclasses import dataclass, field
from typing import Any

_MAX_KEPT = 5_000_000  # elements of a target vector kept for the baselines
_SAMPLE_ROWS = 256  # rows of scored inputs kept for the page's live demo...
_SAMPLE_BYTES = 8 * 1024**2  # ...within this much memory (fewer rows of large images)
_DUPLICATE_SHARE = 0.05  # real datasets repeat a few rows: up to this share is still held out
_TRAINING_SHARE = 0.5  # from this share of training rows on, a score is a training score


@dataclass(frozen=True)
class Fingerprint:
    """What is needed to recognise an array again without keeping it.

    ``lineage`` says where the rows came from, when the data says so itself: the labels
    of a pandas index (``df.sample`` and ``df.drop(train.index)`` keep them), or the
    NumPy buffer a slice is a view of. Equal values are not the same rows (a column of
    horsepower repeats its values); where the rows came from is."""

    shape: tuple[int, ...]
    digest: int
    rows: frozenset[int] | None  # one digest per sample (first axis), for feature arrays
    lineage: Lineage | None = None

    @property
    def length(self) -> int:
        return self.shape[0] if self.shape else 0

    @property
    def repeats(self) -> bool:
        """Many rows equal other rows (a low-cardinality column): equal values between two
        arrays then say nothing about whether they hold the same samples."""
        return self.rows is not None and len(self.rows) < _DISTINCT_SHARE * self.length


@dataclass(frozen=True)
class Lineage:
    """Where an array's rows came from: ``labels`` of a pandas index (``default`` when it
    is the 0..n-1 a new frame gets, which says nothing on its own), or the ``buffer`` of
    a NumPy view with the byte range it covers."""

    labels: frozenset[int] | None = None
    default: bool = False
    buffer: int | None = None  # the base array's number (_buffer_number)
    span: tuple[int, int] | None = None  # its first and last byte, within that buffer


def _array(value: Any, objects: bool = False) -> Any:
    """A NumPy array for the data a script passes around, or None (a generator, a
    ``tf.data.Dataset``, a dict of inputs we cannot line up). Arrays of Python objects
    (text, mixed columns) are None unless ``objects``: they are then strings."""
    if "numpy" not in sys.modules or value is None:
        return None
    import numpy as np

    if isinstance(value, dict):
        value = next(iter(value.values()), None)
    if isinstance(value, list | tuple) and value and hasattr(value[0], "shape"):
        value = value[0]  # a multi-input model: its first input stands for the samples
    if not (hasattr(value, "shape") or isinstance(value, list | tuple)):
        return None
    try:
        array = np.asarray(value)
    except Exception:  # a symbolic tensor, a ragged list: not data we can compare
        return None
    if array.ndim == 0:
        return None
    if array.dtype == object or array.dtype.kind == "U":
        if not objects:
            return None
        try:  # a categorical of strings, text with NaN: each value as the text it shows
            return array.astype(str)
        except Exception:
            return None
    return array


_CHUNK_ROWS = 2048  # rows hashed at a time: memory stays bounded for image sets
_DISTINCT_SHARE = 0.9  # fewer distinct rows than this share: the data repeats its rows


def fingerprint(value: Any, rows: bool = True) -> Fingerprint | None:
    """The shape, a digest of the whole and of each row, and where the rows came from.
    Numbers are hashed by their bytes; DataFrames with text, categories or missing values
    by the text of each cell, as ``str`` shows it."""
    lineage = _index_lineage(value) or _buffer_lineage(value)
    array = _array(value)
    if array is None:
        text = _array(value, objects=True)
        return None if text is None else _text_fingerprint(text, rows, lineage)
    import hashlib

    import numpy as np

    flat = array.reshape(len(array), -1)
    # Integer and boolean features compare as numbers (an int64 copy of int32 pixels is the
    # same data); floats keep their own bytes. Both are read a chunk of rows at a time, so
    # 60,000 images never cost a second copy of the whole set.
    cast = flat.dtype.kind in "iub"
    whole = hashlib.blake2b(digest_size=16)
    row_digests: set[int] = set()
    for start in range(0, len(flat), _CHUNK_ROWS):
        chunk = np.ascontiguousarray(flat[start:start + _CHUNK_ROWS],
                                     dtype=np.float64 if cast else None)
        whole.update(memoryview(chunk).cast("B"))
        if rows:
            row_digests.update(hash(row.tobytes()) for row in chunk)
    return Fingerprint(tuple(int(n) for n in array.shape),
                       int.from_bytes(whole.digest()[:8], "little"),
                       frozenset(row_digests) if rows else None, lineage)


def _text_fingerprint(text: Any, rows: bool, lineage: Lineage | None) -> Fingerprint:
    """Rows of text (``_array(..., objects=True)``), each hashed as the tuple of its cells:
    the same strings whatever width NumPy gave the array."""
    import hashlib

    import numpy as np

    flat = text.reshape(len(text), -1)
    digests = np.fromiter((hash(tuple(row)) for row in flat.tolist()), dtype=np.int64,
                          count=len(flat))
    whole = hashlib.blake2b(digests.tobytes(), digest_size=16)
    return Fingerprint(tuple(int(n) for n in text.shape),
                       int.from_bytes(whole.digest()[:8], "little"),
                       frozenset(digests.tolist()) if rows else None, lineage)


def _index_lineage(value: Any) -> Lineage | None:
    """A DataFrame's or Series' index labels: ``df.sample(frac=0.8)`` and
    ``df.drop(train.index)`` keep them, and so does every column taken from either."""
    pandas = sys.modules.get("pandas")
    if pandas is None or not isinstance(value, pandas.DataFrame | pandas.Series):
        return None
    index = value.index
    default = (isinstance(index, pandas.RangeIndex) and index.start == 0
               and index.step == 1)
    return Lineage(labels=frozenset(hash(label) for label in index.tolist()),
                   default=default)


def _buffer_lineage(value: Any) -> Lineage | None:
    """A NumPy view's base array and the bytes it spans there: ``x[:1200]`` and
    ``x[1200:]`` span different bytes of one buffer, so they hold different samples,
    whatever values they repeat."""
    np = sys.modules.get("numpy")
    if np is None or not isinstance(value, np.ndarray) or value.base is None:
        return None
    base = value
    while isinstance(base.base, np.ndarray):
        base = base.base
    if base is value or not base.flags.owndata:
        return None
    low, high = np.lib.array_utils.byte_bounds(value)
    start = np.lib.array_utils.byte_bounds(base)[0]
    return Lineage(buffer=_buffer_number(base), span=(low - start, high - start))


_BUFFERS: dict[int, int] = {}  # id of a live base array -> its number
_NUMBERS = itertools.count(1)


def _buffer_number(base: Any) -> int:
    """A number for a base array that no later array can share: an id is reused once its
    array is freed, so the number goes with the array (which is never kept alive)."""
    import weakref

    key = id(base)
    if key not in _BUFFERS:
        _BUFFERS[key] = next(_NUMBERS)
        weakref.finalize(base, _BUFFERS.pop, key, None)
    return _BUFFERS[key]


def same_rows(scored: Fingerprint, fitted: list[Fingerprint]) -> float | None:
    """The share of the scored rows that are rows the model was fitted on, by lineage
    (pandas index labels, a NumPy buffer's bytes); None when lineage cannot tell."""
    mine = scored.lineage
    if mine is None:
        return None
    if mine.labels is not None:
        theirs = [f.lineage for f in fitted if f.lineage and f.lineage.labels is not None]
        if not theirs or (mine.default and all(t.default for t in theirs)):
            return None  # two new frames both count 0..n-1: their labels say nothing
        seen = frozenset().union(*(t.labels for t in theirs))
        return len(mine.labels & seen) / max(len(mine.labels), 1)
    views = [f.lineage for f in fitted if f.lineage and f.lineage.buffer == mine.buffer]
    if mine.buffer is None or not views or mine.span is None:
        return None
    low, high = mine.span
    if all(v.span is not None and (high <= v.span[0] or low >= v.span[1]) for v in views):
        return 0.0  # other bytes of the same buffer: other samples
    if any(v.span is not None and v.span[0] <= low and high <= v.span[1] for v in views):
        return 1.0  # inside the span the model was fitted on: a slice of its training data
    return None


def kept_targets(value: Any) -> Any:
    """A copy of a target vector (class labels or values) for the baselines: one-hot rows
    become class indices, a column becomes a vector."""
    array = _array(value, objects=True)  # string and categorical labels too
    if array is None or array.size > _MAX_KEPT or array.ndim > 2:
        return None
    if array.ndim == 2 and array.shape[1] > 1 and array.dtype.kind in "iufb":
        import numpy as np

        one_hot = bool(np.all(np.isin(array, (0, 1))) and np.all(array.sum(axis=1) == 1))
        return array.argmax(axis=1) if one_hot else None  # several outputs: no baseline
    if array.ndim == 2 and array.shape[1] > 1:
        return None
    return array.reshape(len(array)).copy() if array.ndim == 2 else array.copy()


def sample_rows(value: Any) -> Any:
    """A copy of the first rows of a feature array (a few hundred, under 8 MB), from which
    the demo picks its examples; None for data that is not numeric rows."""
    array = _array(value)
    if array is None or array.ndim < 2 or array.dtype.kind not in "iuf":
        return None
    rows = min(len(array), _SAMPLE_ROWS, _SAMPLE_BYTES // max(1, array[:1].nbytes))
    return array[:rows].copy() if rows else None


def value_range(value: Any) -> tuple[float, float] | None:
    """The smallest and largest value of numeric training inputs: what a drawing must be
    scaled to before the model reads it."""
    array = _array(value)
    if array is None or array.dtype.kind not in "iuf" or not array.size:
        return None
    import numpy as np

    low, high = float(np.nanmin(array)), float(np.nanmax(array))
    return (low, high) if np.isfinite(low) and np.isfinite(high) else None


def looks_like_labels(y: Any) -> bool:
    """Class labels rather than measured values: strings, booleans, or few distinct
    whole numbers."""
    import numpy as np

    if y.dtype.kind in "OUSb":
        return True
    if y.dtype.kind in "iu":
        return len(np.unique(y)) <= max(20, len(y) // 10)
    return y.dtype.kind == "f" and bool(np.all(y == np.round(y))) and len(np.unique(y)) <= 20


def class_counts(y: Any) -> dict[str, int]:
    import numpy as np

    values, counts = np.unique(y, return_counts=True)
    return {label_text(v): int(c) for v, c in zip(values, counts, strict=True)}


def label_text(value: Any) -> str:
    """``1.0`` reads as class 1, ``np.str_('b')`` as b."""
    if isinstance(value, float) or (getattr(value, "dtype", None) is not None \
            and value.dtype.kind == "f"):
        number = float(value)
        return str(int(number)) if number.is_integer() else str(number)
    return str(value)


def windows_of(x: Any, y: Any) -> Any:
    """The last value of each input window when the inputs are sliding windows of the
    target (``x[i + 1, -1] == y[i]``), as in every forecasting tutorial; else None.
    Those last values are the persistence forecast."""
    xs, ys = _array(x), _array(y)
    if xs is None or ys is None or len(xs) < 3 or len(xs) != len(ys) or xs.ndim not in (2, 3):
        return None
    if xs.ndim == 3 and xs.shape[2] != 1:
        return None
    import numpy as np

    last = xs.reshape(len(xs), -1)[:, -1].astype(np.float64)
    target = ys.reshape(len(ys), -1)
    if target.shape[1] != 1:
        return None
    target = target[:, 0].astype(np.float64)
    if np.allclose(last[1:], target[:-1], rtol=1e-5, atol=1e-6):
        return last
    return None


def caller_line() -> str | None:
    """``train.py:36: mean_squared_error(y_test, x_test[:, -1])``: the script's line
    that made a call, to name a score no model can be traced to."""
    frame = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if not module.startswith(("portfolio", "sklearn", "keras", "numpy", "functools")):
            code = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
            name = frame.f_code.co_filename.rsplit("/", 1)[-1]
            return f"{name}:{frame.f_lineno}: {code}" if code else None
        frame = frame.f_back
    return None


@dataclass
class Training:
    """One ``fit`` call: what the model saw."""

    order: int  # when, among the ledger's events: a refit after a score is not its data
    model: int
    x: Fingerprint | None
    y: Fingerprint | None
    y_values: Any = None
    validation: Fingerprint | None = None
    validation_split: float | None = None
    persistence: bool = False  # the inputs are windows of the target
    x_range: tuple[float, float] | None = None  # smallest and largest input value
    validation_y: Any = None  # the targets of the validation data fit scored each epoch
    validation_obj: Any = None  # a validation dataset capture cannot read, by identity


@dataclass
class Prediction:
    model: int  # OUT_OF_FOLD for cross_val_predict's predictions
    x: Fingerprint | None
    output: Fingerprint | None
    values: Any = None  # the output, to recognise it again after an inverse transform
    obj: Any = None  # the very object returned, to recognise it by identity first
    columns: int = 1  # a 2-D output's columns (predict_proba), flattened in ``values``
    x_sample: Any = None  # the first rows of the inputs (sample_rows), for the demo


@dataclass
class Scoring:
    """A score, report or matrix waiting to learn what it was measured on."""

    entries: list[dict[str, Any]]
    model: int | None
    order: int = 0
    x: Fingerprint | None = None
    y: Fingerprint | None = None
    y_values: Any = None
    y_pred: Any = None
    y_pred_obj: Any = None  # as the script passed it
    where: str | None = None
    persistence: Any = None  # last values of the scored windows, when they are windows
    rescale: tuple[float, float] | None = None  # y = a·prediction + b: an inverse transform
    x_sample: Any = None  # the first rows of the inputs scored (sample_rows), for the demo
    overlap: float | None = None  # held out, though this share of rows equal training rows
    reloaded: bool = False  # the model scored is a checkpoint reloaded (Ledger.reload)
    labels_from: str | None = None  # where its targets came from, when not an array given
    opaque: str | None = None  # what the scored inputs were, when capture cannot see rows
    x_obj: Any = None  # those inputs themselves, to recognise a validation dataset by identity


@dataclass
class SplitArrays:
    """The parts ``train_test_split`` returned (features and targets of each side)."""

    index: int
    x_train: Fingerprint | None
    x_test: Fingerprint | None
    y_train: Fingerprint | None
    y_test: Fingerprint | None
    y_train_values: Any = None
    y_test_values: Any = None


@dataclass
class Ledger:
    """Every array the script's models met, by model; resolved at the end of the run."""

    models: list[Any] = field(default_factory=list)  # kept alive: their ids stay theirs
    labels: dict[int, str] = field(default_factory=dict)
    kinds: dict[int, str] = field(default_factory=dict)  # "keras" or "sklearn"
    trainings: list[Training] = field(default_factory=list)
    predictions: list[Prediction] = field(default_factory=list)
    scorings: list[Scoring] = field(default_factory=list)
    splits: list[SplitArrays] = field(default_factory=list)
    events: int = 0
    # Models that are another model's weights reloaded (a checkpoint): (model, its key).
    reloaded: list[tuple[Any, int]] = field(default_factory=list)
    checkpoint: str | None = None  # why a reloaded model's validation score chose it

    def _next(self) -> int:
        self.events += 1
        return self.events

    def model_key(self, model: Any, label: str, kind: str) -> int:
        """A model's number; a search's ``best_estimator_`` is the search's own model."""
        for index, known in enumerate(self.models):
            if known is model or getattr(known, "best_estimator_", None) is model:
                return index
        for known, key in self.reloaded:
            if known is model:
                return key
        self.models.append(model)
        key = len(self.models) - 1
        self.labels[key], self.kinds[key] = label, kind
        return key

    def label_of(self, model: Any) -> str | None:
        """The name ``model`` was first recorded under; None for a model not seen yet."""
        for index, known in enumerate(self.models):
            if known is model:
                return self.labels[index]
        return next((self.labels[key] for known, key in self.reloaded if known is model), None)

    # -- what capturers report --------------------------------------------------------
    def reload(self, model: Any, why: str | None) -> None:
        """``model`` holds the weights the last fitted Keras model saved (a checkpoint
        reloaded with ``load_model``): it was fitted on that model's data. ``why`` names
        the quantity that chose the checkpoint ("val_accuracy"), when one did."""
        fitted = [t.model for t in self.trainings if self.kinds.get(t.model) == "keras"]
        if fitted and not any(known is model for known in self.models):
            self.reloaded.append((model, fitted[-1]))
            self.checkpoint = why

    def trained(self, model: Any, label: str, kind: str, x: Any, y: Any,
                validation: Any = None, validation_split: float | None = None,
                validation_y: Any = None) -> None:
        key = self.model_key(model, label, kind)
        y_values = kept_targets(y)
        if validation_y is None and validation_split and y_values is not None:
            # Keras validates on the last rows, cut before shuffling: ceil(n·(1 - share)).
            validation_y = y_values[math.ceil(len(y_values) * (1 - validation_split)):]
        rows = fingerprint(validation) if validation is not None else None
        self.trainings.append(Training(
            self._next(), key, fingerprint(x), fingerprint(y, rows=False), y_values,
            rows, validation_split, windows_of(x, y) is not None, value_range(x),
            kept_targets(validation_y) if validation_y is not None else None,
            validation if validation is not None and rows is None else None))

    def predicted(self, model: Any, label: str, kind: str, x: Any, output: Any) -> None:
        key = self.model_key(model, label, kind) if model is not None else OUT_OF_FOLD
        values = _array(output)
        small = values.reshape(-1).copy() if values is not None and values.size <= _MAX_KEPT \
            else None
        columns = int(values.shape[1]) if values is not None and values.ndim == 2 else 1
        self.predictions.append(Prediction(key, fingerprint(x), fingerprint(output, rows=False),
                                           small, output, columns,
                                           sample_rows(x) if kind == "keras" else None))

    def scored(self, entries: list[dict[str, Any]], model: Any = None, label: str = "",
               kind: str = "", x: Any = None, y: Any = None, y_pred: Any = None,
               labels_from: str | None = None) -> None:
        """A score of ``model`` on ``x`` and ``y`` (or of ``y_pred`` against ``y``).
        ``labels_from`` says where ``y`` came from when the script gave none (the labels
        a dataset streamed)."""
        key = self.model_key(model, label, kind) if model is not None else None
        rows = fingerprint(x) if x is not None else None
        self.scorings.append(Scoring(
            entries, key, self._next(), rows,
            fingerprint(y, rows=False), kept_targets(y), _array(y_pred), y_pred,
            caller_line() if model is None else None, windows_of(x, y),
            x_sample=sample_rows(x) if kind == "keras" else None,
            reloaded=any(known is model for known, _ in self.reloaded),
            labels_from=labels_from, opaque=_opaque(x) if rows is None else None,
            x_obj=x if rows is None else None))

    def split(self, index: int, parts: list[Any]) -> None:
        """``train_test_split(X, y)`` returned ``X_train, X_test, y_train, y_test``."""
        pairs = len(parts) // 2
        x_train, x_test = (parts[0], parts[1]) if pairs >= 1 else (None, None)
        y_train, y_test = (parts[-2], parts[-1]) if pairs >= 2 else (None, None)
        self.splits.append(SplitArrays(
            index, fingerprint(x_train), fingerprint(x_test),
            fingerprint(y_train, rows=False), fingerprint(y_test, rows=False),
            kept_targets(y_train), kept_targets(y_test)))

    # -- resolution -------------------------------------------------------------------
    def trace(self, scoring: Scoring) -> None:
        """Find the model behind ``y_pred`` (a prediction it made, perhaps rescaled back
        by an inverse transform) and the inputs it predicted from."""
        if scoring.model is not None or scoring.y_pred is None:
            return
        import numpy as np

        same = [p for p in self.predictions if p.obj is scoring.y_pred_obj]
        if same:  # the very array a model returned
            self._traced(scoring, same[-1], None)
            return
        try:
            wanted = np.asarray(scoring.y_pred, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            return
        if not wanted.size:
            return
        found: list[tuple[Prediction, tuple[float, float] | None]] = []
        for prediction in reversed(self.predictions):
            readings = _readings(prediction, wanted.size)
            exact = [v for v in readings if np.array_equal(v, wanted) or _thresholded(v, wanted)]
            scaled = [(v, _affine(v, wanted)) for v in readings if not exact]
            if exact:
                found.append((prediction, None))
            elif any(scale is not None for _, scale in scaled):
                found.append((prediction, next(sc for _, sc in scaled if sc is not None)))
        if len({p.model for p, _ in found}) == 1:  # two models that agree: neither is sure
            self._traced(scoring, *found[0])

    @staticmethod
    def _traced(scoring: Scoring, prediction: Prediction,
                scale: tuple[float, float] | None) -> None:
        scoring.model, scoring.x, scoring.where = prediction.model, prediction.x, None
        scoring.x_sample = prediction.x_sample
        if scale is not None and scale != (1.0, 0.0):
            scoring.rescale = scale

    def place(self, scoring: Scoring) -> tuple[str, str]:
        """What a score was measured on, and why we think so. Only the fits before the
        score count: a model refitted on everything afterwards was scored as it was then."""
        if scoring.model == OUT_OF_FOLD:
            return "cv", "out-of-fold predictions of cross_val_predict"
        trainings = [t for t in self.trainings if t.model == scoring.model
                     and t.order < scoring.order] if scoring.model is not None else []
        decided = self._by_split_function(scoring, trainings)
        if decided:
            return decided
        if scoring.x_obj is not None and any(t.validation_obj is scoring.x_obj
                                             for t in trainings):
            return "validation", f"the very {scoring.opaque or 'data'} given to fit as its " \
                                 "validation_data"
        if scoring.x is not None and scoring.x.rows and any(t.x for t in trainings):
            if any(t.validation and t.validation.digest == scoring.x.digest for t in trainings):
                if scoring.reloaded and self.checkpoint:
                    return "validation", (f"the validation data given to fit, which chose the "
                                          f"reloaded checkpoint (its best {self.checkpoint})")
                return "validation", "the validation data given to fit"
            return self._by_rows(scoring, [t.x for t in trainings if t.x])
        if scoring.y is not None:
            candidates = trainings or self.trainings
            if any(t.y and t.y.digest == scoring.y.digest for t in candidates):
                return "train", "its targets are the ones the model was fitted on"
            for part in self.splits:
                if part.y_test and part.y_test.digest == scoring.y.digest:
                    return "test", "its targets are the test part of train_test_split"
                if part.y_train and part.y_train.digest == scoring.y.digest:
                    return "train", "its targets are the training part of train_test_split"
        if scoring.opaque:
            return "unknown", (f"{scoring.opaque}: capture cannot compare its rows with the "
                               "data the model was fitted on")
        if scoring.model is None:
            return "unknown", ("a score computed from predictions capture could not trace to "
                               "a model")
        return "unknown", "capture could not tell which data it was measured on"

    def _by_rows(self, scoring: Scoring, fitted: list[Fingerprint]) -> tuple[str, str]:
        """Place a score by its rows: the very arrays fitted on; where its rows came from
        (a DataFrame's index, a slice of one buffer); else equal values, which say the rows
        are the same only when the data does not repeat its rows anyway."""
        x = scoring.x
        assert x is not None and x.rows is not None
        if any(f.digest == x.digest and f.shape == x.shape for f in fitted):
            return "train", "the very data the model was fitted on"
        share = same_rows(x, fitted)
        if share is not None:
            how = ("by the DataFrame's index" if x.lineage and x.lineage.labels is not None
                   else "as slices of one array")
            return _by_share(share, f"{{share}} of its rows are rows the model was fitted on, "
                                    f"{how}", f"none of its rows are training rows, {how}")
        seen = frozenset().union(*(f.rows for f in fitted if f.rows))
        share = len(x.rows & seen) / max(len(x.rows), 1)
        if share > _DUPLICATE_SHARE and (x.repeats or any(f.repeats for f in fitted)):
            # Few distinct rows (one column of horsepower): equal values are expected between
            # any two samples, so the score keeps its place with the overlap stated.
            scoring.overlap = share
            return "test", (f"{share:.0%} of its rows also appear in the training data "
                            "(equal values; this data repeats its rows)")
        return _by_share(share, "{share} of its samples were in the data the model was "
                                "fitted on", "none of its samples were in the data the model "
                                             "was fitted on")

    def _by_split_function(self, scoring: Scoring, trainings: list[Training]
                           ) -> tuple[str, str] | None:
        """Fitted on the training part ``train_test_split`` returned and scored on its test
        part (the very arrays): held out, whatever values the rows repeat (categorical
        features make many test rows equal to training rows)."""
        if scoring.x is None or not trainings or trainings[-1].x is None:
            return None
        fitted = trainings[-1].x.digest
        for part in self.splits:
            if part.x_train and part.x_test and part.x_train.digest == fitted \
                    and part.x_test.digest == scoring.x.digest:
                return "test", ("fitted on the training part of train_test_split, scored "
                                "on its test part")
        return None

    def resolve(self) -> None:
        """Place every score, in two passes: a score traced to no model (a persistence
        forecast scored by hand) is placed by its targets once the others are known."""
        for scoring in self.scorings:
            self.trace(scoring)
        placed: dict[int, tuple[str, str]] = {}
        for scoring in self.scorings:
            split, why = self.place(scoring)
            if scoring.y is not None and split != "unknown":
                placed.setdefault(scoring.y.digest, (split, why))
            self._mark(scoring, split, why)
        for scoring in self.scorings:
            entry = scoring.entries[0] if scoring.entries else {}
            if entry.get("split") == "unknown" and scoring.y is not None \
                    and scoring.y.digest in placed and placed[scoring.y.digest][0] != "unknown":
                split, why = placed[scoring.y.digest]
                self._mark(scoring, split, f"its targets are those of another score ({why})")

    def _mark(self, scoring: Scoring, split: str, why: str) -> None:
        label = self.labels.get(scoring.model) if scoring.model is not None else None
        for entry in scoring.entries:
            entry.update(split=split, evidence=why, model=label, model_key=scoring.model,
                         model_kind=self.kinds.get(scoring.model) if label else None,
                         split_index=self.split_index(scoring))
            if scoring.overlap is not None and split == "test":
                entry["overlap"] = round(scoring.overlap, 4)
            if label is None and scoring.where:
                entry["where"] = scoring.where

    def index_splits(self) -> None:
        """Name the split of every score not yet tied to one (after a split was added)."""
        for scoring in self.scorings:
            index = self.split_index(scoring)
            for entry in scoring.entries:
                if entry.get("split_index") is None:
                    entry["split_index"] = index

    def split_index(self, scoring: Scoring) -> int | None:
        """Which ``train_test_split`` call the scored targets came from."""
        if scoring.y is None:
            return None
        for part in self.splits:
            if part.y_test and part.y_test.digest == scoring.y.digest:
                return part.index
            if part.y_train and part.y_train.digest == scoring.y.digest:
                return part.index
        return None


OUT_OF_FOLD = -1  # the "model" of cross_val_predict's predictions


def _opaque(x: Any) -> str | None:
    """What the scored inputs were, when they are data capture cannot read row by row: a
    ``tf.data`` dataset, a generator, a Keras ``PyDataset``."""
    if x is None:
        return None
    kind = type(x).__name__
    if "Dataset" in kind:
        return "a tf.data dataset" if type(x).__module__.startswith("tensorflow") \
            else f"a {kind}"
    if hasattr(x, "__next__") or hasattr(x, "__getitem__"):
        return f"a {kind} of batches"
    return None


def _by_share(share: float, seen: str, none: str) -> tuple[str, str]:
    """A share of training rows as a place: training from half on, mixed above the few
    duplicates a real dataset has, else held out."""
    said = seen.format(share=f"{share:.0%}")
    if share >= _TRAINING_SHARE:
        return "train", said
    if share > _DUPLICATE_SHARE:
        return "mixed", said
    return "test", none if share == 0 else f"only {share:.0%} of its samples repeat training " \
                                           "samples"


def _readings(prediction: Prediction, size: int) -> list[Any]:
    """The ways a script reads a prediction of ``size`` samples: as it is, the argmax of
    its rows (predict_proba, softmax), or one of its columns (``proba[:, 1]``)."""
    import numpy as np

    values = prediction.values
    if values is None or values.size % size:
        return []
    if values.size == size:
        return [np.asarray(values, dtype=np.float64)]
    table = np.asarray(values, dtype=np.float64).reshape(size, values.size // size)
    return [table.argmax(axis=1).astype(np.float64), *(table[:, j] for j in range(table.shape[1]))]


def _thresholded(probabilities: Any, labels: Any) -> bool:
    """``(model.predict(x) > 0.5).astype(int)``: a sigmoid's output cut at one half."""
    import numpy as np

    if not np.all(np.isin(labels, (0.0, 1.0))):
        return False
    if np.any(probabilities < 0) or np.any(probabilities > 1):
        return False
    return bool(np.array_equal((probabilities > 0.5).astype(np.float64), labels))


def _affine(a: Any, b: Any) -> tuple[float, float] | None:
    """``(slope, intercept)`` when ``b`` equals ``a`` after one affine map (a scaler's
    ``inverse_transform``); ``(1, 0)`` when they are equal; else None."""
    import numpy as np

    if a.shape != b.shape or not a.size:
        return None
    if np.array_equal(a, b):
        return 1.0, 0.0
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))) or np.ptp(a) == 0:
        return None
    slope, intercept = np.polyfit(a, b, 1)
    residual = b - (slope * a + intercept)
    # A scaler's inverse keeps the order of values: a falling map is another reading
    # (one minus a probability, flipped labels), not the same prediction.
    if slope > 0 and np.max(np.abs(residual)) <= 1e-4 * max(np.ptp(b), 1e-12):
        return float(slope), float(intercept)
    return None
