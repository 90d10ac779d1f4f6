"""The trivial baselines every result is compared with, computed for the user.

For every split capture knows (a ``train_test_split`` call, or the arrays the judged
model was fitted on and evaluated on), a model that always predicts the majority class
(classification) or the training mean (regression) is scored on the test targets; when
the inputs are sliding windows of the target, so is the persistence forecast (next
value = the last one seen), the baseline every forecast must beat. A model that cannot
beat its split's baseline has learned nothing worth showing, and its page says so.

The scores are computed with NumPy, the way ``DummyClassifier(strategy="most_frequent")``
and ``DummyRegressor(strategy="mean")`` would score: a Keras-only script does not pay
for importing scikit-learn here.
"""

from __future__ import annotations

from typing import Any

from portfolio.provenance import (
    Scoring,
    SplitArrays,
    Training,
    class_counts,
    label_text,
    looks_like_labels,
)
from portfolio.recorder import Recorder

_SOURCE = "fitted on the training targets, scored on the test targets of the same split"


def trivial_baselines(rec: Recorder) -> None:
    """Fill ``rec.trivial_baselines`` (one or two per split) and ``rec.trivial_baseline``,
    the one the headline is compared with: its split's, persistence first."""
    _derive_split(rec)
    for part in rec.ledger.splits:
        if part.y_train_values is None or part.y_test_values is None:
            continue
        for baseline in _constants(part.y_train_values, part.y_test_values):
            rec.trivial_baselines.append({**baseline, "split_index": part.index})
    for forecast in rec.extra.pop("_persistence", []):
        rec.trivial_baselines.append(forecast)
    judged = [r for r in rec.results if r.get("judged")]
    index = judged[-1].get("split_index") if judged else None
    names = {r["name"] for r in judged}
    mine = [b for b in rec.trivial_baselines if b["split_index"] == index and index is not None
            and names & set(b["metrics"])]  # one that measured what the model is judged by
    mine.sort(key=lambda b: b["kind"] != "persistence")
    rec.trivial_baseline = mine[0] if mine else None


def _derive_split(rec: Recorder) -> None:
    """No ``train_test_split``: a fixed index split, separate files, a chronological
    slice. The arrays handed to the judged model's ``fit`` and ``evaluate`` are known:
    describe them as the split, and keep its targets for the baselines."""
    judged = [r for r in rec.results if r.get("judged")]
    if not judged or judged[-1].get("split_index") is not None:
        return
    key = judged[-1].get("model_key")
    training = next((t for t in reversed(rec.ledger.trainings) if t.model == key), None)
    scoring = next((s for s in reversed(rec.ledger.scorings) if s.model == key
                    and any(e.get("judged") for e in s.entries)), None)
    if training is None or scoring is None or training.y_values is None:
        return
    y_train = training.y_values
    if scoring.rescale is not None:
        # The script scored inverse-transformed predictions: the model's training targets
        # are in the scaled units, and the same map brings them back to the scored ones.
        slope, intercept = scoring.rescale
        y_train = y_train.astype(float) * slope + intercept
    index = len(rec.splits)
    rec.splits.append(_describe(index, training, scoring))
    rec.ledger.splits.append(SplitArrays(index, training.x, scoring.x, training.y, scoring.y,
                                         y_train, scoring.y_values))
    rec.ledger.index_splits()
    if training.persistence and scoring.persistence is not None \
            and scoring.y_values is not None:
        rec.extra.setdefault("_persistence", []).append(
            {**_persistence(scoring.persistence, scoring.y_values), "split_index": index})


def _describe(index: int, training: Training, scoring: Scoring) -> dict[str, Any]:
    train_n = training.x.length if training.x else len(training.y_values)
    test_n = scoring.x.length if scoring.x else (
        len(scoring.y_values) if scoring.y_values is not None else None)
    split: dict[str, Any] = {
        "index": index,
        "kind": "arrays",  # not a split function: the arrays given to fit and evaluate
        "train_size": train_n,
        "test_size": test_n,
        "shapes": [{"train": list(training.x.shape) if training.x else None,
                    "test": list(scoring.x.shape) if scoring.x else None}],
        "validation_split": training.validation_split,
        "validation_size": round(train_n * training.validation_split)
        if training.validation_split and train_n else None,
    }
    y_train, y_test = training.y_values, scoring.y_values
    if y_test is not None and y_train.ndim == 1 and looks_like_labels(y_train):
        split["class_balance"] = {"train": class_counts(y_train), "test": class_counts(y_test)}
    return split


def _constants(y_train: Any, y_test: Any) -> list[dict[str, Any]]:
    """The majority class for labels, the training mean for numbers; both for whole
    numbers (ages, counts, star ratings), which may be either: the one measured by the
    metric the model is judged by is the one it is compared with."""
    import numpy as np

    found = [b for b in [_constant(y_train, y_test)] if b]
    y = np.asarray(y_train)
    if found and found[0]["kind"] == "majority" and y.dtype.kind in "iuf" and len(y_test):
        found.append(_mean(y, np.asarray(y_test)))
    return found


def _mean(y_train: Any, y_test: Any) -> dict[str, Any]:
    import numpy as np

    mean = float(np.mean(y_train))
    return {"kind": "mean", "name": "Always predicts the training mean",
            "estimator": "the mean of the training targets, as DummyRegressor(strategy='mean')",
            "metrics": _regression(np.full(len(y_test), mean), y_test), "source": _SOURCE,
            "train_size": len(y_train), "test_size": len(y_test)}


def _constant(y_train: Any, y_test: Any) -> dict[str, Any] | None:
    import numpy as np

    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    if not len(y_train) or not len(y_test):
        return None
    if looks_like_labels(y_train):
        counts = class_counts(y_train)
        majority = max(counts, key=counts.get)  # first of the most frequent, as sklearn's
        labels = [label_text(v) for v in y_test]
        share = sum(label == majority for label in labels) / len(labels)
        present = set(labels)
        # Recall 1 for the majority class, 0 for the others; precision = its share.
        f1 = 2 * share / (1 + share) / len(present | {majority})
        balanced = 1 / len(present) if majority in present else 0.0
        return {
            "kind": "majority",
            "name": f"Always predicts class {majority}",
            "estimator": "majority class, as DummyClassifier(strategy='most_frequent')",
            "metrics": {"accuracy": share, "balanced_accuracy": balanced, "f1": f1},
            "source": _SOURCE, "train_size": len(y_train), "test_size": len(y_test)}
    if not np.issubdtype(y_train.dtype, np.number):
        return None
    return _mean(y_train, y_test)


def _persistence(last: Any, y_test: Any) -> dict[str, Any]:
    import numpy as np

    return {"kind": "persistence", "name": "Persistence forecast",
            "estimator": "next value = the last value of each input window",
            "metrics": _regression(np.asarray(last, dtype=float), y_test),
            "source": "computed on the test windows", "train_size": None,
            "test_size": len(y_test)}


def _regression(predicted: Any, y_test: Any) -> dict[str, float]:
    import numpy as np

    y = np.asarray(y_test, dtype=float).reshape(-1)
    error = predicted.reshape(-1) - y
    mse = float(np.mean(error**2))
    total = float(np.sum((y - y.mean()) ** 2))
    return {"mse": mse, "rmse": mse**0.5, "mae": float(np.mean(np.abs(error))),
            "r2": 1.0 - float(np.sum(error**2)) / total if total else 0.0}


