"""portfolio: turn folders of Keras training scripts into a portfolio website.

A training script needs nothing from this package: ``portfolio build`` captures its
metrics, figures and model from the outside. For what cannot be captured (custom
training loops, other frameworks) a script may call the functions below. Each is a
no-op outside a ``portfolio`` run, so the script still runs on its own::

    import portfolio

    portfolio.log_metric("test_rmse", rmse)
    portfolio.log_baseline("persistence", persistence_rmse, source="same test split")

Importing this module is cheap: it imports no Keras, TensorFlow or matplotlib.
"""

from __future__ import annotations

import sys
from typing import Any

__version__ = "0.1.0"
__all__ = ["figure", "log_baseline", "log_metric", "log_param", "note"]


def _active() -> Any:
    """The child's recorder during a ``portfolio`` run, else None. The recorder module is
    loaded only in a child (``portfolio.child`` imports it first), never looked up here:
    the parent, and a script run on its own, never load it."""
    recorder = sys.modules.get("portfolio.recorder")
    return recorder.active() if recorder is not None else None


def log_metric(name: str, value: float) -> None:
    """Record a held-out result, for example ``log_metric("test_accuracy", 0.97)``."""
    if (rec := _active()) is not None:
        rec.log_metric(name, value)


def log_param(name: str, value: Any) -> None:
    """Record a hyper-parameter or setting, for example ``log_param("window", 12)``."""
    if (rec := _active()) is not None:
        plain = isinstance(value, int | float | str | bool)
        rec.params[str(name)] = value if plain else repr(value)


def log_baseline(name: str, value: float, source: str | None = None) -> None:
    """Record a score to compare against, for example a persistence forecast's RMSE."""
    if (rec := _active()) is not None:
        rec.log_baseline(name, value, source)


def figure(fig: Any, caption: str = "") -> None:
    """Save a matplotlib figure to the project page with a caption."""
    if (rec := _active()) is not None:
        from portfolio.capture import figures

        figures.save(rec, fig, caption=caption, source="portfolio.figure")


def note(markdown: str) -> None:
    """Add a paragraph of Markdown to the project page's results."""
    if (rec := _active()) is not None:
        rec.notes.append(str(markdown))
