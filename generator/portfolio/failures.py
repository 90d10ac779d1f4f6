"""A run that did not end ok, in one line the user can act on: what went wrong and where
in the script (``train.py:35: AttributeError: ... Did you mean: 'evaluate'?``), where the
whole log is, and, when the training had finished before the failure, the quick way to
try a fix (a smoke run) instead of training it all again.

The build's status line and the command's closing error both say it.
"""

from __future__ import annotations

from pathlib import Path

from portfolio import results
from portfolio.errors import display
from portfolio.record import RunRecord

__all__ = ["summary", "trained_first"]


def summary(slug: str, status: str, error: str | None, folder: Path | None,
            record: RunRecord | None, smoke: bool) -> str:
    """The line for a run of ``slug`` that ended with ``status`` (not ok) and ``error``,
    kept in ``folder`` (``results/<slug>/failed``, or the smoke scratch folder; None when
    nothing was kept) with its ``record`` (None when it left none: a killed run). A smoke
    run gets no smoke advice: it was one already."""
    said = _first_line(error) or status
    if record is not None and record.error_at:
        said = f"{record.error_at}: {said}"
    notes = []
    if folder is not None and (folder / results.LOG).is_file():
        notes.append(f"log: {display(folder / results.LOG)}")
    if status == "failed" and not smoke and record is not None and trained_first(record):
        notes.append("it failed after training: check a fix in seconds with "
                     f"`portfolio build --smoke {slug}`")
    return f"{said} ({'; '.join(notes)})" if notes else said


def _first_line(error: str | None) -> str:
    """An error's first line (with '…' when more follows, in the log and on the page):
    Keras' messages go on with the call's arguments, and the summary is one line."""
    lines = [line.rstrip() for line in (error or "").splitlines() if line.strip()]
    return lines[0] + (" …" if len(lines) > 1 else "") if lines else ""


def trained_first(record: RunRecord) -> bool:
    """Whether the training had ended when the run failed: the last Keras ``fit`` ran all
    its epochs (or its early stopping ended it), or, without a fit, a search or a
    cross-validation finished (they are recorded when they end). A fit cut short by the
    error means the failure was inside training, where one smoke epoch may not reach."""
    if record.fits:
        last = record.fits[-1]
        if last.early_stopping is not None and last.early_stopping.stopped_epoch is not None:
            return True
        try:
            planned = int(last.params.get("epochs") or 1) - int(
                last.params.get("initial_epoch") or 0)
        except (TypeError, ValueError):  # an odd value recorded as its repr
            return False
        return bool(last.epochs) and len(last.epochs) >= planned
    return bool(record.searches or record.spot_checks)
