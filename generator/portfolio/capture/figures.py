"""Matplotlib capture: every figure shown, saved, or left open at exit lands in figures/.

``plt.show()`` saves and closes the open figures instead of blocking; ``savefig``
still writes where the script asked, and a copy goes to the results.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from portfolio.runtime import Recorder

_DPI = 110


def title_of(fig: Any) -> str:
    """The figure's suptitle, else its first axes title, else ''."""
    if getattr(fig, "_suptitle", None) is not None and fig._suptitle.get_text():
        return fig._suptitle.get_text()
    for ax in fig.get_axes():
        if ax.get_title():
            return ax.get_title()
    return ""


def save(rec: Recorder, fig: Any, caption: str = "", source: str = "plt.show") -> None:
    """Save ``fig`` as a PNG in the results and record it once."""
    if id(fig) in rec.seen_figures and source != "portfolio.figure":
        return
    rec.seen_figures.add(id(fig))
    title = title_of(fig)
    path = rec.figure_path(caption or title)
    save_png(fig, path)
    rec.add_figure(path, caption or title, source)


def save_png(fig: Any, path: Path) -> None:
    """Write ``fig`` with matplotlib's own savefig, bypassing our capture of it."""
    from matplotlib.figure import Figure

    original = getattr(Figure.savefig, "__wrapped__", Figure.savefig)
    original(fig, path, dpi=_DPI, bbox_inches="tight")


class FigureCapture:
    name = "matplotlib"
    trigger = "matplotlib.pyplot"

    def install(self, rec: Recorder) -> None:
        import functools

        import matplotlib.pyplot as plt
        from matplotlib.figure import Figure

        original_savefig = Figure.savefig

        @functools.wraps(original_savefig)
        def savefig(fig: Figure, fname: Any, *args: Any, **kwargs: Any) -> Any:
            result = original_savefig(fig, fname, *args, **kwargs)
            if isinstance(fname, str | os.PathLike):
                rec.add_output(Path(fname))
            save(rec, fig, source="savefig")
            return result

        def show(*args: Any, **kwargs: Any) -> None:
            for number in plt.get_fignums():
                save(rec, plt.figure(number), source="plt.show")
            plt.close("all")

        Figure.savefig = savefig  # type: ignore[method-assign]
        plt.show = show

    def finish(self, rec: Recorder) -> None:
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is None:
            return
        for number in plt.get_fignums():
            save(rec, plt.figure(number), source="open at exit")
        plt.close("all")
