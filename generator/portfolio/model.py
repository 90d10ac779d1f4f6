"""The domain: a workspace of projects, and what their runs produced.

These classes hold data and the rules about it (which metric is the headline,
whether lower is better); reading and writing files lives with the pipeline
stages, except the small loaders that turn a results folder into a ``RunResult``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from portfolio.metricnames import canonical, lower_is_better
from portfolio.schema import ProjectMeta

RESULTS_FORMAT = 7  # bump when capture writes results differently: every project re-runs



@dataclass(frozen=True)
class Workspace:
    """The folders of a portfolio repository, all derived from its root."""

    root: Path

    @property
    def projects_dir(self) -> Path:
        return self.root / "projects"

    @property
    def results_dir(self) -> Path:
        return self.root / "results"

    @property
    def build_dir(self) -> Path:
        """Generated Markdown and engine config: never tracked."""
        return self.root / ".build"

    @property
    def scratch_dir(self) -> Path:
        """Smoke runs land here: never published, never taken for real results."""
        return self.results_dir / ".scratch"

    @property
    def site_dir(self) -> Path:
        return self.root / "site"

    @property
    def templates_dir(self) -> Path:
        return self.root / "site_templates"

    @property
    def mkdocs_yml(self) -> Path:
        return self.root / "mkdocs.yml"

    def results_for(self, slug: str) -> Path:
        return self.results_dir / slug


@dataclass(frozen=True)
class Project:
    """One ``projects/<slug>/`` folder and its validated metadata."""

    slug: str
    folder: Path
    meta: ProjectMeta

    @property
    def metadata_file(self) -> Path:
        return self.folder / "project.yaml"

    @property
    def script(self) -> Path:
        return self.folder / self.meta.script


@dataclass(frozen=True)
class Headline:
    """The one number a project is judged by, with the direction that is good."""

    name: str
    value: float
    goal: str  # "max" or "min"
    measured_on: str = "held-out data"  # or "5-fold cross-validation", for a CV-only run


@dataclass
class RunResult:
    """What one run left in ``results/<slug>/`` (or in its ``failed/`` folder)."""

    folder: Path
    run: dict[str, Any]
    metrics: dict[str, float] = field(default_factory=dict)
    history: list[dict[str, str]] = field(default_factory=list)

    @property
    def status(self) -> str:
        return str(self.run.get("status", "unknown"))

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def figures(self) -> list[dict[str, Any]]:
        return [f for f in self.run.get("figures", []) if (self.folder / f["path"]).is_file()]

    @property
    def model_file(self) -> Path | None:
        name = self.run.get("model")
        return self.folder / name if name and (self.folder / name).is_file() else None

    @property
    def log_file(self) -> Path:
        return self.folder / "log.txt"

    def headline(self, meta: ProjectMeta) -> Headline | None:
        """The declared metric if it was measured, else the most telling one we have; for
        a run that only cross-validated (no held-out metric), its best mean CV score."""
        if not self.metrics:
            return self._cross_validated(meta)
        if meta.metric and meta.metric.name in self.metrics:
            name = meta.metric.name
            goal = meta.metric.goal or ("min" if lower_is_better(name) else "max")
            return Headline(name, self.metrics[name], goal)
        preferred = [n for n in self.metrics if not lower_is_better(n)] or list(self.metrics)
        for candidate in ("accuracy", "acc", "f1", "r2", "rmse", "mae"):
            if candidate in self.metrics:
                preferred = [candidate]
                break
        name = preferred[0]
        return Headline(name, self.metrics[name], "min" if lower_is_better(name) else "max")

    def _cross_validated(self, meta: ProjectMeta) -> Headline | None:
        checks = [c for c in self.run.get("spot_checks", [])
                  if c.get("metric") and c.get("mean") is not None]
        if meta.metric:  # the declared metric when it was cross-validated
            declared = canonical(meta.metric.name)
            checks = [c for c in checks
                      if canonical(c["metric"].removeprefix("neg_")) == declared] or checks
        if not checks:
            return None
        best = max(checks, key=lambda c: c["mean"])  # scikit-learn scorers: higher is better
        name, value = best["metric"], best["mean"]
        if name.startswith("neg_"):  # neg_mean_squared_error → mse, as a positive number
            name, value = canonical(name.removeprefix("neg_")), -value
        folds = len(best.get("scores", []))
        return Headline(canonical(name), value, "min" if lower_is_better(canonical(name))
                        else "max", f"{folds}-fold cross-validation")

    @classmethod
    def load(cls, folder: Path) -> RunResult | None:
        """Read a results folder; ``None`` when it holds no run record."""
        run_file = folder / "run.json"
        if not run_file.is_file():
            return None
        run = json.loads(run_file.read_text(encoding="utf-8"))
        metrics_file = folder / "metrics.json"
        metrics = {}
        if metrics_file.is_file():
            raw = json.loads(metrics_file.read_text(encoding="utf-8"))
            metrics = {k: float(v) for k, v in raw.items() if isinstance(v, int | float)}
        history = []
        history_file = folder / "history.csv"
        if history_file.is_file():
            import csv

            with history_file.open(newline="", encoding="utf-8") as fh:
                history = list(csv.DictReader(fh))
        return cls(folder, run, metrics, history)


@dataclass
class ProjectState:
    """A project with its last good run and, if the latest run failed, that failure."""

    project: Project
    good: RunResult | None
    failure: RunResult | None

    @property
    def latest(self) -> RunResult | None:
        return self.failure or self.good
