"""Capture: small, independent capturers that watch a plain script from the inside.

Each capturer names the module that triggers it. It installs itself only when the
script imports that module (a post-import hook), so a script that never imports
Keras never pays TensorFlow's start-up. A capturer that raises is recorded as a
warning in ``run.json`` and never breaks the user's script.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import traceback
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Protocol

from portfolio.recorder import Recorder
from portfolio.results import CAPTURE_ERRORS


class Capturer(Protocol):
    """A capturer: ``install`` when its trigger is imported, ``finish`` once the script has
    ended. One that records everything as it happens subclasses this for a ``finish`` that
    does nothing."""

    name: str
    trigger: str  # the module whose import installs this capturer

    def install(self, rec: Recorder) -> None: ...

    def finish(self, rec: Recorder) -> None:
        """Record what can be known only once the script has ended; nothing by default."""


def all_capturers() -> list[Capturer]:
    """The built-in capturers, in the order they finish (figures before the curve)."""
    from portfolio.capture.figures import FigureCapture
    from portfolio.capture.keras_data import KerasDirectoryCapture
    from portfolio.capture.keras_extras import KerasExtrasCapture
    from portfolio.capture.keras_fit import KerasCapture
    from portfolio.capture.sklearn_capture import (
        SklearnInspectionCapture,
        SklearnMetricsCapture,
        SklearnSelectionCapture,
    )
    from portfolio.capture.sklearn_models import SklearnEstimatorCapture
    from portfolio.capture.sklearn_progress import SklearnProgressCapture

    return [FigureCapture(), KerasCapture(), KerasExtrasCapture(), KerasDirectoryCapture(),
            SklearnEstimatorCapture(),
            SklearnSelectionCapture(), SklearnProgressCapture(), SklearnMetricsCapture(),
            SklearnInspectionCapture()]





def guarded(rec: Recorder, what: str, action: Callable[[], object]) -> None:
    """Run ``action``; on failure record a warning instead of breaking the script.

    Nothing of capture reaches the script's output, which is its published log: the
    warning goes to ``run.json``, the traceback to ``capture-errors.txt``, and warnings
    that capture's own code raises are silenced.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            action()
    except Exception as exc:
        rec.warn(f"{what}: {type(exc).__name__}: {exc}")
        with (rec.out / CAPTURE_ERRORS).open("a", encoding="utf-8") as fh:
            fh.write(f"{what}\n{traceback.format_exc()}\n")


class _HookedLoader(importlib.abc.Loader):
    """Wraps a real loader and runs callbacks once the module has executed."""

    def __init__(self, loader: importlib.abc.Loader, name: str, finder: PostImportFinder):
        self._loader = loader
        self._name = name
        self._finder = finder

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        for callback in self._finder.take(self._name):
            callback()

    def __getattr__(self, name: str) -> object:  # get_resource_reader, is_package, ...
        return getattr(self._loader, name)


class PostImportFinder(importlib.abc.MetaPathFinder):
    """Calls a callback right after a watched module is first imported."""

    def __init__(self) -> None:
        self._hooks: dict[str, list[Callable[[], None]]] = {}
        self._busy: set[str] = set()

    def watch(self, module: str, callback: Callable[[], None]) -> None:
        if module in sys.modules:
            callback()
        else:
            self._hooks.setdefault(module, []).append(callback)

    def take(self, module: str) -> list[Callable[[], None]]:
        """The callbacks for ``module``, handed out once: a module is imported once."""
        return self._hooks.pop(module, [])

    def find_spec(self, fullname, path, target=None):  # type: ignore[no-untyped-def]
        if fullname not in self._hooks or fullname in self._busy:
            return None
        self._busy.add(fullname)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self._busy.discard(fullname)
        if spec is None or spec.loader is None:
            return None
        # Do not consume the hooks here: libraries probe with find_spec without importing
        # (TensorFlow does so for keras); the callbacks run when the module executes.
        spec.loader = _HookedLoader(spec.loader, fullname, self)
        return spec


def install_all(rec: Recorder, capturers: list[Capturer]) -> PostImportFinder:
    finder = PostImportFinder()
    sys.meta_path.insert(0, finder)
    for capturer in capturers:
        finder.watch(capturer.trigger,
                     lambda c=capturer: guarded(rec, f"{c.name} capture", lambda: c.install(rec)))
    return finder
