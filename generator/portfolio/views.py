"""What the page templates see: projects and runs turned into display-ready values.

Formatting rules live here, once: which metrics read as percentages, how a score is
compared with a baseline, what a failure notice says. Templates only lay them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from portfolio.logs import clean
from portfolio.metricnames import canonical, is_fraction_metric
from portfolio.model import Headline, ProjectState, RunResult
from portfolio.schema import Dataset

_LOG_TAIL_LINES = 40


def is_fraction(name: str, value: float) -> bool:
    return 0.0 <= value <= 1.0 and is_fraction_metric(name)


def fmt(name: str, value: float | None) -> str:
    if value is None:
        return "–"
    if is_fraction(name, value):
        return f"{value * 100:.1f}%"
    return f"{value:.4g}"


def compare(name: str, score: float, baseline: float, goal: str) -> tuple[str, bool]:
    """``("+2.1 pts", True)``: the difference as a reader says it, and whether it is better."""
    better = score > baseline if goal == "max" else score < baseline
    if abs(score - baseline) < 1e-12:
        return "on par", True
    if is_fraction(name, score) and is_fraction(name, baseline):
        return f"{(score - baseline) * 100:+.1f} pts", better
    if baseline:
        relative = abs(score - baseline) / abs(baseline) * 100
        word = "lower" if score < baseline else "higher"
        return f"{score - baseline:+.4g} ({relative:.0f}% {word})", better
    return f"{score - baseline:+.4g}", better


@dataclass
class BaselineView:
    name: str
    value: str
    source: str | None
    difference: str
    better: bool
    raw: float
    trivial: bool = False


@dataclass
class FigureView:
    path: str
    caption: str
    kind: str


@dataclass
class ProjectView:
    slug: str
    title: str
    summary: str
    tags: list[str]
    task: str | None
    dataset: Dataset | None
    status: str
    headline: Headline | None
    score_text: str
    headline_text: str
    metrics: list[tuple[str, str]]
    baselines: list[BaselineView]
    figures: list[FigureView]
    model_file: str | None
    model_size: str | None
    architecture: dict[str, Any] | None
    run: dict[str, Any]
    failure: dict[str, Any] | None
    notes: list[str] = field(default_factory=list)

    @property
    def learning_curve(self) -> FigureView | None:
        return next((f for f in self.figures if f.kind == "learning-curve"), None)

    @property
    def thumbnail(self) -> FigureView | None:
        """The project's own first figure (a forecast, a confusion matrix) says more on a
        card than a learning curve, which is the fallback."""
        others = [f for f in self.figures if f.kind != "learning-curve"]
        return others[0] if others else self.learning_curve

    @property
    def trivial_baseline(self) -> BaselineView | None:
        return next((b for b in self.baselines if b.trivial), None)

    @property
    def best_baseline(self) -> BaselineView | None:
        """The strongest baseline: the one a result must beat to mean something."""
        if not self.baselines or self.headline is None:
            return None
        pick = max if self.headline.goal == "max" else min
        return pick(self.baselines, key=lambda b: b.raw)


def project_view(state: ProjectState) -> ProjectView:
    meta, good = state.project.meta, state.good
    headline = good.headline(meta) if good else None
    baselines = _baselines(state, headline)
    return ProjectView(
        slug=state.project.slug,
        title=meta.title,
        summary=meta.summary or "",
        tags=list(meta.tags),
        task=meta.task.value if meta.task else None,
        dataset=meta.dataset,
        status=good.status if good else (state.failure.status if state.failure else "never run"),
        headline=headline,
        score_text=fmt(headline.name, headline.value) if headline else "–",
        headline_text=f"{fmt(headline.name, headline.value)} {headline.name}" if headline else "",
        metrics=[(k, fmt(k, v)) for k, v in good.metrics.items()] if good else [],
        baselines=baselines,
        figures=[FigureView(f["path"], f.get("caption") or "", f.get("kind", "figure"))
                 for f in good.figures] if good else [],
        model_file=good.model_file.name if good and good.model_file else None,
        model_size=_size(good.model_file) if good and good.model_file else None,
        architecture=good.run.get("architecture") if good else None,
        run=good.run if good else {},
        failure=_failure(state.failure) if state.failure else None,
        notes=list(good.run.get("notes", [])) if good else [],
    )


def _baselines(state: ProjectState, headline: Headline | None) -> list[BaselineView]:
    """The computed trivial baseline first, then declared ones, then those the run logged.
    A baseline measured on another metric than the headline cannot be compared: left out."""
    items: list[dict[str, Any]] = []
    run = state.good.run if state.good else {}
    trivial = run.get("trivial_baseline")
    metric = canonical(headline.name) if headline else None
    if trivial and metric in trivial["metrics"]:
        items.append({"name": trivial["name"], "value": trivial["metrics"][metric],
                      "source": f"{trivial['estimator']}, {trivial['source']}", "trivial": True})
    items += [b.model_dump() for b in state.project.meta.baselines]
    items += [b for b in run.get("baselines", []) if not headline or
              canonical(b.get("metric") or headline.name) == canonical(headline.name)]
    views = []
    for item in items:
        value = float(item["value"])
        name = headline.name if headline else "score"
        if headline:
            difference, better = compare(name, headline.value, value, headline.goal)
        else:
            difference, better = "", False
        views.append(BaselineView(item["name"], fmt(name, value), item.get("source"),
                                  difference, better, value, bool(item.get("trivial"))))
    return views


def _failure(run: RunResult) -> dict[str, Any]:
    return {"status": run.status, "error": run.run.get("error") or run.status,
            "started": run.run.get("started", ""), "log_tail": log_tail(run.log_file)}


def log_tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    """The last lines of a log as a terminal would have shown them."""
    if not path.is_file():
        return ""
    with path.open("rb") as fh:
        fh.seek(0, 2)
        fh.seek(max(0, fh.tell() - 64_000))
        text = fh.read().decode("utf-8", errors="replace")
    return "\n".join(clean(text).splitlines()[-lines:])


def _size(path: Path) -> str:
    size = float(path.stat().st_size)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""
