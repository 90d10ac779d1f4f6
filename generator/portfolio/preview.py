"""Link previews: the 1200×630 images a chat or LinkedIn shows when the link is pasted.

Drawn offline with matplotlib (DejaVu Sans ships with it; nothing is fetched), in a child
process so the parent never imports matplotlib, and only for specs not drawn before: the
cache key is the hash of what the image shows.

``python -m portfolio.preview SPECS.json`` draws every ``{"out": ..., ...}`` spec in the list.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from portfolio import childenv, children, warm

WIDTH, HEIGHT, DPI = 1200, 630, 100
_DRAWING_S = 300  # more than enough for a few images; a hung drawing is stopped


class DrawingFailed(RuntimeError):
    """The child that draws the preview images failed; ``output`` is what it printed."""

    def __init__(self, output: str, reason: str) -> None:
        self.output, self.reason = output, reason
        super().__init__(f"drawing the preview images failed ({reason}):\n{output}")

    def summary(self) -> str:
        """One line for the build's output: the cause (the child's last line, the
        exception), and that the pages are built without the images."""
        lines = [line.strip() for line in self.output.splitlines() if line.strip()]
        cause = lines[-1] if lines else self.reason
        return (f"the link-preview images were not drawn ({cause}); the pages are built "
                "without them (og:image names a missing file) and the next build tries again")


@dataclass
class Pending:
    """Preview images being drawn in a child while the site engine runs on the other core."""

    child: children.Child | None
    copies: list[tuple[Path, str]] = field(default_factory=list)  # (image, path in site)

    def finish(self, *targets: Path) -> None:
        """Wait for the drawing, then put each image at its place under every target.
        Raises :class:`DrawingFailed` when the drawing failed, after placing the images
        that exist (drawn by an earlier build)."""
        failed = None
        if self.child is not None:
            with self.child.output:
                said = children.read_to_end(self.child, _DRAWING_S)
            ended = self.child.wait(children.GRACE_S)  # its output closed: it is ending
            if ended is None:
                children.stop_group(self.child)
            self.child = None
            if ended is None or ended[0] != 0:
                failed = DrawingFailed(said.decode(errors="replace"),
                                       "it did not end" if ended is None
                                       else f"exit status {ended[0]}")
        for image, relative in self.copies:
            if not image.is_file():  # not drawn: the drawing failed
                continue
            for target in targets:
                destination = target / relative
                if destination.parent.is_dir() and (
                        not destination.is_file() or destination.stat().st_size !=
                        image.stat().st_size or destination.read_bytes() != image.read_bytes()):
                    shutil.copyfile(image, destination)
        if failed is not None:
            raise failed

    def stop(self) -> None:
        """Stop the drawing if it is still going (nothing once :meth:`finish` ran)."""
        if self.child is not None:
            children.stop_group(self.child)
            self.child.output.close()
            self.child = None


def start(specs: list[tuple[dict[str, Any], str]], cache: Path,
          worker: warm.Worker | None = None) -> Pending:
    """Start drawing the specs not in ``cache`` yet (one child for all of them): forked
    by the warm worker when there is one (matplotlib is loaded there already)."""
    cache.mkdir(parents=True, exist_ok=True)
    pending, missing = Pending(None), []
    for spec, relative in specs:
        key = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:20]
        path = cache / f"{key}.png"
        pending.copies.append((path, relative))
        if not path.is_file():
            missing.append({**spec, "out": str(path)})
    if not missing:
        return pending
    todo = cache / f"todo-{os.getpid()}.json"
    todo.write_text(json.dumps(missing), encoding="utf-8")
    env = {**childenv.child_environment(), "MPLBACKEND": "Agg"}
    pending.child = children.start("portfolio.preview", [str(todo)], cache, env, 1, worker)
    return pending


def _draw(spec: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI)
    fig.patch.set_facecolor("#1a237e")  # Material's indigo, the site's primary colour
    white, soft = "#ffffff", "#c5cae9"
    fig.text(0.06, 0.86, spec.get("kicker", ""), color=soft, fontsize=22, va="top")
    title = _wrap(spec["title"], 34)
    fig.text(0.06, 0.74, title, color=white, fontsize=40, fontweight="bold", va="top",
             linespacing=1.15)
    if spec.get("headline"):
        fig.text(0.06, 0.22, spec["headline"], color=white, fontsize=34, fontweight="bold")
    if spec.get("detail"):
        fig.text(0.06, 0.12, _wrap(spec["detail"], 60), color=soft, fontsize=20, va="top")
    curve = spec.get("curve") or []
    if len(curve) > 1:
        ax = fig.add_axes((0.64, 0.16, 0.3, 0.3))
        ax.plot(range(1, len(curve) + 1), curve, color="#ffca28", linewidth=3)
        ax.set_facecolor("#1a237e")
        ax.tick_params(colors=soft, labelsize=12)
        for side in ax.spines.values():
            side.set_color(soft)
        ax.set_title(spec.get("curve_label", "loss per epoch"), color=soft, fontsize=14)
    # Write then rename: an interrupted drawing never leaves a half image in the cache.
    partial = f"{spec['out']}.partial.png"
    fig.savefig(partial, dpi=DPI, facecolor=fig.get_facecolor())
    Path(partial).replace(spec["out"])


def _wrap(text: str, width: int) -> str:
    import textwrap

    lines = textwrap.wrap(text, width)[:3]
    return "\n".join(lines) if lines else ""


if __name__ == "__main__":
    for item in json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")):
        _draw(item)
