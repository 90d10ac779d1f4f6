"""Link previews: the 1200×630 images a chat or LinkedIn shows when the link is pasted.

Drawn offline with matplotlib (DejaVu Sans ships with it; nothing is fetched), in a child
process so the parent never imports matplotlib, and only for specs not drawn before: the
cache key is the hash of what the image shows.

``python -m portfolio.preview SPECS.json`` draws every ``{"out": ..., ...}`` spec in the list.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

WIDTH, HEIGHT, DPI = 1200, 630, 100


def cached(specs: list[dict[str, Any]], cache: Path) -> list[Path]:
    """The image for each spec, drawing (in one child) those not in ``cache`` yet."""
    cache.mkdir(parents=True, exist_ok=True)
    paths, missing = [], []
    for spec in specs:
        key = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:20]
        path = cache / f"{key}.png"
        paths.append(path)
        if not path.is_file():
            missing.append({**spec, "out": str(path)})
    if missing:
        todo = cache / "todo.json"
        todo.write_text(json.dumps(missing), encoding="utf-8")
        subprocess.run([sys.executable, "-m", "portfolio.preview", str(todo)], check=True,
                       capture_output=True, timeout=300)
    return paths


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
    fig.savefig(spec["out"], dpi=DPI, facecolor=fig.get_facecolor())


def _wrap(text: str, width: int) -> str:
    import textwrap

    lines = textwrap.wrap(text, width)[:3]
    return "\n".join(lines) if lines else ""


if __name__ == "__main__":
    for item in json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")):
        _draw(item)
