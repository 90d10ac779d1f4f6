"""Keras extras: the architecture picture, and a checkpoint reloaded before evaluation.

- ``keras.utils.plot_model``: the image it draws becomes the page's architecture figure
  and the file it wrote an output of the run. Without pydot or Graphviz it returns None
  with a capture warning instead of failing the run (the model summary stands in).
- ``keras.models.load_model`` / ``keras.saving.load_model`` / ``Model.load_weights``
  after a fit: the run records which file, and which epoch of which ModelCheckpoint
  wrote it, so the model published is the one evaluated and the page can say so.

Installed with :class:`~portfolio.capture.keras_fit.KerasCapture` when ``keras`` is
imported, before the script's own ``from keras.utils import plot_model`` runs.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
import weakref
from pathlib import Path
from typing import Any

from portfolio.capture import guarded
from portfolio.recorder import Recorder
from portfolio.results import SAVED_MODEL

ARCHITECTURE_CAPTION = "Model architecture (keras.utils.plot_model)"
NO_GRAPHVIZ = ("keras.utils.plot_model: Graphviz (the `dot` program) or pydot is missing, so "
               "no architecture picture was drawn; the model summary stands in for it "
               "(install Graphviz, e.g. `apt-get install graphviz`, and `pip install pydot`)")
_MODEL_FILES = (".keras", ".h5", ".hdf5")


class _Reload:
    """The last model loaded from a file after a fit (kept for the publishing step)."""

    model: Any = None
    path: Path | None = None
    whole_model = False  # load_model (a model file), not load_weights (weights into a model)
    after_fits = 0  # how many fit segments had run when it was loaded


def reloaded_model(rec: Recorder) -> Any:
    """The model the script loaded from a file after its last fit, else None: the model
    it then evaluated, so the one to publish."""
    if _Reload.model is None or _Reload.after_fits != len(rec.fits):
        return None
    return _Reload.model


def publish_reloaded(rec: Recorder, save: Any) -> None:
    """Publish the reloaded model: a copy of the file it came from, or (for weights loaded
    into a model) the model saved with Keras' own ``save``."""
    path = _Reload.path
    if _Reload.whole_model and path is not None and path.suffix in _MODEL_FILES \
            and path.is_file():
        suffix = ".keras" if path.suffix == ".keras" else ".h5"
        shutil.copyfile(path, rec.out / f"model{suffix}")
        rec.model_file = f"model{suffix}"
        return
    save(_Reload.model, str(rec.out / SAVED_MODEL))
    if (rec.out / SAVED_MODEL).is_file():
        rec.model_file = SAVED_MODEL


class KerasExtrasCapture:
    name = "keras plot_model and checkpoints"
    trigger = "keras"

    def __init__(self) -> None:
        self._loading = 0  # load_model may load weights itself: only the outer call counts
        self._checkpoints: weakref.WeakSet[Any] = weakref.WeakSet()

    def install(self, rec: Recorder) -> None:
        import keras
        from keras.src.saving import saving_api
        from keras.src.utils import model_visualization

        capture = self
        original_plot = model_visualization.plot_model
        original_load = saving_api.load_model
        original_load_weights = keras.Model.load_weights
        checkpoint_cls = keras.callbacks.ModelCheckpoint
        original_checkpoint_init = checkpoint_cls.__init__

        @functools.wraps(original_plot)
        def plot_model(model: Any, to_file: Any = "model.png", *args: Any, **kwargs: Any) -> Any:
            if not model_visualization.check_graphviz():
                rec.warn(NO_GRAPHVIZ)
                return None
            result = original_plot(model, to_file, *args, **kwargs)
            guarded(rec, "architecture figure", lambda: _record_architecture(
                rec, Path(str(to_file)), lambda target: original_plot(
                    model, str(target), *args, **kwargs)))
            return result

        @functools.wraps(original_load)
        def load_model(filepath: Any, *args: Any, **kwargs: Any) -> Any:
            capture._loading += 1
            try:
                model = original_load(filepath, *args, **kwargs)
            finally:
                capture._loading -= 1
            guarded(rec, "reloaded checkpoint", lambda: capture._loaded(
                rec, model, filepath, "keras.models.load_model"))
            return model

        @functools.wraps(original_load_weights)
        def load_weights(self: Any, filepath: Any, *args: Any, **kwargs: Any) -> Any:
            result = original_load_weights(self, filepath, *args, **kwargs)
            if not capture._loading:
                guarded(rec, "reloaded checkpoint", lambda: capture._loaded(
                    rec, self, filepath, "Model.load_weights"))
            return result

        @functools.wraps(original_checkpoint_init)
        def checkpoint_init(self: Any, *args: Any, **kwargs: Any) -> None:
            original_checkpoint_init(self, *args, **kwargs)
            capture._checkpoints.add(self)

        replace_everywhere(original_plot, plot_model)
        replace_everywhere(original_load, load_model)
        keras.Model.load_weights = load_weights
        checkpoint_cls.__init__ = checkpoint_init

    def finish(self, rec: Recorder) -> None:
        """Checkpoint files are outputs of the run, even those saved as weights only; a
        reloaded model trained further is no longer the checkpoint that was published."""
        for segment in rec.fits:
            for checkpoint in segment.get("checkpoints", []):
                rec.add_output(Path(checkpoint))
        if "loaded_checkpoint" in rec.extra:
            rec.extra["loaded_checkpoint"]["published"] = reloaded_model(rec) is not None

    def _loaded(self, rec: Recorder, model: Any, filepath: Any, how: str) -> None:
        if not rec.fits or not isinstance(filepath, str | os.PathLike):
            return  # a pretrained model loaded before any training is not a checkpoint
        if _inside_fit():
            return  # BackupAndRestore reloading its backup: a callback's business
        path = Path(filepath).resolve()
        _Reload.model, _Reload.path, _Reload.after_fits = model, path, len(rec.fits)
        _Reload.whole_model = how == "keras.models.load_model"
        epoch = _checkpoint_epoch(rec, path)
        callback = self._checkpoint_for(path)
        rec.extra["loaded_checkpoint"] = {
            "path": _shown(rec, path),
            "how": how,
            "epoch": epoch,
            "monitor": getattr(callback, "monitor", None),
            "save_best_only": bool(getattr(callback, "save_best_only", False)),
            "from_checkpoint": callback is not None,
        }
        # The reloaded weights were fitted on the last fitted model's data: its scores are
        # placed on that data (a best-on-validation checkpoint was chosen by its monitor).
        best = callback is not None and bool(getattr(callback, "save_best_only", False))
        rec.ledger.reload(model, getattr(callback, "monitor", None) if best else None)

    def _checkpoint_for(self, path: Path) -> Any:
        """The ModelCheckpoint that writes ``path`` (its file name, or its pattern)."""
        for callback in list(self._checkpoints):
            target = Path(str(callback.filepath)).resolve()
            if target == path or ("{" in target.name and target.parent == path.parent
                                  and path.name.startswith(target.name.split("{")[0])):
                return callback
        return None


def _checkpoint_epoch(rec: Recorder, path: Path) -> int | None:
    """The epoch (Keras' index, as in history.csv) whose end followed the file's last
    write: a checkpoint is written in ``on_epoch_end``, just before our own callback
    notes the time."""
    if not path.is_file():
        return None
    written = path.stat().st_mtime
    for segment in reversed(rec.fits):
        if str(path) not in segment.get("checkpoints", []):
            continue
        for row, ended in zip(segment["epochs"], segment.get("epoch_ended_at", []),
                              strict=False):
            if ended >= written:
                return int(row["epoch"])
        return None
    return None


def _inside_fit() -> bool:
    """Whether our ``Model.fit`` wrapper is on the stack."""
    frame = sys._getframe(1)
    while frame is not None:
        if (frame.f_code.co_name == "fit"
                and frame.f_globals.get("__name__") == "portfolio.capture.keras_fit"):
            return True
        frame = frame.f_back
    return False


def _shown(rec: Recorder, path: Path) -> str:
    """The path relative to the project folder when inside it (never the machine's layout)."""
    try:
        return path.relative_to(rec.project_dir.resolve()).as_posix()
    except ValueError:
        return path.name


def _record_architecture(rec: Recorder, written: Path, draw: Any) -> None:
    """Copy the picture plot_model wrote into figures/ (a PNG: drawn again when the
    script asked for another format) and note the file as an output of the run."""
    rec.add_output(written)
    target = rec.figure_path("architecture")
    if written.suffix.lower() == ".png" and written.is_file():
        shutil.copyfile(written, target)
    else:
        draw(target)
    rec.add_figure(target, ARCHITECTURE_CAPTION, "keras.utils.plot_model", kind="architecture")


def replace_everywhere(original: Any, replacement: Any) -> None:
    """Point every loaded Keras module's name for ``original`` at ``replacement``: Keras
    re-exports one function under several paths (``keras.utils``, ``keras.src.utils``)."""
    for name, module in list(sys.modules.items()):
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict) or not (name == "keras" or name.startswith("keras.")):
            continue
        for attribute, value in list(namespace.items()):
            if value is original:
                setattr(module, attribute, replacement)
