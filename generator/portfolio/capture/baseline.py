"""The trivial baselines every result is compared with, computed for the user.

For every split capture knows (a ``train_test_split`` call, or the arrays the judged
model was fitted on and evaluated on), a model that always predicts the majority class
(classification) or the training mean (regression) is scored on the test targets; when
the inputs are sliding windows of the target, so is the persistence forecast (next
value = the last one seen), the baseline every forecast must beat. A model that cannot
beat its split's baseline has learned nothing worth showing, and its page says so.

A score measured on other data gets its baseline on that same data: the validation
targets (the majority class or their mean), the training targets of a training score,
the labels a ``tf.data`` dataset streamed, and for a cross-validation the dummy
estimator scored on the very same folds (:func:`cv_baseline`).

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
    kept_targets,
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
    _other_data(rec)
    judged = [r for r in rec.results if r.get("judged")]
    index = judged[-1].get("split_index") if judged else None
    names = {r["name"] for r in judged}
    mine = [b for b in rec.trivial_baselines if b["split_index"] == index and index is not None
            and names & set(b["metrics"])]  # one that measured what the model is judged by
    mine.sort(key=lambda b: b["kind"] != "persistence")
    rec.trivial_baseline = mine[0] if mine else None


_OWN = {"train": "the training targets (a training score's baseline: the same rows)",
        "validation": "the validation targets",
        "unknown": "the targets the score was measured on",
        "mixed": "the targets the score was measured on"}


def _other_data(rec: Recorder) -> None:
    """A baseline for every score measured on data no split describes: a constant fitted
    on the very targets it was scored on (the majority class, the mean), and for the
    fit's own validation scores, on the validation targets each epoch was scored on."""
    seen: set[tuple[str, int]] = set()
    for scoring in rec.ledger.scorings:
        entry = scoring.entries[0] if scoring.entries else {}
        split = entry.get("split", "unknown")
        if split not in _OWN or scoring.y_values is None or scoring.y is None:
            continue
        key = (split, scoring.y.digest)
        if key not in seen:
            seen.add(key)
            _add_own(rec, split, scoring.y_values, scoring.labels_from or _OWN[split])
    fits = [t for t in rec.ledger.trainings if t.validation_y is not None]
    if fits and not any(split == "validation" for split, _ in seen):
        _add_own(rec, "validation", fits[-1].validation_y,
                 "the validation targets the fit scored after each epoch")


def _add_own(rec: Recorder, split: str, targets: Any, words: str) -> None:
    for baseline in _constants(targets, targets):
        rec.trivial_baselines.append({
            **baseline, "split_index": None, "measured_on": split, "targets": words,
            "source": f"fitted on and scored on {words}", "train_size": None})


def _derive_split(rec: Recorder) -> None:
    """No ``train_test_split``: a fixed index split, separate files, a chronological
    slice. The arrays handed to the judged model's ``fit`` and ``evaluate`` are known:
    describe them as the split, and keep its targets for the baselines."""
    judged = [r for r in rec.results if r.get("judged")]
    if not judged:
        _validation_only(rec)
        return
    if judged[-1].get("split_index") is not None:
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


def _validation_only(rec: Recorder) -> None:
    """No test data, and no split function: when the final fit kept data apart for
    validation, that is the split the page describes (its scores are measured there)."""
    if rec.splits:
        return
    training = next((t for t in reversed(rec.ledger.trainings)
                     if t.validation_y is not None), None)
    if training is None:
        return
    size = len(training.validation_y)
    total = training.x.length if training.x else (
        len(training.y_values) if training.y_values is not None else None)
    split = training.validation_split
    rec.splits.append({
        "index": len(rec.splits), "kind": "validation",
        "train_size": total - size if split and total is not None else total,
        "test_size": None, "validation_split": split, "validation_size": size,
        "shapes": [{"train": list(training.x.shape) if training.x else None, "test": None}]})


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
            "name": f"Always predicts {class_words(majority)}",
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




def class_words(label: str) -> str:
    """``class 1`` for a number, ``'benign'`` for a name: how the page says a class."""
    try:
        float(label)
    except ValueError:
        return f"'{label}'"
    return f"class {label}"


_CV_SOURCE = "the same cross-validation, on the same folds"


def cv_baseline(estimator: Any, args: tuple, kwargs: dict, metric: str | None
                ) -> dict[str, Any] | None:
    """The dummy estimator (most frequent class, or the mean) cross-validated like the
    script's own: same data, same ``cv``, same scoring, so on the same folds when the
    folds are fixed. None when the folds cannot be drawn again (an iterator of splits
    the script's call consumed) or the estimator is neither classifier nor regressor."""
    import numpy as np
    from sklearn.base import is_classifier, is_regressor
    from sklearn.dummy import DummyClassifier, DummyRegressor
    from sklearn.model_selection import cross_validate

    x = args[1] if len(args) > 1 else kwargs.get("X")
    y = args[2] if len(args) > 2 else kwargs.get("y")
    cv = kwargs.get("cv")
    if y is None or not (cv is None or isinstance(cv, int | list | tuple)
                         or hasattr(cv, "split")):
        return None
    if is_classifier(estimator):
        labels = kept_targets(y)
        counts = class_counts(labels) if labels is not None and labels.ndim == 1 else {}
        majority = max(counts, key=counts.get) if counts else None
        dummy: Any = DummyClassifier(strategy="most_frequent")
        name = f"Always predicts {class_words(majority)}" if majority else "Majority class"
        described = "DummyClassifier(strategy='most_frequent')"
    elif is_regressor(estimator):
        dummy = DummyRegressor(strategy="mean")
        name, described = "Always predicts the training mean", "DummyRegressor(strategy='mean')"
    else:
        return None
    scoring = kwargs.get("scoring")
    result = cross_validate(dummy, x, y, groups=kwargs.get("groups"), cv=cv, scoring=scoring,
                            error_score=np.nan)
    keys = [k for k in result if k.startswith("test_")]
    wanted = f"test_{metric}" if metric and f"test_{metric}" in result else None
    if wanted is None and isinstance(scoring, dict):
        wanted = next((f"test_{k}" for k, v in scoring.items() if v == metric), None)
    column = wanted or ("test_score" if "test_score" in result else keys[0] if keys else None)
    if column is None:
        return None
    scores = [float(v) for v in np.asarray(result[column]).ravel()]
    finite = [v for v in scores if np.isfinite(v)]
    return {"name": name, "estimator": f"{described}, {_CV_SOURCE}",
            "scores": [v if np.isfinite(v) else None for v in scores],
            "mean": float(np.mean(finite)) if finite else None,
            "std": float(np.std(finite)) if finite else None}
