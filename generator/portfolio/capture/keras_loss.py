"""The metric a Keras model's loss is, when it is one.

``model.compile(loss="mean_absolute_error")`` followed by ``model.evaluate(x, y)``
returns one number, named ``loss`` by Keras: it is the test MAE. Named ``mae``, it is
compared with the mean predictor's MAE that capture computes for the split, and the
page says what was measured. It is the metric only when nothing else was added to it:
a regularization penalty, a loss weight, label smoothing, a non-default ``delta``, a
sum instead of a mean, several outputs, or sample weights all make ``loss`` another
number, and then it stays ``loss``.
"""

from __future__ import annotations

import inspect
from typing import Any

from portfolio.metricnames import canonical

# Keras' loss functions (by ``__name__``) whose value is a metric of their own.
_METRICS = ("mean_absolute_error", "mean_squared_error", "mean_absolute_percentage_error",
            "binary_crossentropy", "categorical_crossentropy",
            "sparse_categorical_crossentropy", "huber")
# Arguments that change how a loss reads its inputs, not what it measures: a cross-entropy
# from logits is the cross-entropy of the probabilities they stand for.
_FREE_ARGUMENTS = ("from_logits", "axis")
# A loss averaged over the samples of a batch, as the metric is (Keras 2 says "auto").
_MEAN_REDUCTIONS = ("sum_over_batch_size", "auto")


def loss_metric(model: Any) -> str | None:
    """The canonical metric (``mae``, ``mse``, ``binary_crossentropy``...) the ``loss``
    that ``model`` reports is, else None."""
    import keras

    function, arguments = _function_of(keras, getattr(model, "loss", None))
    if function is None or function.__name__ not in _METRICS:
        return None
    if not _defaults(function, arguments) or not _plain_model(model):
        return None
    return canonical(function.__name__)


def _function_of(keras: Any, loss: Any) -> tuple[Any, dict[str, Any]]:
    """Keras' loss function behind what ``compile`` was given (a name, a ``Loss`` object,
    a function) and the arguments it is called with; (None, {}) for anything else: a
    dict or list (several outputs), a function of the script's own."""
    if isinstance(loss, str):
        try:
            loss = keras.losses.get(loss)
        except (ValueError, TypeError):
            return None, {}
    if isinstance(loss, keras.losses.Loss):
        arguments = getattr(loss, "_fn_kwargs", None)  # LossFunctionWrapper keeps them here
        if getattr(loss, "reduction", None) not in _MEAN_REDUCTIONS or arguments is None:
            return None, {}
        return getattr(loss, "fn", None), dict(arguments)
    if inspect.isfunction(loss) and loss.__module__.split(".")[0] in ("keras", "tf_keras"):
        return loss, {}
    return None, {}


def _defaults(function: Any, arguments: dict[str, Any]) -> bool:
    """Every argument that changes the value (``label_smoothing``, ``delta``) is its
    default: ``Huber(delta=2.0)`` is another measure than ``huber``."""
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
    return all(name in _FREE_ARGUMENTS or (name in parameters
                                           and parameters[name].default == value)
               for name, value in arguments.items())


def _plain_model(model: Any) -> bool:
    """One output, no loss weight and no penalty added to the loss (``model.losses`` holds
    the regularizers' terms): the reported loss is the loss function's mean alone."""
    if len(getattr(model, "outputs", None) or [None]) != 1 or list(model.losses):
        return False
    try:  # serializes the optimizer too: one of the script's own may refuse
        config = model.get_compile_config() if hasattr(model, "get_compile_config") else {}
    except Exception:  # unknown weights: the loss is not named, and that is no failure
        return False
    weights = (config or {}).get("loss_weights")
    if isinstance(weights, dict):
        weights = list(weights.values())
    return weights is None or all(float(w) == 1.0 for w in (
        weights if isinstance(weights, list | tuple) else [weights]))


def name_the_loss(entries: list[dict[str, Any]], metric: str | None) -> None:
    """Name the ``loss`` result of one ``evaluate`` call by the metric it is, unless the
    call measured that metric as well (``metrics=["mae"]`` with ``loss="mae"``): the
    raw name stays ``loss``, so a printed "Test loss: 2.17" still finds it."""
    results = [e for e in entries if "raw_name" in e]  # the first entry is the evaluation
    if metric is None or any(r["name"] == metric for r in results):
        return
    for result in results:
        if result["raw_name"] == "loss":
            result["name"] = metric
