"""Matplotlib capture: every figure shown, saved, or left open at exit lands in figures/.

``plt.show()`` saves and closes the open figures instead of blocking; ``savefig``
still writes where the script asked, and a copy goes to the results. A notebook's figures
still open when a cell ends are saved and closed then, as Jupyter's inline backend does
(:func:`close_open`). A figure without a title is captioned from its axes labels, or
else from the script line that showed, saved or created it; when that line is inside a
function, also from the user's line that called it, so three figures shown by one helper
read apart. A large figure (many panels, or big) gets a display-size PNG for the page and
a full-size one it links to. No PNG is saved over 4,000 px on its longer side: a figure
that would be is saved at a lower dpi, with a capture warning that says so.
"""

from __future__ import annotations

import linecache
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portfolio.recorder import Recorder

_DPI = 110
_FULL_DPI = 200  # the full-size image a large figure links to
_DISPLAY_WIDTH = 1000  # pixels: wider figures are drawn smaller on the page
_MANY_AXES = 3  # this many panels make a figure worth opening at full size
_LARGE_PIXELS = (1400, 1100)  # width, height at _DPI beyond which a figure is large
_ORIGIN = "_portfolio_origin"  # the attribute holding the script line that made a figure
# The longest side of a saved PNG: a figure drawn 182 inches wide was rendered 20,020 px
# wide, and the child grew to 22 GB. Past this, the figure is saved at a lower dpi.
MAX_SIDE_PX = 4000


def _join(parts: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``: distinct parts, in order."""
    unique = list(dict.fromkeys(p.strip() for p in parts if p.strip()))
    if len(unique) <= 1:
        return "".join(unique)
    return ", ".join(unique[:-1]) + " and " + unique[-1]


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] if text else ""


def _panels(fig: Any) -> list[Any]:
    """The figure's plotting axes: colorbars are not panels."""
    return [ax for ax in fig.get_axes() if ax.get_label() != "<colorbar>"]


def title_of(fig: Any) -> str:
    """The figure's suptitle, else its axes titles joined, else ''."""
    if fig.get_suptitle():
        return fig.get_suptitle()
    return _join([ax.get_title() for ax in _panels(fig)])


def caption_from_axes(fig: Any) -> str:
    """A caption from the axes labels: ``Loss against epoch``; panels that share the
    x label read ``Loss and accuracy against epoch``. '' when no axes is labelled."""
    pairs = [(ax.get_ylabel().strip(), ax.get_xlabel().strip()) for ax in _panels(fig)]
    pairs = [(y, x) for y, x in pairs if y or x]
    if not pairs:
        return ""
    xs = {x for _, x in pairs}
    if len(xs) == 1 and all(y for y, _ in pairs):
        x = xs.pop()
        ys = _join([y for y, _ in pairs])
        return _sentence(f"{ys} against {x}" if x else ys)
    return _sentence(_join([f"{y} against {x}" if y and x else y or x for y, x in pairs]))


@dataclass(frozen=True)
class Line:
    """A line of the user's code: ``train.py:12`` (a notebook's ``train.ipynb, cell 3:2``),
    its code, and when it is inside a function, that function and the user's line that
    called it (a helper's ``plt.show()`` is the same line for every figure it shows)."""

    place: str
    code: str
    function: str = ""
    caller: Line | None = None

    def __str__(self) -> str:
        return self.place + (f" ({self.code})" if self.code else "")


def _user_line(rec: Recorder, frame: Any) -> Line | None:
    """``frame`` as a :class:`Line` when it runs the user's code (a file of the project,
    or a notebook cell, whose name is ``train.ipynb, cell 3`` under the project)."""
    file = frame.f_code.co_filename
    if not file or file.startswith("<"):
        return None
    root = rec.project_dir.resolve()
    path = Path(file).resolve()
    if not path.is_relative_to(root):
        return None
    rel = path.relative_to(root)
    if any(p.startswith(".") or p == "site-packages" for p in rel.parts):
        return None
    code = linecache.getline(file, frame.f_lineno).strip()
    name = frame.f_code.co_name
    return Line(f"{rel.as_posix()}:{frame.f_lineno}", code,
                "" if name == "<module>" else name)


def _user_lines(rec: Recorder, frame: Any) -> Iterator[Line]:
    """The frames of the user's code from ``frame`` outwards."""
    while frame is not None:
        if (line := _user_line(rec, frame)) is not None:
            yield line
        frame = frame.f_back


def script_line(rec: Recorder) -> Line | None:
    """The innermost frame of the user's code on the stack, with, when it is inside a
    function, the next frame of the user's code out: the line that called the helper."""
    lines = _user_lines(rec, sys._getframe(1))
    line = next(lines, None)
    if line is None or not line.function:
        return line
    caller = next(lines, None)
    return Line(line.place, line.code, line.function,
                None if caller is None else Line(caller.place, caller.code))


_VERBS = {"plt.show": "shown", "savefig": "saved", "open at exit": "created",
          "end of cell": "drawn"}


def caption_from_line(where: Line | None, source: str) -> str:
    """``Figure shown at train.py:12 (plt.show())``; from inside a function, ``Figure
    shown at train.py:5 in plot_loss(), called from train.py:12 (plot_loss(small))``."""
    if where is None:
        return ""
    verb = _VERBS.get(source, "drawn")
    if where.caller is None:
        return f"Figure {verb} at {where}"
    return (f"Figure {verb} at {where.place} in {where.function}(), "
            f"called from {where.caller}")


def _told_apart(fig: Any, title: str, where: Line | None, source: str,
                taken: set[str]) -> str:
    """``title`` made distinct from the captions ``taken`` by earlier figures: first by
    the figure's other titles (its axes' under its suptitle), then by where it was shown
    from (the call site, when a helper showed it)."""
    if title not in taken:
        return title
    axes = _join([ax.get_title() for ax in _panels(fig)])
    if fig.get_suptitle() and axes and f"{title}: {axes}" not in taken:
        return f"{title}: {axes}"
    if where is None:
        return title
    return f"{title}, {_VERBS.get(source, 'drawn')} from {where.caller or where}"


def is_large(fig: Any) -> bool:
    """Several panels, or more pixels than the page shows: worth a full-size link."""
    width, height = fig.get_size_inches()
    return (len(_panels(fig)) >= _MANY_AXES or width * _DPI > _LARGE_PIXELS[0]
            or height * _DPI > _LARGE_PIXELS[1])


def save(rec: Recorder, fig: Any, caption: str = "", source: str = "plt.show",
         where: Line | None = None) -> None:
    """Save ``fig`` as a PNG in the results and record it once.

    Figures are remembered by weak reference: an ``id()`` is reused as soon as a closed
    figure is freed, which silently dropped later figures of a loop.
    """
    if fig in rec.seen_figures and source != "portfolio.figure":
        return
    rec.seen_figures.add(fig)
    if where is None and source in ("open at exit", "end of cell"):
        where = getattr(fig, _ORIGIN, None)  # the line that created it
    if not caption:
        taken = {f["caption"] for f in rec.figures}
        titled = title_of(fig) or caption_from_axes(fig)
        caption = (_told_apart(fig, titled, where, source, taken) if titled
                   else caption_from_line(where, source))
    path = rec.figure_path(caption)
    if is_large(fig):
        width = float(fig.get_size_inches()[0])
        capped = save_png(fig, path, dpi=min(_DPI, _DISPLAY_WIDTH / width))
        full = path.with_name(f"{path.stem}-full.png")
        capped = save_png(fig, full, dpi=_FULL_DPI) or capped
        rec.add_figure(path, caption, source)
        rec.figures[-1]["full_path"] = full.relative_to(rec.out).as_posix()
    else:
        capped = save_png(fig, path)
        rec.add_figure(path, caption, source)
    if capped:
        width, height = fig.get_size_inches()
        rec.warn(f"figure {path.name} ({width:g} × {height:g} inches) would be over "
                 f"{MAX_SIDE_PX:,} px on its longer side: saved at {capped}")


def save_png(fig: Any, path: Path, dpi: float = _DPI) -> str:
    """Write ``fig`` with matplotlib's own savefig, bypassing our capture of it, at most
    MAX_SIDE_PX on its longer side; says how it was made smaller, else ''."""
    from matplotlib.figure import Figure

    original = getattr(Figure.savefig, "__wrapped__", Figure.savefig)
    width, height = (float(v) for v in fig.get_size_inches())
    asked = dpi
    dpi = min(dpi, MAX_SIDE_PX / max(width, height, 1e-6))  # never drawn bigger than this
    original(fig, path, dpi=dpi, bbox_inches="tight")
    longest = _longest_side(path)
    if longest > MAX_SIDE_PX:  # the tight box reached past the figure (an artist outside)
        dpi *= (MAX_SIDE_PX - 2) / longest  # -2: the box's edges round up
        original(fig, path, dpi=dpi, bbox_inches="tight")
    return f"{dpi:.3g} dpi instead of {asked:.3g}" if dpi < asked else ""


def _longest_side(path: Path) -> int:
    """The longer side of the PNG ``path``, from its header (opening a huge one with Pillow
    is what this guards against); 0 when unreadable."""
    with path.open("rb") as fh:
        head = fh.read(24)
    if len(head) < 24 or head[12:16] != b"IHDR":
        return 0
    return max(int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big"))


class FigureCapture:
    name = "matplotlib"
    trigger = "matplotlib.pyplot"

    def install(self, rec: Recorder) -> None:
        import functools

        import matplotlib.pyplot as plt
        from matplotlib.figure import Figure

        original_savefig = Figure.savefig
        original_figure = plt.figure

        @functools.wraps(original_savefig)
        def savefig(fig: Figure, fname: Any, *args: Any, **kwargs: Any) -> Any:
            result = original_savefig(fig, fname, *args, **kwargs)
            if isinstance(fname, str | os.PathLike):
                rec.add_output(Path(fname))
            save(rec, fig, source="savefig", where=script_line(rec))
            return result

        def show(*args: Any, **kwargs: Any) -> None:
            where = script_line(rec)
            for number in plt.get_fignums():
                save(rec, plt.figure(number), source="plt.show", where=where)
            plt.close("all")

        @functools.wraps(original_figure)
        def figure(*args: Any, **kwargs: Any) -> Any:
            # pyplot's subplots() calls this module-level name too.
            fig = original_figure(*args, **kwargs)
            if getattr(fig, _ORIGIN, None) is None:
                setattr(fig, _ORIGIN, script_line(rec))
            return fig

        Figure.savefig = savefig  # type: ignore[method-assign]
        plt.show = show
        plt.figure = figure

    def finish(self, rec: Recorder) -> None:
        close_open(rec, "open at exit")


def close_open(rec: Recorder | None, source: str) -> None:
    """Save the figures still open, then close them: at exit, and at the end of each
    notebook cell as Jupyter's inline backend does (else a cell's ``plt.plot`` draws into
    the figure an earlier cell left open). Without a recorder they are only closed."""
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is None:
        return
    try:
        for number in plt.get_fignums() if rec is not None else ():
            save(rec, plt.figure(number), source=source)
    finally:  # even when one could not be saved: the next cell must not draw into it
        plt.close("all")
