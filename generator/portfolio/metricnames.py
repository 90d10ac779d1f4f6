"""Metric names: one canonical spelling for the many a script may use.

Keras says ``accuracy``, ``binary_accuracy`` or ``sparse_categorical_accuracy``; a
script prints ``Test accuracy`` or ``ACC``; scikit-learn calls it ``accuracy_score``.
Comparing a result with a baseline, or deciding that a printed number duplicates a
captured one, needs them to meet under one name.
"""

from __future__ import annotations

import re

_ALIASES = {
    "acc": "accuracy",
    "binary_accuracy": "accuracy",
    "categorical_accuracy": "accuracy",
    "sparse_categorical_accuracy": "accuracy",
    "accuracy_score": "accuracy",
    "root_mean_squared_error": "rmse",
    "mean_squared_error": "mse",
    "mean_absolute_error": "mae",
    "mean_absolute_percentage_error": "mape",
    "r2_score": "r2",
    "f1_score": "f1",
    "roc_auc_score": "roc_auc",
    "auc": "roc_auc",
    "precision_score": "precision",
    "recall_score": "recall",
    "balanced_accuracy_score": "balanced_accuracy",
    "log_loss": "log_loss",
    # A Keras loss that is a metric (capture/keras_loss.py): integer labels or one-hot
    # rows, the same cross-entropy, as sparse_categorical_accuracy is accuracy.
    "sparse_categorical_crossentropy": "categorical_crossentropy",
    "huber_loss": "huber",
}
# Words that say where a number was measured, not what it measures.
_QUALIFIERS = {"test", "testing", "final", "heldout", "holdout", "held", "out", "the", "on", "set"}
_LOWER_IS_BETTER = ("loss", "error", "mse", "mae", "rmse", "mape", "perplexity", "crossentropy",
                    "huber")
_FRACTION_METRICS = ("accuracy", "auc", "precision", "recall", "f1")


def canonical(name: str) -> str:
    """``'Test RMSE'`` → ``'rmse'``; ``'sparse_categorical_accuracy'`` → ``'accuracy'``."""
    words = [w for w in re.split(r"[^a-z0-9]+", name.lower()) if w and w not in _QUALIFIERS]
    joined = "_".join(words)
    return _ALIASES.get(joined, joined)


_KNOWN = ("accuracy", "auc", "precision", "recall", "f1", "r2", "mse", "rmse", "mae", "mape",
          "loss", "error", "crossentropy", "huber", "perplexity", "iou", "dice", "bleu",
          "rouge")


# Whole names to suggest from when a declared one is misspelled and there is no run yet.
KNOWN_NAMES = ("accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc", "r2",
               "mse", "rmse", "mae", "mape", "loss", "log_loss", "categorical_crossentropy",
               "binary_crossentropy", "huber", "perplexity", "iou", "dice", "bleu", "rouge")


def known_metric(name: str) -> bool:
    """A name whose meaning and direction are known: ``rmse``, ``val_accuracy``; not a
    bare ``score`` or ``result``, which could be anything."""
    lowered = canonical(name)
    return any(token in lowered for token in _KNOWN)


def lower_is_better(name: str) -> bool:
    lowered = name.lower()
    return any(token in lowered for token in _LOWER_IS_BETTER)


def is_fraction_metric(name: str) -> bool:
    lowered = canonical(name)
    return any(token in lowered for token in _FRACTION_METRICS)
