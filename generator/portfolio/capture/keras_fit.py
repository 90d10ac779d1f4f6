"""Keras capture: fit history, evaluate results, saved models, the architecture.

Installed when the script imports ``keras`` (TensorFlow's ``tf.keras`` imports it
too). ``fit`` gets an extra callback on a copy of the user's callbacks list, and the
ledger learns which data the model was fitted on; ``evaluate`` outside ``fit`` is a
result whose data the ledger places later (``fit`` runs its validation through
``evaluate``, hence the reentrancy guard: that is validation, never a result), and its
``loss`` is named by the metric the compiled loss is (``mae`` for
``loss="mean_absolute_error"``: :mod:`~portfolio.capture.keras_loss`); ``predict``
outputs are remembered so a scikit-learn metric on them is traced back to this model;
``save`` is recorded so the model the script saved is the one published.
"""

from __future__ import annotations

import functools
import inspect
import io
import math
import time
from pathlib import Path
from typing import Any

from portfolio.capture import datasets, guarded, keras_extras, keras_loss
from portfolio.capture.naming import model_name
from portfolio.recorder import Recorder, as_float
from portfolio.results import SAVED_MODEL

_SMOKE_STEPS = 2
# The live progress line shows these, when the epoch logs have them.
_SHOWN = ("loss", "val_loss", "accuracy", "val_accuracy", "rmse", "val_rmse", "mae", "val_mae")
_FIT_PARAMS = ("batch_size", "epochs", "validation_split", "initial_epoch", "shuffle",
               "steps_per_epoch", "validation_steps")


class KerasCapture:
    name = "keras"
    trigger = "keras"

    def __init__(self) -> None:
        self._in_fit = 0
        self._last_fitted: Any = None
        self._original_save: Any = None

    def install(self, rec: Recorder) -> None:
        import keras

        keras.utils.set_random_seed(rec.seed)
        model_cls = keras.Model
        original_fit, original_evaluate = model_cls.fit, model_cls.evaluate
        original_predict = model_cls.predict
        self._original_save = original_save = model_cls.save
        fit_signature = inspect.signature(original_fit)
        evaluate_signature = inspect.signature(original_evaluate)
        capture = self

        class EpochRecorder(keras.callbacks.Callback):
            def __init__(self, segment: dict[str, Any]) -> None:
                super().__init__()
                self.segment = segment

            def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
                rec.add_epoch(self.segment, epoch, logs or {})
                self.segment.setdefault("epoch_ended_at", []).append(time.time())
                loss = as_float((logs or {}).get("loss"))
                if loss is not None and not math.isfinite(loss) and rec.diverged is None:
                    # A NaN loss never recovers: stop, and say where it happened.
                    rec.diverged = {"epoch": epoch + 1, "metric": "loss", "value": str(loss)}
                    self.model.stop_training = True
                shown = {k: as_float(v) for k, v in (logs or {}).items() if k in _SHOWN}
                rec.progress(event="epoch", epoch=epoch + 1,
                             epochs=self.params.get("epochs") if self.params else None, **shown)

        class TestRecorder(keras.callbacks.Callback):
            def __init__(self) -> None:
                super().__init__()
                self.entries: list[dict[str, Any]] = []

            def on_test_end(self, logs: dict[str, Any] | None = None) -> None:
                self.entries = rec.add_evaluation(logs or {})

        @functools.wraps(original_fit)
        def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                bound = fit_signature.bind(self, *args, **kwargs)
            except TypeError:  # let Keras report the bad call in its own words
                return original_fit(self, *args, **kwargs)
            params = {k: _plain(bound.arguments[k]) for k in _FIT_PARAMS if k in bound.arguments}
            segment = rec.begin_fit(params, id(self), model_name(rec, self))
            if rec.smoke:  # one short epoch proves the script runs end to end
                bound.arguments.update(epochs=1, initial_epoch=0, steps_per_epoch=_SMOKE_STEPS)
                if "validation_data" in bound.arguments or "validation_split" in bound.arguments:
                    bound.arguments["validation_steps"] = 1
            theirs = list(bound.arguments.get("callbacks") or [])  # a copy: never mutate theirs
            bound.arguments["callbacks"] = [*theirs, EpochRecorder(segment)]
            capture._in_fit += 1
            try:
                return original_fit(*bound.args, **bound.kwargs)
            finally:
                capture._in_fit -= 1
                capture._last_fitted = self
                guarded(rec, "fit details", lambda: _describe_fit(segment, self, theirs))
                guarded(rec, "fit data", lambda: _record_training(rec, self, bound.arguments))

        @functools.wraps(original_evaluate)
        def evaluate(self: Any, *args: Any, **kwargs: Any) -> Any:
            if capture._in_fit:  # fit's own validation pass, not a test result
                return original_evaluate(self, *args, **kwargs)
            bound = evaluate_signature.bind(self, *args, **kwargs)
            if rec.smoke:
                bound.arguments["steps"] = _SMOKE_STEPS
            given, recorder = bound.arguments.get("callbacks"), TestRecorder()
            if isinstance(given, keras.callbacks.CallbackList):
                given.append(recorder)
            else:
                bound.arguments["callbacks"] = [*(given or []), recorder]
            result = original_evaluate(*bound.args, **bound.kwargs)
            guarded(rec, "naming the loss", lambda: keras_loss.name_the_loss(
                recorder.entries, _evaluated_loss(self, bound.arguments)))
            guarded(rec, "evaluate data", lambda: _record_scoring(
                rec, self, recorder.entries, bound.arguments))
            return result

        @functools.wraps(original_predict)
        def predict(self: Any, x: Any = None, *args: Any, **kwargs: Any) -> Any:
            output = original_predict(self, x, *args, **kwargs)
            if not capture._in_fit:
                guarded(rec, "predict data",
                        lambda: rec.ledger.predicted(self, model_name(rec, self), "keras", x,
                                                     output))
            return output

        @functools.wraps(original_save)
        def save(self: Any, filepath: Any, *args: Any, **kwargs: Any) -> Any:
            result = original_save(self, filepath, *args, **kwargs)
            if isinstance(filepath, str | Path):
                path = Path(filepath).resolve()
                if not capture._in_fit:  # a ModelCheckpoint's file is published only if reloaded
                    rec.saved_models.append(str(path))
                rec.add_output(path)
            return result

        model_cls.fit, model_cls.evaluate, model_cls.save = fit, evaluate, save
        model_cls.predict = predict

    def finish(self, rec: Recorder) -> None:
        reloaded = keras_extras.reloaded_model(rec)  # a checkpoint reloaded to be evaluated
        model = self._last_fitted if reloaded is None else reloaded
        if model is None:
            return
        rec.extra["_published_model"] = model  # the demo exports it (capture/demo.py)
        guarded(rec, "model summary", lambda: self._summary(rec, model))
        if reloaded is not None:
            guarded(rec, "publishing the reloaded checkpoint",
                    lambda: keras_extras.publish_reloaded(rec, self._original_save))
        if rec.model_file is None:
            rec.adopt_saved_model()
        if rec.model_file is None:  # the script saved none: publish the last fitted model
            guarded(rec, "saving the fitted model",
                    lambda: self._original_save(model, str(rec.out / SAVED_MODEL)))
            if (rec.out / SAVED_MODEL).is_file():
                rec.model_file = SAVED_MODEL

    @staticmethod
    def _summary(rec: Recorder, model: Any) -> None:
        lines = io.StringIO()
        model.summary(print_fn=lambda text, *_, **__: lines.write(text + "\n"))
        rec.extra["architecture"] = {
            "name": model.name,
            "class": type(model).__name__,
            "layers": sorted({type(layer).__name__ for layer in _all_layers(model)}),
            "parameters": int(model.count_params()),
            "summary": lines.getvalue(),
            "optimizer": type(model.optimizer).__name__ if model.optimizer else None,
            "loss": _loss_name(getattr(model, "loss", None)),
        }


def _describe_fit(segment: dict[str, Any], model: Any, callbacks: list[Any]) -> None:
    """What the segment trained with: optimizer, loss, size, and what its callbacks did."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None:
        config = optimizer.get_config()
        segment["optimizer"] = {"class": type(optimizer).__name__,
                                "config": {k: _plain(v) for k, v in config.items()}}
    segment["loss"] = _loss_name(getattr(model, "loss", None))
    segment["parameters"] = int(model.count_params())
    segment["trainable_parameters"] = int(sum(int(w.numpy().size) for w in
                                              model.trainable_weights))
    segment["epochs_run"] = len(segment["epochs"])
    for callback in callbacks:
        kind = type(callback).__name__
        if kind == "EarlyStopping":
            segment["early_stopping"] = {
                "monitor": callback.monitor,
                "patience": callback.patience,
                # Keras counts stopped_epoch from 0 and leaves it 0 when it never stopped.
                "stopped_epoch": callback.stopped_epoch if callback.stopped_epoch else None,
                "best_epoch": getattr(callback, "best_epoch", None),
                "best": _plain(as_float(callback.best)),
                "restore_best_weights": bool(callback.restore_best_weights),
            }
        elif kind == "ModelCheckpoint":
            path = Path(str(callback.filepath))
            pattern = path.name.split("{")[0] if "{" in path.name else path.name
            files = sorted(str(p.resolve()) for p in path.parent.glob(pattern + "*")
                           if p.is_file())
            segment.setdefault("checkpoints", []).extend(files)


def _evaluated_loss(model: Any, arguments: dict[str, Any]) -> str | None:
    """The metric an ``evaluate`` call's ``loss`` is; None when sample weights weighed it
    (the baseline it is compared with weighs every sample alike)."""
    if arguments.get("sample_weight") is not None:
        return None
    return keras_loss.loss_metric(model)


def _record_training(rec: Recorder, model: Any, arguments: dict[str, Any]) -> None:
    validation, validation_y = arguments.get("validation_data"), None
    if isinstance(validation, tuple | list) and validation:
        validation, validation_y = validation[0], (validation[1] if len(validation) > 1
                                                   else None)
    elif validation is not None:  # a dataset of (inputs, labels): its labels, read once more
        validation_y = datasets.labels(validation, arguments.get("validation_steps"))
    split = as_float(arguments.get("validation_split"))
    rec.ledger.trained(model, model_name(rec, model), "keras", arguments.get("x"),
                       arguments.get("y"), validation=validation,
                       validation_split=split or None, validation_y=validation_y)


def _record_scoring(rec: Recorder, model: Any, entries: list[dict[str, Any]],
                    arguments: dict[str, Any]) -> None:
    """The data an ``evaluate`` call scored; a dataset's labels, counted by reading it
    once more, stand in for the targets the script did not pass."""
    x, y, labels_from = arguments.get("x"), arguments.get("y"), None
    if y is None and x is not None:
        y = datasets.labels(x, arguments.get("steps"))
        labels_from = "the labels the dataset streamed" if y is not None else None
    rec.ledger.scored(entries, model, model_name(rec, model), "keras", x, y,
                      labels_from=labels_from)


def _all_layers(model: Any) -> list[Any]:
    """Every layer, nested models included (a functional model may wrap a Sequential)."""
    found = []
    for layer in getattr(model, "layers", []):
        found.append(layer)
        if hasattr(layer, "layers"):
            found.extend(_all_layers(layer))
    return found


def _loss_name(loss: Any) -> Any:
    """``"mean_absolute_error"`` for ``MeanAbsoluteError()`` too, not its repr (which
    names a wrapper and a memory address)."""
    name = getattr(loss, "name", None)
    return name if not isinstance(loss, str) and isinstance(name, str) else _plain(loss)


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return getattr(value, "__name__", None) or repr(value)
