"""What the page templates see: projects and runs turned into display-ready values.

Formatting rules live here, once: which metrics read as percentages, how a score is
compared with a baseline, what a failure notice says. Templates only lay them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from portfolio import narrative
from portfolio.logs import clean
from portfolio.metricnames import canonical, is_fraction_metric
from portfolio.model import Headline, ProjectState, RunResult
from portfolio.runtime import slugify
from portfolio.schema import Dataset

_LOG_TAIL_LINES = 40
_ON_PAR_POINTS = 0.5  # percentage points within which two fractions are "on par"
_ON_PAR_RELATIVE = 0.02  # relative difference within which two other scores are


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


def on_par(name: str, score: float, baseline: float) -> bool:
    if is_fraction(name, score) and is_fraction(name, baseline):
        return abs(score - baseline) * 100 < _ON_PAR_POINTS
    return abs(score - baseline) <= _ON_PAR_RELATIVE * max(abs(baseline), 1e-12)


@dataclass
class BaselineView:
    name: str
    value: str
    source: str | None
    difference: str
    better: bool
    raw: float
    trivial: bool = False
    on_par: bool = False


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
    model_url: str | None
    model_size: str | None
    architecture: dict[str, Any] | None
    run: dict[str, Any]
    failure: dict[str, Any] | None
    script: str
    story: narrative.Narrative = field(default_factory=narrative.Narrative)
    limitations: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    raw_metrics: dict[str, float] = field(default_factory=dict)
    libraries: list[str] = field(default_factory=list)
    left_running: list[str] = field(default_factory=list)  # "command (pid N)", stopped

    @property
    def description(self) -> str:
        """One sentence for search engines and link previews: the summary, or the score."""
        if self.summary:
            return self.summary
        if self.headline:
            tail = f", {self.comparison}" if self.comparison else ""
            return (f"{self.title}: {self.score_text} {self.headline.name} on "
                    f"{self.headline.measured_on}{tail}.")
        return self.title

    # -- figures --------------------------------------------------------------------------
    def figures_of(self, kind: str) -> list[FigureView]:
        return [f for f in self.figures if f.kind == kind]

    @property
    def learning_curve(self) -> FigureView | None:
        return next(iter(self.figures_of("learning-curve")), None)

    @property
    def own_figures(self) -> list[FigureView]:
        return self.figures_of("figure")

    @property
    def thumbnail(self) -> FigureView | None:
        """The project's own first figure (a forecast, a confusion matrix) says more on a
        card than a learning curve, which is the fallback."""
        return next(iter(self.own_figures), None) or self.learning_curve

    # -- baselines ------------------------------------------------------------------------
    @property
    def trivial_baseline(self) -> BaselineView | None:
        return next((b for b in self.baselines if b.trivial), None)

    @property
    def reference(self) -> BaselineView | None:
        """The strongest declared or logged baseline: the one a result must be measured by."""
        others = [b for b in self.baselines if not b.trivial]
        if not others or self.headline is None:
            return None
        pick = max if self.headline.goal == "max" else min
        return pick(others, key=lambda b: b.raw)

    @property
    def best_baseline(self) -> BaselineView | None:
        if not self.baselines or self.headline is None:
            return None
        pick = max if self.headline.goal == "max" else min
        return pick(self.baselines, key=lambda b: b.raw)

    @property
    def comparison(self) -> str:
        """'+31.6 pts over majority class, on par with the UCI reference'."""
        phrases = []
        for baseline in (self.trivial_baseline, self.reference):
            if baseline is None:
                continue
            name = baseline.name
            if baseline.on_par:
                phrases.append(f"on par with {name}")
            elif baseline.better:
                phrases.append(f"{baseline.difference} over {name}")
            else:
                phrases.append(f"{baseline.difference} vs {name}")
        return ", ".join(phrases)

    # -- the five steps -------------------------------------------------------------------
    @property
    def split(self) -> dict[str, Any] | None:
        splits = self.run.get("splits") or []
        return splits[0] if splits else None

    @property
    def class_balance(self) -> list[tuple[str, str, str]]:
        balance = (self.split or {}).get("class_balance")
        if not balance:
            return []
        rows = []
        for part in ("train", "test"):
            total = sum(balance[part].values()) or 1
            rows.append((part, ", ".join(f"{label}: {count} ({count / total:.0%})"
                                         for label, count in balance[part].items()), str(total)))
        return rows

    @property
    def spot_checks(self) -> list[dict[str, Any]]:
        """Spot-checks, best mean first (scikit-learn scorers are all higher-is-better)."""
        checks = [c for c in self.run.get("spot_checks", []) if c.get("mean") is not None]
        return sorted(checks, key=lambda c: -c["mean"])

    @property
    def searches(self) -> list[dict[str, Any]]:
        return list(self.run.get("searches", []))

    @property
    def final_fits(self) -> list[dict[str, Any]]:
        fits = self.run.get("fits", [])
        return [f for f in fits if f.get("model_index") == fits[-1].get("model_index")]

    @property
    def confusion(self) -> dict[str, Any] | None:
        matrices = [m for m in self.run.get("confusion_matrices", []) if m["split"] != "train"]
        return matrices[-1] if matrices else None

    @property
    def report(self) -> str | None:
        reports = [r for r in self.run.get("reports", []) if r["split"] != "train"]
        return reports[-1].get("text") if reports else None

    @property
    def architectures(self) -> list[str]:
        return architecture_labels((self.architecture or {}).get("layers", []))

    def model_index(self) -> dict[str, Any]:
        """A Hugging Face style ``model-index`` block for machines that read model cards."""
        metrics = [{"type": canonical(name), "value": value, "name": f"Test {name}"}
                   for name, value in self.raw_metrics.items()]
        result: dict[str, Any] = {"metrics": metrics}
        if self.task:
            result["task"] = {"type": self.task, "name": self.task.replace("-", " ")}
        if self.dataset and self.dataset.name:
            result["dataset"] = {"name": self.dataset.name,
                                 "type": slugify(self.dataset.name, "dataset")}
        return {"model-index": [{"name": self.slug, "results": [result]}]}


# Libraries a reader would list on a CV, by the top-level module a script imports.
_LIBRARIES = {"keras": "Keras", "tensorflow": "TensorFlow", "sklearn": "scikit-learn",
              "pandas": "pandas", "statsmodels": "statsmodels", "seaborn": "seaborn",
              "xgboost": "XGBoost", "lightgbm": "LightGBM", "torch": "PyTorch", "jax": "JAX",
              "scipy": "SciPy", "transformers": "Transformers"}


def libraries_of(folder: Path) -> list[str]:
    """The libraries a project's own code imports (read from its source, not from what
    happened to be loaded: scikit-learn loads SciPy, which no reader would credit)."""
    import ast

    found: list[str] = []
    for path in sorted(folder.rglob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module] if isinstance(node, ast.ImportFrom) and node.module
                     and not node.level else [])
            for name in names:
                label = _LIBRARIES.get(name.split(".")[0])
                if label and label not in found:
                    found.append(label)
    return found


def architecture_labels(layers: list[str]) -> list[str]:
    """Layer classes to the names a CV uses: Conv2D → CNN, LSTM, Dense only → MLP."""
    labels = []
    rules = (("Conv", "CNN"), ("LSTM", "LSTM"), ("GRU", "GRU"), ("SimpleRNN", "RNN"),
             ("MultiHeadAttention", "Transformer"), ("Embedding", "Embeddings"))
    for token, label in rules:
        if any(token in layer for layer in layers) and label not in labels:
            labels.append(label)
    if not labels and "Dense" in layers:
        labels.append("MLP")
    return labels


def _headline_text(headline: Headline | None) -> str:
    """'98.1% accuracy'; a cross-validated score says so: '97.2% accuracy (5-fold
    cross-validation)'."""
    if headline is None:
        return ""
    text = f"{fmt(headline.name, headline.value)} {headline.name}"
    if headline.measured_on != Headline.measured_on:
        text += f" ({headline.measured_on})"
    return text


def project_view(state: ProjectState) -> ProjectView:
    meta, good = state.project.meta, state.good
    headline = good.headline(meta) if good else None
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
        headline_text=_headline_text(headline),
        metrics=[(k, fmt(k, v)) for k, v in good.metrics.items()] if good else [],
        baselines=_baselines(state, headline),
        figures=[FigureView(f["path"], f.get("caption") or "", f.get("kind", "figure"))
                 for f in good.figures] if good else [],
        model_file=good.model_file.name if good and good.model_file and meta.publish_model
        else None,
        model_url=meta.model_url,
        model_size=_size(good.model_file) if good and good.model_file else None,
        architecture=good.run.get("architecture") if good else None,
        run=good.run if good else {},
        failure=_failure(state.failure) if state.failure else None,
        script=meta.script,
        story=narrative.read(state.project.folder),
        limitations=list(meta.limitations),
        notes=list(good.run.get("notes", [])) if good else [],
        raw_metrics=dict(good.metrics) if good else {},
        libraries=libraries_of(state.project.folder),
        left_running=[f"{p['command']} (pid {p['pid']})"
                      for p in good.run.get("left_running", [])] if good else [],
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
              canonical(b.get("metric") or headline.name) == metric]
    views = []
    for item in items:
        value = float(item["value"])
        name = headline.name if headline else "score"
        difference, better, par = "", False, False
        if headline:
            difference, better = compare(name, headline.value, value, headline.goal)
            par = on_par(name, headline.value, value)
        views.append(BaselineView(item["name"], fmt(name, value), item.get("source"),
                                  difference, better, value, bool(item.get("trivial")), par))
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


def skills(views: list[ProjectView]) -> list[str]:
    """The home page's line of skills: architectures, task types, libraries, in that order."""
    found: list[str] = []
    for group in ([a for v in views for a in v.architectures],
                  [v.task.replace("-", " ") for v in views if v.task],
                  [lib for v in views for lib in v.libraries]):
        for item in group:
            if item not in found:
                found.append(item)
    return found
