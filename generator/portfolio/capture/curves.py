"""The learning curve, drawn from the recorded history once the script has finished."""

from __future__ import annotations

from typing import Any

from portfolio.capture import figures
from portfolio.runtime import Recorder


def _metric_names(rows: list[dict[str, Any]]) -> list[str]:
    """Training metrics with loss first; each is drawn beside its ``val_`` twin."""
    names = sorted({k for row in rows for k in row if k != "epoch" and not k.startswith("val_")})
    names = [n for n in names if n not in ("learning_rate", "lr")]
    return sorted(names, key=lambda n: (n != "loss", n))[:2]


def draw(rec: Recorder) -> None:
    rows = rec.history_rows()
    names = _metric_names(rows)
    if not rows or not names:
        return
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.2 * len(names), 3.2), layout="constrained")
    steps = list(range(1, len(rows) + 1))  # consecutive fit() segments continue the axis
    for ax, name in zip(fig.subplots(1, len(names), squeeze=False)[0], names, strict=True):
        for key, label in ((name, "train"), (f"val_{name}", "validation")):
            values = [row.get(key) for row in rows]
            if any(v is not None for v in values):
                ax.plot(steps, [float("nan") if v is None else v for v in values],
                        marker="o", markersize=3, label=label)
        for boundary in _segment_starts(rec)[1:]:
            ax.axvline(boundary + 0.5, color="grey", linestyle=":", linewidth=1)
        ax.set_title(name.replace("_", " "))
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    path = rec.figure_path("learning curve")
    figures.save_png(fig, path)
    rec.add_figure(path, "Learning curve: training and validation metrics per epoch",
                   "history", kind="learning-curve")


def _segment_starts(rec: Recorder) -> list[int]:
    starts, count = [], 0
    for segment in rec.final_segments():
        starts.append(count)
        count += len(segment["epochs"])
    return starts
