"""The domain: a workspace of projects, and what their runs produced.

These classes hold data and the rules about it (which metric is the headline,
whether lower is better); reading and writing files lives with the pipeline
stages, except the small loaders that turn a results folder into a ``RunResult``.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

from portfolio import results
from portfolio.errors import CorruptRecord
from portfolio.metricnames import canonical, known_metric, lower_is_better
from portfolio.record import RESULTS_FORMAT, Figure, Judged, RunRecord
from portfolio.schema import ProjectMeta


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
    def site_dir(self) -> Path:
        return self.root / "site"

    @property
    def templates_dir(self) -> Path:
        """The portfolio's own templates, optional: each file replaces the packaged one of
        that name (``render.template_dirs``)."""
        return self.root / "site_templates"

    @property
    def mkdocs_yml(self) -> Path:
        return self.root / "mkdocs.yml"



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
    """The one number a project is judged by, with the direction that is good.

    ``basis`` says what it was measured on, and so how far it can be trusted: held-out
    data (the model never saw it), cross-validation, data capture could not verify as
    held out (``unverified``), or the training data itself (``train``).
    """

    name: str
    value: float
    goal: str  # "max" or "min"
    measured_on: str = "held-out data"  # or "5-fold cross-validation", for a CV-only run
    basis: str = "held-out"  # held-out, cv, validation, unverified or train
    check: int | None = None  # cv: the spot-check it is the mean of

    def brief(self) -> str:
        """``accuracy 0.9812``; ``accuracy 0.768 (training data)`` for a status line."""
        where = "" if self.basis == "held-out" else f" ({self.measured_on})"
        return f"{self.name} {self.value:.4g}{where}"

    def beats(self, value: float) -> bool:
        """Strictly better than ``value``: a tie with a trivial baseline is no result."""
        return self.value > value if self.goal == "max" else self.value < value


@dataclass(frozen=True)
class TrivialScore:
    """The trivial baseline a headline is compared with, scored on the same data."""

    name: str  # 'Always predicts class 1'
    value: float
    source: str  # how it was measured, for the baselines table


# The data a headline was measured on, by basis, as trivial baselines record it.
_BASELINE_DATA = {"validation": ("validation",), "train": ("train",),
                  "unverified": ("unknown", "mixed")}


def trivial_for(run: RunRecord, headline: Headline) -> TrivialScore | None:
    """The trivial baseline measured on the headline's own data and metric: its split's
    (held-out), the dummy on the same folds (cross-validation), or the constant on the
    validation, training or streamed targets; None when none could be computed (a
    reconstruction loss, a metric no constant is scored by)."""
    metric = canonical(headline.name)
    if headline.basis == "cv":
        checks = run.spot_checks
        check = checks[headline.check] if headline.check is not None \
            and headline.check < len(checks) else None
        dummy = check.baseline if check else None
        if dummy is None or dummy.mean is None:
            return None
        negated = str(check.metric or "").startswith("neg_")
        return TrivialScore(dummy.name, -dummy.mean if negated else dummy.mean, dummy.estimator)
    if headline.basis == "held-out":
        chosen = [run.trivial_baseline] if run.trivial_baseline else []
    else:
        data = _BASELINE_DATA.get(headline.basis, ())
        chosen = [b for b in run.trivial_baselines if b.measured_on in data]
    for baseline in chosen:
        value = baseline.metrics.get(metric)
        if value is not None:
            return TrivialScore(baseline.name, value, f"{baseline.estimator}, {baseline.source}")
    return None


@dataclass
class RunResult:
    """What one run left in ``results/<slug>/`` (or in its ``failed/`` folder)."""

    folder: Path
    run: RunRecord
    metrics: dict[str, float] = field(default_factory=dict)
    history: list[dict[str, str]] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.run.status

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def file(self, relative: object) -> Path | None:
        """``folder/relative`` when it is a file inside this run's folder, else ``None``
        (never one a crafted ``run.json`` points outside it)."""
        return self.files.inside(relative)

    @functools.cached_property
    def files(self) -> results.RunFolder:
        return results.RunFolder(self.folder)

    @property
    def figures(self) -> list[Figure]:
        """The recorded figures whose files are in the run's folder (``full_path`` dropped
        when its file is not)."""
        return [f.model_copy(update={"full_path": f.full_path if self.file(f.full_path)
                                     else None})
                for f in self.run.figures if self.file(f.path)]

    @property
    def model_file(self) -> Path | None:
        return self.file(self.run.model)

    @property
    def script_file(self) -> Path | None:
        """The copy of the script this run ran (``script/<script>``), when it kept one."""
        script = self.run.script
        return self.file(f"{results.SCRIPT_COPY}/{script}") if script else None

    @property
    def log_file(self) -> Path:
        return self.files.log

    @property
    def judged(self) -> Judged | None:
        return self.run.judged

    def results_on(self, *splits: str) -> dict[str, float]:
        """Recorded results measured on ``splits`` (later wins), by canonical name."""
        return {r.name: r.value for r in self.run.results
                if r.split in splits and r.value is not None}

    def headline(self, meta: ProjectMeta) -> Headline | None:
        """The declared metric if it was measured, else the most telling one we have.

        Held-out results of the project's own model come first; then, for a run that only
        cross-validated, its best mean CV score; then a score capture could not verify as
        held out (a ``tf.data`` pipeline, a printed number); last a score on the training
        data, which the page calls what it is. When several models were scored on test
        data and none is the project's, there is no headline: the page shows them all."""
        if self.metrics:
            return _pick(self.metrics, meta, "held-out data", "held-out")
        if self.judged and self.judged.basis == "ambiguous":
            return None
        cross_validated = self._cross_validated(meta)
        if cross_validated:
            return cross_validated
        unverified = {k: v for k, v in self.results_on("unknown", "printed").items()
                      if known_metric(k)}
        if unverified:
            return _pick(unverified, meta, "data not verified as held-out", "unverified")
        validation = {k: v for k, v in self.results_on("validation").items() if known_metric(k)}
        if validation:  # evaluate(x_val, y_val) on the validation_data fit watched
            loaded = self.run.loaded_checkpoint
            chose = loaded is not None and loaded.save_best_only and loaded.monitor
            return _pick(validation, meta, "validation data, which chose the checkpoint"
                         if chose else "validation data", "validation")
        training = self.results_on("train")
        if training and len(self.models_on("train")) > 1:
            return None  # several models compared on their training data: no single one
        if training:
            return _pick(training, meta, "training data", "train")
        return self._fit_validation(meta)

    def models_on(self, split: str) -> list[str]:
        """The models scored on ``split``, by name, in the order first scored."""
        return list(dict.fromkeys(r.model or r.where or "" for r in self.run.results
                                  if r.split == split and r.value is not None))

    def _fit_validation(self, meta: ProjectMeta) -> Headline | None:
        """No score outside training: the final model's validation scores at its last
        epoch (``val_accuracy``), which fit measured on data it did not train on."""
        fits = [f for f in self.run.fits if f.epochs]
        if not fits:
            return None
        last = fits[-1].epochs[-1].model_dump()
        scores = {canonical(k.removeprefix("val_")): float(v) for k, v in last.items()
                  if k.startswith("val_") and v is not None and k != "val_loss"
                  and known_metric(canonical(k.removeprefix("val_")))}
        if not scores:
            return None
        return _pick(scores, meta, "validation data, at the last epoch", "validation")

    def _cross_validated(self, meta: ProjectMeta) -> Headline | None:
        checks = [c for c in self.run.spot_checks if c.metric and c.mean is not None]
        if meta.metric:  # the declared metric when it was cross-validated
            declared = canonical(meta.metric.name)
            checks = [c for c in checks
                      if canonical(str(c.metric).removeprefix("neg_")) == declared] or checks
        if not checks:
            return None
        best = max(checks, key=lambda c: c.mean or 0.0)  # scikit-learn scorers: higher is better
        name, value = str(best.metric), float(best.mean or 0.0)
        if name.startswith("neg_"):  # neg_mean_squared_error → mse, as a positive number
            name, value = canonical(name.removeprefix("neg_")), -value
        folds = len(best.scores)
        return Headline(canonical(name), value, "min" if lower_is_better(canonical(name))
                        else "max", f"{folds}-fold cross-validation", "cv",
                        self.run.spot_checks.index(best))

    @classmethod
    def load(cls, folder: Path) -> RunResult | None:
        """Read a results folder; ``None`` when it holds no run record."""
        files = results.RunFolder(folder)
        run_file = files.run_record
        if not run_file.is_file():
            return None
        try:
            run = RunRecord.read(run_file)
        except CorruptRecord:
            if _older_format(run_file):  # results of an older portfolio: run again
                return None
            raise
        metrics_file = files.metrics
        metrics = {}
        if metrics_file.is_file():
            raw = json.loads(metrics_file.read_text(encoding="utf-8"))
            metrics = {k: float(v) for k, v in raw.items() if isinstance(v, int | float)}
        history = []
        history_file = files.history
        if history_file.is_file():
            import csv

            with history_file.open(newline="", encoding="utf-8") as fh:
                history = list(csv.DictReader(fh))
        return cls(folder, run, metrics, history)


def _older_format(path: Path) -> bool:
    """A record written in an older results format than this portfolio's: every project
    re-runs anyway (the format is one of its inputs), so one this version cannot read is
    no error."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    version = data.get("schema_version") if isinstance(data, dict) else None
    return isinstance(version, int) and version < RESULTS_FORMAT


def _pick(metrics: dict[str, float], meta: ProjectMeta, measured_on: str,
          basis: str) -> Headline:
    """The declared metric when measured, else accuracy, F1, R², RMSE, MAE, in that order,
    else the first higher-is-better one."""
    declared = canonical(meta.metric.name) if meta.metric else None
    if meta.metric and (meta.metric.name in metrics or declared in metrics):
        name = meta.metric.name if meta.metric.name in metrics else declared
        goal = meta.metric.goal or ("min" if lower_is_better(name) else "max")
        return Headline(name, metrics[name], goal, measured_on, basis)
    preferred = [n for n in metrics if not lower_is_better(n)] or list(metrics)
    for candidate in ("accuracy", "acc", "f1", "r2", "rmse", "mae"):
        if candidate in metrics:
            preferred = [candidate]
            break
    name = preferred[0]
    return Headline(name, metrics[name], "min" if lower_is_better(name) else "max",
                    measured_on, basis)


@dataclass
class ProjectState:
    """A project with its last good run and, if the latest run failed, that failure."""

    project: Project
    good: RunResult | None
    failure: RunResult | None

    @property
    def latest(self) -> RunResult | None:
        return self.failure or self.good
