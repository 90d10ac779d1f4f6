"""Figures portfolio draws itself once the script has finished: the learning curve
and the spot-check box plot. Drawn on matplotlib's Agg canvas, outside pyplot, so they
never mix with the script's own figures."""

from __future__ import annotations

from typing import Any

from portfolio.capture import figures
from portfolio.recorder import Recorder


def _metric_names(rows: list[dict[str, Any]]) -> list[str]:
    """Training metrics with loss first; each is drawn beside its ``val_`` twin."""
    names = sorted({k for row in rows for k in row if k != "epoch" and not k.startswith("val_")})
    names = [n for n in names if n not in ("learning_rate", "lr")]
    return sorted(names, key=lambda n: (n != "loss", n))[:2]


def learning_curve(rec: Recorder) -> None:
    rows = rec.history_rows()
    names = _metric_names(rows)
    if not rows or not names:
        return
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

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
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 1.5
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


def spot_check_boxplot(rec: Recorder) -> None:
    """Fold scores of every spot-checked algorithm side by side (at least two of them)."""
    checks = [c for c in rec.spot_checks if c["scores"]]
    if len(checks) < 2:
        return
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(max(4.5, 1.1 * len(checks)), 3.4), layout="constrained")
    ax = fig.subplots()
    ax.boxplot([c["scores"] for c in checks], showmeans=True)
    crowded = sum(len(c["name"]) for c in checks) > 8 * len(checks) or len(checks) > 5
    ax.set_xticks(range(1, len(checks) + 1), [c["name"] for c in checks],
                  rotation=30 if crowded else 0, ha="right" if crowded else "center")
    scoring = {c["scoring"] for c in checks}
    only = scoring.pop() if len(scoring) == 1 else "default"
    ax.set_ylabel("score" if only == "default" else only.replace("_", " "))
    ax.set_title("Spot-check: cross-validation scores per algorithm")
    ax.grid(axis="y", alpha=0.3)
    path = rec.figure_path("spot-check")
    figures.save_png(fig, path)
    rec.add_figure(path, "Spot-check: score of every cross-validation fold, per algorithm",
                   "spot_checks", kind="spot-check")
