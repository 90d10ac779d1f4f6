"""The trivial baseline every result is compared with, computed for the user.

When the script split its data with ``train_test_split``, a model that predicts the
majority class (classification) or the training mean (regression) is fitted on the
training targets and scored on the test targets. A model that cannot beat it has
learned nothing worth showing, and its page says so.
"""

from __future__ import annotations

from typing import Any

from portfolio.capture.sklearn_capture import _looks_like_labels, _Nesting
from portfolio.runtime import Recorder


def _targets(y: Any) -> Any:
    import numpy as np

    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:  # one-hot labels
        return y.argmax(axis=1)
    return y.ravel() if y.ndim == 2 else y


def trivial_baseline(rec: Recorder) -> None:
    import numpy as np
    from sklearn import metrics
    from sklearn.dummy import DummyClassifier, DummyRegressor

    y_train, y_test = (_targets(y) for y in rec.split_arrays[0])
    no_features_train, no_features_test = np.zeros((len(y_train), 1)), np.zeros((len(y_test), 1))
    _Nesting.depth += 1  # our own scoring is not the script's result
    try:
        if _looks_like_labels(y_train):
            model = DummyClassifier(strategy="most_frequent").fit(no_features_train, y_train)
            predicted = model.predict(no_features_test)
            scores = {
                "accuracy": metrics.accuracy_score(y_test, predicted),
                "balanced_accuracy": metrics.balanced_accuracy_score(y_test, predicted),
                "f1": metrics.f1_score(y_test, predicted, average="macro", zero_division=0),
            }
            name = f"Majority class ({model.classes_[np.argmax(model.class_prior_)]})"
            estimator = "DummyClassifier(strategy='most_frequent')"
        elif np.issubdtype(y_train.dtype, np.number):
            model = DummyRegressor(strategy="mean").fit(no_features_train, y_train)
            predicted = model.predict(no_features_test)
            mse = metrics.mean_squared_error(y_test, predicted)
            scores = {"mse": mse, "rmse": float(np.sqrt(mse)),
                      "mae": metrics.mean_absolute_error(y_test, predicted),
                      "r2": metrics.r2_score(y_test, predicted)}
            name, estimator = "Mean of the training targets", "DummyRegressor(strategy='mean')"
        else:
            return
    finally:
        _Nesting.depth -= 1
    rec.trivial_baseline = {
        "name": name,
        "estimator": estimator,
        "metrics": {k: float(v) for k, v in scores.items()},
        "source": "fitted on the captured training split, scored on its test split",
        "train_size": len(y_train),
        "test_size": len(y_test),
    }
