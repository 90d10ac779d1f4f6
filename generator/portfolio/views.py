"""What the page templates see: projects and runs turned into display-ready values.

Formatting rules live here, once: which metrics read as percentages, how a score is
compared with a baseline, what a failure notice says. Templates only lay them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from portfolio.model import Headline, ProjectState, RunResult
from portfolio.schema import Dataset

_FRACTION_METRICS = ("accuracy", "acc", "auc", "precision", "recall", "f1")
_LOG_TAIL_LINES = 40


def is_fraction(name: str, value: float) -> bool:
    lowered = name.lower()
    return 0.0 <= value <= 1.0 and any(token in lowered for token in _FRACTION_METRICS)


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
    declared = [b.model_dump() for b in state.project.meta.baselines]
    logged = list(state.good.run.get("baselines", [])) if state.good else []
    views = []
    for item in [*declared, *logged]:
        value = float(item["value"])
        name = headline.name if headline else "score"
        if headline:
            difference, better = compare(name, headline.value, value, headline.goal)
        else:
            difference, better = "", False
        views.append(BaselineView(item["name"], fmt(name, value), item.get("source"),
                                  difference, better, value))
    return views


def _failure(run: RunResult) -> dict[str, Any]:
    return {"status": run.status, "error": run.run.get("error") or run.status,
            "started": run.run.get("started", ""), "log_tail": log_tail(run.log_file)}


def log_tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    if not path.is_file():
        return ""
    with path.open("rb") as fh:
        fh.seek(0, 2)
        fh.seek(max(0, fh.tell() - 64_000))
        text = fh.read().decode("utf-8", errors="replace")
    return "\n".join(text.replace("\r", "\n").splitlines()[-lines:])


def _size(path: Path) -> str:
    size = float(path.stat().st_size)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""
