"""scikit-learn progress: the fold of a cross-validation and the candidate of a search
being fitted (k of n), streamed to the parent's live display as they start.

scikit-learn fits folds and candidates as ``delayed(_fit_and_score)`` tasks that joblib
pulls one by one when it is ready to run them (one at a time with ``n_jobs=1``, a couple
ahead per worker otherwise). Wrapping ``delayed`` in the two modules that make those
tasks reports each one as it is dispatched, here, where the recorder is, whichever
backend runs it. A search's tasks carry their candidate and split numbers; a
cross-validation's do not, so ``cross_validate`` is wrapped to count its folds, n from
its splitter. This reaches into scikit-learn's private modules: when they are not as
expected nothing is installed, and the run goes on without this progress.
"""

from __future__ import annotations

import contextlib
import functools
import time
from typing import Any

from portfolio.capture import Capturer
from portfolio.recorder import Recorder

__all__ = ["SklearnProgressCapture"]


class SklearnProgressCapture(Capturer):
    """Reports 'fold k/n' of each cross-validation and 'candidate k/n, fold k/n' of each
    search; records nothing in ``run.json``."""

    name = "scikit-learn progress"
    trigger = "sklearn.model_selection"

    def install(self, rec: Recorder) -> None:
        import sklearn.model_selection as ms
        from sklearn.model_selection import _search, _validation

        task = getattr(_validation, "_fit_and_score", None)
        modules = (_validation, _search)
        if task is None or not all(getattr(m, "_fit_and_score", None) is task
                                   and callable(getattr(m, "delayed", None)) for m in modules):
            return  # another layout of scikit-learn: no progress, nothing broken
        progress = _Progress(rec, task)
        for module in modules:
            module.delayed = progress.reporting(module.delayed)
        # cross_val_score calls the module's cross_validate; a script calls the package's
        # (which the selection capturer may have wrapped already): both count folds.
        original = _validation.cross_validate
        counting = progress.counting(original)
        ms.cross_validate = counting if ms.cross_validate is original else progress.counting(
            ms.cross_validate)
        _validation.cross_validate = counting


class _Progress:
    """The folds counted so far of each cross-validation under way (the innermost last),
    and when the last event was written."""

    # The first fold of each search or cross-validation is always said, then a few a
    # second: folds of small data take milliseconds, and the display shows the latest.
    EVERY_S = 0.25

    def __init__(self, rec: Recorder, task: Any) -> None:
        self.rec, self.task = rec, task
        self.folds: list[list[Any]] = []  # [started, n or None]
        self.last = 0.0

    def reporting(self, delayed: Any) -> Any:
        """``delayed`` whose calls of the task report their fold or candidate when joblib
        takes them; every other function's are left as they were."""

        @functools.wraps(delayed)
        def reporting_delayed(function: Any) -> Any:
            made = delayed(function)
            if function is not self.task:
                return made

            @functools.wraps(made)
            def dispatched(*args: Any, **kwargs: Any) -> Any:
                self.report(kwargs)
                return made(*args, **kwargs)

            return dispatched

        return reporting_delayed

    def counting(self, cross_validate: Any) -> Any:
        """``cross_validate`` that counts its folds, for the tasks to say k of n."""

        @functools.wraps(cross_validate)
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.folds.append([0, _n_folds(args, kwargs)])
            try:
                return cross_validate(*args, **kwargs)
            finally:
                self.folds.pop()

        return counted

    def report(self, kwargs: dict[str, Any]) -> None:
        """Say the fold (or candidate) a task of ``_fit_and_score(**kwargs)`` fits."""
        # Progress is a nicety: a failure to say it (a full disk) is never the script's.
        with contextlib.suppress(Exception):
            candidate, split = kwargs.get("candidate_progress"), kwargs.get("split_progress")
            if candidate and split:
                event = {"event": "candidate", "candidate": int(candidate[0]) + 1,
                         "candidates": int(candidate[1]), "fold": int(split[0]) + 1,
                         "folds": int(split[1])}
                first = event["candidate"] == event["fold"] == 1
            elif self.folds:
                self.folds[-1][0] += 1
                event = {"event": "fold", "fold": self.folds[-1][0],
                         "folds": self.folds[-1][1]}
                first = event["fold"] == 1
            else:
                return  # a learning or validation curve's folds: not counted
            now = time.monotonic()
            if first or now - self.last >= self.EVERY_S:
                self.last = now
                self.rec.progress(**event)


def _n_folds(args: tuple[Any, ...], kwargs: dict[str, Any]) -> int | None:
    """How many folds ``cross_validate(*args, **kwargs)`` will fit, asked of its splitter
    the way scikit-learn builds it; None when that cannot be known without consuming
    the script's own iterator of splits."""
    cv = kwargs.get("cv")
    if isinstance(cv, list | tuple):
        return len(cv)
    if not (cv is None or isinstance(cv, int) or hasattr(cv, "get_n_splits")):
        return None  # a generator of splits: counting it would use it up
    with contextlib.suppress(Exception):
        from sklearn.base import is_classifier
        from sklearn.model_selection import check_cv

        estimator = args[0] if args else kwargs.get("estimator")
        x = args[1] if len(args) > 1 else kwargs.get("X")
        y = args[2] if len(args) > 2 else kwargs.get("y")
        splitter = check_cv(cv, y, classifier=is_classifier(estimator))
        return int(splitter.get_n_splits(x, y, kwargs.get("groups")))
    return None
