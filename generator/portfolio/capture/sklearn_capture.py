"""scikit-learn capture: the Data, Evaluate and Improve steps, and held-out scores.

- ``train_test_split``: split sizes, shapes and, for labels, the class balance.
- ``cross_val_score`` / ``cross_validate``: a spot-check, with the estimator's readable
  name and every fold's score.
- ``GridSearchCV`` / ``RandomizedSearchCV.fit``: the search space, best parameters and
  the ranked configurations, for every scorer of a multi-metric search.
- ``accuracy_score``, ``mean_squared_error`` and friends, ``confusion_matrix`` and
  ``classification_report``: results; the ledger (``portfolio.provenance``) later places
  each on the data it was measured on, tracing ``y_pred`` back to the model that
  predicted it. A report or matrix yields accuracy and macro precision, recall and F1.

Only the outermost call is recorded: a search inside a cross-validation, or a score
computed inside a search, is sklearn's own business.
"""

from __future__ import annotations

import functools
from typing import Any

from portfolio.capture import Capturer, guarded
from portfolio.capture.baseline import cv_baseline
from portfolio.capture.naming import names
from portfolio.provenance import class_counts, looks_like_labels
from portfolio.recorder import Recorder, as_float

_SCORES = ("accuracy_score", "balanced_accuracy_score", "f1_score", "precision_score",
           "recall_score", "roc_auc_score", "log_loss", "mean_squared_error",
           "root_mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
           "r2_score")
_TOP_CONFIGURATIONS = 10


class _Nesting:
    """Counts how deep we are inside recorded scikit-learn calls; shared by both capturers.
    ``started`` is the log line the outermost call began after."""

    depth = 0
    started = 0


def _wrap(rec: Recorder, owner: Any, attribute: str, record: Any, before: Any = None) -> None:
    """Replace ``owner.attribute`` with a wrapper that records its outermost calls."""
    original = getattr(owner, attribute)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _Nesting.depth == 0:
            _Nesting.started = rec.log_line()
            if before is not None:
                before(args)
        _Nesting.depth += 1
        try:
            result = original(*args, **kwargs)
        finally:
            _Nesting.depth -= 1
        if _Nesting.depth == 0:
            guarded(rec, f"{attribute} capture", lambda: record(result, args, kwargs))
        return result

    setattr(owner, attribute, wrapper)


class SklearnSelectionCapture(Capturer):
    """Splits, cross-validation and hyper-parameter searches."""

    name = "scikit-learn model selection"
    trigger = "sklearn.model_selection"

    def install(self, rec: Recorder) -> None:
        import sklearn.model_selection as ms
        from sklearn.model_selection._search import BaseSearchCV

        _wrap(rec, ms, "train_test_split",
              lambda result, args, kwargs: _record_split(rec, args, kwargs, result))
        for function in ("cross_val_score", "cross_validate"):
            _wrap(rec, ms, function, lambda result, args, kwargs, f=function:
                  _record_cv(rec, f, args, kwargs, result))
        _wrap(rec, BaseSearchCV, "fit",
              lambda result, args, kwargs: _record_search(rec, args[0], args, kwargs),
              before=(lambda args: _first_candidate_only(args[0])) if rec.smoke else None)
        # Helpers that fit and score clones on folds: their inner fits and scores are
        # scikit-learn's business, not the script's results.
        for helper in ("learning_curve", "validation_curve", "permutation_test_score"):
            if hasattr(ms, helper):
                _wrap(rec, ms, helper, lambda result, args, kwargs: None)
        # Out-of-fold predictions: a report on them is cross-validation, never held out.
        _wrap(rec, ms, "cross_val_predict", lambda result, args, kwargs:
              rec.ledger.predicted(None, "cross_val_predict", "sklearn", None, result))


class SklearnInspectionCapture(Capturer):
    """``permutation_importance`` and ``partial_dependence`` score and predict with a
    fitted model on shuffled copies of the data: not results of the script's own."""

    name = "scikit-learn inspection"
    trigger = "sklearn.inspection"

    def install(self, rec: Recorder) -> None:
        import sklearn.inspection as inspection

        for helper in ("permutation_importance", "partial_dependence"):
            if hasattr(inspection, helper):
                _wrap(rec, inspection, helper, lambda result, args, kwargs: None)


class SklearnMetricsCapture(Capturer):
    """Scores, confusion matrices and classification reports."""

    name = "scikit-learn metrics"
    trigger = "sklearn.metrics"

    def install(self, rec: Recorder) -> None:
        import sklearn.metrics

        for function in _SCORES:
            if hasattr(sklearn.metrics, function):
                _wrap(rec, sklearn.metrics, function, lambda result, args, kwargs, f=function:
                      _record_score(rec, f, args, kwargs, result))
        _wrap(rec, sklearn.metrics, "confusion_matrix",
              lambda result, args, kwargs: _record_confusion(rec, args, kwargs, result))
        _wrap(rec, sklearn.metrics, "classification_report",
              lambda result, args, kwargs: _record_report(rec, args, kwargs, result))
        display = sklearn.metrics.ConfusionMatrixDisplay
        original_init = display.__init__

        @functools.wraps(original_init)
        def init(self: Any, confusion_matrix: Any, *args: Any, **kwargs: Any) -> None:
            original_init(self, confusion_matrix, *args, **kwargs)
            guarded(rec, "class names", lambda: _class_names(rec, self.display_labels))

        display.__init__ = init


def _class_names(rec: Recorder, names: Any) -> None:
    """The names a script gave its classes (``display_labels``, ``target_names``, often a
    dataset's ``target_names``), in class order: the demo shows them for class indices."""
    if names is not None and len(names):
        rec.extra["_class_names"] = [str(name) for name in names]


def _first_candidate_only(search: Any) -> None:
    """Smoke mode: a search tries one configuration, enough to show the code path works."""
    from sklearn.model_selection import ParameterGrid

    if hasattr(search, "param_grid"):
        first = next(iter(ParameterGrid(search.param_grid)))
        search.param_grid = {key: [value] for key, value in first.items()}
    if hasattr(search, "n_iter"):
        search.n_iter = 1


def _shape(value: Any) -> list[int] | None:
    shape = getattr(value, "shape", None)
    if shape is not None:
        return [int(n) for n in shape]
    return [len(value)] if hasattr(value, "__len__") else None


def _record_split(rec: Recorder, args: tuple, kwargs: dict, result: list) -> None:
    import numpy as np

    arrays = len(result) // 2
    split: dict[str, Any] = {
        "index": len(rec.splits),
        "kind": "train_test_split",
        "train_size": len(result[0]),
        "test_size": len(result[1]),
        "shapes": [{"train": _shape(result[2 * i]), "test": _shape(result[2 * i + 1])}
                   for i in range(arrays)],
        "test_fraction": kwargs.get("test_size"),
        "stratified": kwargs.get("stratify") is not None,
        "shuffled": kwargs.get("shuffle", True),
        "random_state": as_float(kwargs.get("random_state")),
    }
    if arrays >= 2:
        y_train, y_test = np.asarray(result[-2]), np.asarray(result[-1])
        if y_train.ndim == 1 and looks_like_labels(y_train):
            split["class_balance"] = {
                "train": class_counts(y_train), "test": class_counts(y_test)}
    rec.ledger.split(split["index"], list(result))
    rec.splits.append(split)


def _record_cv(rec: Recorder, function: str, args: tuple, kwargs: dict, result: Any) -> None:
    import numpy as np

    estimator = args[0] if args else kwargs.get("estimator")
    scoring = kwargs.get("scoring")
    per_scorer: dict[str, list[float]] = {}
    if function == "cross_validate":  # test_score, or test_<name> for each of several scorers
        per_scorer = {key.removeprefix("test_"): [float(s) for s in np.asarray(v).ravel()]
                      for key, v in result.items() if key.startswith("test_")}
        scores = per_scorer.get("score") or next(iter(per_scorer.values()), [])
    else:
        scores = [float(s) for s in np.asarray(result).ravel()]
    check: dict[str, Any] = {
        "index": len(rec.spot_checks),
        **names(estimator, depth=4),
        "estimator": type(estimator).__name__,
        "scoring": scoring if isinstance(scoring, str) else ("default" if scoring is None
                                                             else repr(scoring)),
        "metric": _scored_metric(estimator, scoring),
        "cv": repr(kwargs.get("cv", 5)),  # keyword-only in scikit-learn; None means 5
        "scores": scores,
        "mean": float(np.mean(scores)) if scores else None,
        "std": float(np.std(scores)) if scores else None,
        "log_line_start": _Nesting.started,
        "log_line": rec.log_line(),
    }
    if per_scorer and list(per_scorer) != ["score"]:
        first = next(iter(per_scorer))
        named = scoring.get(first) if isinstance(scoring, dict) else None
        check["metric"] = named if isinstance(named, str) else first
        check["scorers"] = [{"name": name, "scores": values,
                             "mean": float(np.mean(values)) if values else None,
                             "std": float(np.std(values)) if values else None}
                            for name, values in per_scorer.items()]
    _Nesting.depth += 1  # the dummy's own fits and scores are ours, not the script's
    try:
        check["baseline"] = cv_baseline(estimator, args, kwargs, check["metric"])
    finally:
        _Nesting.depth -= 1
    rec.spot_checks.append(check)


def _scored_metric(estimator: Any, scoring: Any) -> str | None:
    """What the scores measure: the named scorer, or the estimator's own ``score``
    (accuracy for a classifier, R² for a regressor). None for a callable scorer."""
    if isinstance(scoring, str):
        return scoring
    if scoring is not None:
        return None
    from sklearn.base import is_classifier, is_regressor

    return "accuracy" if is_classifier(estimator) else "r2" if is_regressor(estimator) else None


def _record_search(rec: Recorder, search: Any, args: tuple, kwargs: dict) -> None:
    label = names(search.estimator, depth=4)["name"]
    x = args[1] if len(args) > 1 else kwargs.get("X")
    y = args[2] if len(args) > 2 else kwargs.get("y")
    rec.ledger.trained(search, label, "sklearn", x, y)  # what the refitted model saw
    space = getattr(search, "param_grid", None) or getattr(search, "param_distributions", None)
    results = search.cv_results_
    # One scorer ranks as rank_test_score; several as rank_test_<name>, one of which (or
    # a callable, or nothing) chose the refitted model.
    scorers = [key.removeprefix("rank_test_") for key in results
               if key.startswith("rank_test_")]
    refit = search.refit
    chooser = refit if isinstance(refit, str) and refit in scorers else scorers[0]
    best_index = getattr(search, "best_index_", None)
    best_params = (search.best_params_ if hasattr(search, "best_params_") else
                   results["params"][best_index] if best_index is not None else {})
    multi = scorers != ["score"]
    entry: dict[str, Any] = {
        "index": len(rec.searches),
        "kind": type(search).__name__,
        "estimator": label,
        "space": _plain_space(space),
        "scoring": (search.scoring if isinstance(search.scoring, str) else
                    ", ".join(scorers) if multi else "default"),
        "candidates": len(results["params"]),
        "best_params": {k: _plain(v) for k, v in best_params.items()},
        "best_score": as_float(getattr(search, "best_score_", None)),
        "best_index": int(best_index) if best_index is not None else None,
        "top": _ranking(results, chooser)["top"],
        "log_line_start": _Nesting.started,
        "log_line": rec.log_line(),
    }
    if multi:
        entry["refit"] = (f"callable {getattr(refit, '__name__', type(refit).__name__)}"
                          if callable(refit) else refit if isinstance(refit, str) else None)
        entry["ranked_by"] = chooser
        entry["scorers"] = [{"name": name, "refit": name == refit, **_ranking(results, name)}
                            for name in scorers]
    rec.searches.append(entry)


def _ranking(results: dict[str, Any], scorer: str) -> dict[str, Any]:
    """One scorer's best mean and its top configurations, best first."""
    import numpy as np

    ranks = results[f"rank_test_{scorer}"]
    order = np.argsort(ranks, kind="stable")[:_TOP_CONFIGURATIONS]
    means, stds = results[f"mean_test_{scorer}"], results[f"std_test_{scorer}"]
    return {"best_mean": as_float(means[order[0]]) if len(order) else None,
            "top": [{"rank": int(ranks[i]),
                     "params": {k: _plain(v) for k, v in results["params"][i].items()},
                     "mean": as_float(means[i]), "std": as_float(stds[i])} for i in order]}


def _plain_space(space: Any) -> Any:
    if isinstance(space, dict):
        return {k: [_plain(v) for v in values] if isinstance(values, list | tuple)
                else repr(values) for k, values in space.items()}
    if isinstance(space, list):
        return [_plain_space(s) for s in space]
    return repr(space)


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    number = as_float(value)
    return number if number is not None and not hasattr(value, "fit") else repr(value)


_NAMES = {"accuracy_score": "accuracy", "balanced_accuracy_score": "balanced_accuracy",
          "f1_score": "f1", "precision_score": "precision", "recall_score": "recall",
          "roc_auc_score": "roc_auc", "log_loss": "log_loss", "mean_squared_error": "mse",
          "root_mean_squared_error": "rmse", "mean_absolute_error": "mae",
          "mean_absolute_percentage_error": "mape", "r2_score": "r2"}


def _truth_and_prediction(args: tuple, kwargs: dict) -> tuple[Any, Any]:
    y_true = args[0] if args else kwargs.get("y_true")
    y_pred = args[1] if len(args) > 1 else kwargs.get("y_pred", kwargs.get("y_score",
                                                                           kwargs.get("y_prob")))
    return y_true, y_pred


def _record_score(rec: Recorder, function: str, args: tuple, kwargs: dict, result: Any) -> None:
    value = as_float(result)
    y_true, y_pred = _truth_and_prediction(args, kwargs)
    if value is None or y_true is None:
        return
    entry = rec.add_result(_NAMES[function], value, f"sklearn.metrics.{function}")
    rec.ledger.scored([entry], y=y_true, y_pred=y_pred)


def _summary_results(rec: Recorder, y_true: Any, y_pred: Any, source: str) -> list[dict]:
    """Accuracy and macro precision, recall and F1 of labels a report or matrix was
    drawn from: a script that prints only a classification report still has a result."""
    from sklearn import metrics

    _Nesting.depth += 1  # our own scoring is not the script's
    try:
        scores = {
            "accuracy": metrics.accuracy_score(y_true, y_pred),
            "precision": metrics.precision_score(y_true, y_pred, average="macro",
                                                 zero_division=0),
            "recall": metrics.recall_score(y_true, y_pred, average="macro", zero_division=0),
            "f1": metrics.f1_score(y_true, y_pred, average="macro", zero_division=0),
        }
    finally:
        _Nesting.depth -= 1
    entries = []
    for name, value in scores.items():
        if any(r["name"] == name and r["value"] == float(value) for r in rec.results):
            continue  # the script measured it already (accuracy_score on the same labels)
        entry = rec.add_result(name, float(value), source)
        entry["average"] = "macro" if name != "accuracy" else None
        entries.append(entry)
    return entries


def _record_confusion(rec: Recorder, args: tuple, kwargs: dict, result: Any) -> None:
    import numpy as np

    y_true, y_pred = _truth_and_prediction(args, kwargs)
    labels = kwargs.get("labels")
    if labels is None:
        labels = np.unique(np.concatenate([np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()]))
    entry = {"labels": [str(v) for v in labels], "matrix": np.asarray(result).tolist(),
             "split": "unknown"}
    rec.confusion_matrices.append(entry)
    results = _summary_results(rec, y_true, y_pred, "sklearn.metrics.confusion_matrix")
    rec.ledger.scored([entry, *results], y=y_true, y_pred=y_pred)


def _record_report(rec: Recorder, args: tuple, kwargs: dict, result: Any) -> None:
    from sklearn import metrics

    y_true, y_pred = _truth_and_prediction(args, kwargs)
    _class_names(rec, kwargs.get("target_names"))
    entry: dict[str, Any] = {"split": "unknown"}
    if isinstance(result, dict):
        entry["table"] = result
    else:
        entry["text"] = str(result)
        _Nesting.depth += 1
        try:
            names = kwargs.get("target_names")
            table = metrics.classification_report(
                y_true, y_pred, output_dict=True, zero_division=0,
                labels=kwargs.get("labels"),
                target_names=list(names) if names is not None else None)
        finally:
            _Nesting.depth -= 1
        entry["table"] = _plain_table(table)
    rec.reports.append(entry)
    results = _summary_results(rec, y_true, y_pred, "sklearn.metrics.classification_report")
    rec.ledger.scored([entry, *results], y=y_true, y_pred=y_pred)


def _plain_table(table: dict) -> dict:
    """A report's per-class rows as plain floats (JSON has no NumPy numbers)."""
    return {str(k): ({m: float(v) for m, v in row.items()} if isinstance(row, dict)
                     else float(row)) for k, row in table.items()}
