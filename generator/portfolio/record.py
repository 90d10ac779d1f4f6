"""The run record, ``results/<slug>/run.json``, as typed models: what one run produced.

The child (``portfolio.child``, through ``portfolio.recorder``) writes the capture
fields, the results it printed included; the parent (``portfolio.run.store_run``) reads
that record, adds what only it knows (timing, inputs, versions, where each line number
really is in ``log.txt``) and writes it again. Readers
(``domain``, ``views``, ``plan``, the CLI) load it with :meth:`RunRecord.read`.

``run.schema.json`` beside this module is generated from :class:`RunRecord`: the field
descriptions below are its documentation. Regenerate it after changing a model::

    PYTHONPATH=generator python -m portfolio.record > generator/portfolio/run.schema.json

The ``extra`` policy
--------------------
Reading tolerates keys no model knows (a record of a newer or older portfolio, a
hand-edited one): they are ignored, never an error, and they are not kept, so a record
written again holds modelled fields only. The one open mapping is an epoch row, whose
columns are whatever Keras logged (each a number or null). Free-form values (fit and
search parameters, search spaces, ``log_param`` values, optimizer configs, the hashed
project metadata) are ``dict[str, Any]``. Values are validated: a field of the wrong type
(``"value": "high"``), an unknown status or split is a :class:`~portfolio.errors.CorruptRecord`
naming the file and the field's dotted path.

Defaults
--------
Only ``status`` is required at the top level, and in nested entries only what readers
index directly (a result's name, value and source, a figure's path...). So the record
the child writes before the parent completes it loads, and so do records of earlier
formats (``schema_version`` 2, ``RESULTS_FORMAT`` 8): their keys are this layout's, minus
``format``, which :data:`RESULTS_FORMAT` replaced. :meth:`RunRecord.write` writes the
fields that were set (read from the file, passed to the constructor, or assigned), in
declaration order: a field never set is left out, not written as its default.

Importing this module is cheap (the child imports it): pydantic and the standard library
only, plus ``portfolio.errors``, which imports nothing else.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.json_schema import GenerateJsonSchema

from portfolio.errors import CorruptRecord, ResultsError, display

# The one version of the results format: written as every record's ``schema_version``
# and hashed into every run's inputs (``inputs.format``), so bumping it re-runs every
# project. Bump it when capture writes results differently or this layout changes.
# It replaces both ``domain.RESULTS_FORMAT`` (8) and ``recorder.RUN_SCHEMA_VERSION`` (2).
RESULTS_FORMAT = 10  # 10: the demo (an ONNX export and held-out examples)

SCHEMA_ID = "https://portfolio.invalid/run.schema.json"
SCHEMA_TITLE = "portfolio run record (results/<slug>/run.json)"
SCHEMA_DESCRIPTION = (
    "What one run of a project's script produced. Written by the child (capture) and "
    "completed by the parent (timing, inputs, versions, log line numbers). Generated from "
    "portfolio.record.RunRecord; regenerate with `python -m portfolio.record > "
    "generator/portfolio/run.schema.json`. Readers ignore keys they do not know; "
    "schema_version is the results format (RESULTS_FORMAT), bumped when the layout changes.")

MeasuredOn = Literal["test", "train", "validation", "mixed", "cv", "unknown", "printed"]
Status = Literal["ok", "failed", "timeout", "killed", "diverged"]
ModelKind = Literal["keras", "sklearn"]

_MEASURED_ON = (
    "what the score was measured on: test (held out: the model never saw it), train, "
    "validation (steered training), mixed (partly training data), cv (cross-validation), "
    "unknown (capture could not tell), printed (read from the log, not verified)")
_LOG_LINE = ("log lines written when it was recorded (realigned by the parent with "
             "log-clean.txt): it happened after that line")
_LOG_LINE_START = "log lines written when it started"


class _Model(BaseModel):
    """Every model of the record: unknown keys are ignored on reading (never written)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True,
                              ser_json_inf_nan="null")


# -- where a score was measured ----------------------------------------------------------
class _Placed(_Model):
    """What the ledger (`portfolio.provenance`) says about the data a score, an
    evaluation, a confusion matrix or a report was measured on."""

    split: MeasuredOn = Field("unknown", description=_MEASURED_ON)
    evidence: str | None = Field(None, description="why capture placed it on its split")
    model: str | None = Field(None, description="the script's name for the model that was scored")
    model_key: int | None = Field(
        None, description="the same number for the same model object within one run "
                          "(-1: cross_val_predict's out-of-fold predictions)")
    model_kind: ModelKind | None = Field(None, description="the library of the scored model")
    split_index: int | None = Field(
        None, description="the entry of splits the scored data belongs to")
    where: str | None = Field(None, description="script:line of a score traced to no model")
    overlap: float | None = Field(
        None, description="test scores placed without lineage: the share of their rows "
                          "whose values equal training rows (the data repeats its rows)")


class Result(_Placed):
    """One measured score, under its canonical name. Hooked results come from Keras'
    `evaluate`, scikit-learn metrics and `score` methods; the scores the script printed
    are read from its output at the end of the run (`source: output`)."""

    name: str = Field(description="canonical metric name (accuracy, rmse, f1...)")
    raw_name: str | None = Field(
        None, description="the name as the library or script gave it "
                          "(sparse_categorical_accuracy; for output, the pair as printed); "
                          "name is canonical (accuracy)")
    value: float | None = Field(description="the score; null when it was not finite")
    source: str = Field(
        description="keras.evaluate, sklearn.metrics.<function>, <Estimator>.score, "
                    "output (printed by the script), or 'square root of <source> (printed "
                    "as RMSE)'")
    log_line: int | None = Field(None, description=f"for hooked results: {_LOG_LINE}")
    line: int | None = Field(None, description="for results read from output: the log line")
    printed_line: int | None = Field(
        None, description="for hooked results: the log line that printed the same value")
    printed_name: str | None = Field(
        None, description="for hooked results printed under another metric's name: that "
                          "name (an MSE printed as its root, rmse)")
    judged: bool | None = Field(
        None, description="true for the project's own held-out results (metrics.json)")
    average: str | None = Field(
        None, description="for the summary scores of a confusion matrix or report: macro "
                          "(null for accuracy)")


class Evaluation(_Placed):
    """One Keras `evaluate` call outside `fit`: its metrics, each also a result."""

    index: int = Field(description="0, 1, ... in the order of the calls")
    metrics: dict[str, float | None] = Field(
        default_factory=dict, description="metric name (as Keras logged it) to value")
    log_line: int | None = Field(None, description=_LOG_LINE)


class ConfusionMatrix(_Placed):
    """A `sklearn.metrics.confusion_matrix` call."""

    labels: list[str] = Field(description="the class labels, in the matrix's order")
    matrix: list[list[int | float]] = Field(
        description="rows: true class, columns: predicted class")


class Report(_Placed):
    """A `sklearn.metrics.classification_report` call."""

    text: str | None = Field(None, description="the report as the script got it (text form)")
    table: dict[str, Any] = Field(
        default_factory=dict,
        description="the report as a table: class (or average) to its metrics, and "
                    "accuracy to a number")


# -- the data ----------------------------------------------------------------------------
class Shape(_Model):
    """The shapes of one array `train_test_split` returned, or of the arrays given to
    fit and evaluate."""

    train: list[int] | None = Field(None, description="shape of the training part")
    test: list[int] | None = Field(None, description="shape of the test part")


class ClassBalance(_Model):
    """Samples per class label, when the targets look like labels."""

    train: dict[str, int] = Field(default_factory=dict, description="label to count, training part")
    test: dict[str, int] = Field(default_factory=dict, description="label to count, test part")


class Split(_Model):
    """How the data was split: a `train_test_split` call, (kind `arrays`) the arrays
    handed to the judged model's fit and evaluate, (kind `validation`) only the share fit
    kept apart for validation, or (kind `directory`) a Keras dataset read from folders."""

    index: int = Field(description="0, 1, ...: results name it in split_index")
    kind: Literal["train_test_split", "arrays", "validation", "directory"] = Field(
        "train_test_split",
        description="arrays: no split function; the arrays given to fit and evaluate; "
                    "validation: no test data, fit's validation part only; directory: "
                    "a *_dataset_from_directory call")
    train_size: int | None = Field(None, description="training samples")
    test_size: int | None = Field(None, description="test samples")
    shapes: list[Shape] = Field(default_factory=list, description="one entry per array split")
    test_fraction: int | float | None = Field(
        None, description="train_test_split's test_size argument (a fraction or a count)")
    stratified: bool | None = Field(None, description="stratify was given")
    shuffled: bool | None = Field(None, description="train_test_split's shuffle argument")
    random_state: float | None = Field(
        None, description="train_test_split's random_state when a number")
    validation_split: float | None = Field(
        None, description="arrays: the validation_split fit was given")
    validation_size: int | None = Field(
        None, description="arrays: the training samples fit kept apart for validation")
    class_balance: ClassBalance | None = Field(None, description="samples per class")
    directory: str | None = Field(
        None, description="directory: the folder read, relative to the project")
    subset: str | None = Field(
        None, description="directory: the subset asked for (training, validation, both)")
    files: int | None = Field(None, description="directory: the files found")
    classes: list[str] = Field(
        default_factory=list, description="directory: the class folders, in label order")


# -- evaluate: cross-validation ----------------------------------------------------------
class CvScorer(_Model):
    """One scorer of a `cross_validate` call with several."""

    name: str = Field(description="the scorer's name")
    scores: list[float | None] = Field(default_factory=list, description="one per fold")
    mean: float | None = Field(None, description="mean of the fold scores")
    std: float | None = Field(None, description="standard deviation of the fold scores")


class CvBaseline(_Model):
    """The trivial estimator of a cross-validation, scored on the very same folds."""

    name: str = Field(description="as the page names it: 'Always predicts benign'")
    estimator: str = Field(description="DummyClassifier(strategy='most_frequent') or "
                                       "DummyRegressor(strategy='mean')")
    scores: list[float | None] = Field(default_factory=list, description="one per fold")
    mean: float | None = Field(None, description="mean of the fold scores")
    std: float | None = Field(None, description="standard deviation of the fold scores")


class SpotCheck(_Model):
    """A `cross_val_score` or `cross_validate` call: one algorithm spot-checked."""

    index: int | None = Field(None, description="0, 1, ... in the order of the calls")
    name: str = Field(description="the script's label, else the description")
    description: str | None = Field(
        None, description="the class, or a pipeline's last step after its preprocessing: "
                          "'LogisticRegression, after StandardScaler'")
    estimator: str | None = Field(None, description="the estimator's class")
    scoring: str | None = Field(
        None, description="the scoring argument: a scorer name, default, or its repr")
    metric: str | None = Field(
        None, description="what the scores measure: the scorer's name, or the estimator's "
                          "own score (accuracy, r2); null for a callable scorer")
    cv: str | None = Field(None, description="the cv argument, as repr()")
    scores: list[float | None] = Field(default_factory=list, description="one per fold")
    mean: float | None = Field(None, description="mean of the fold scores")
    std: float | None = Field(None, description="standard deviation of the fold scores")
    log_line_start: int | None = Field(None, description=_LOG_LINE_START)
    log_line: int | None = Field(None, description=f"when it ended: {_LOG_LINE}")
    scorers: list[CvScorer] | None = Field(
        None, description="cross_validate with several scorers: every scorer's fold scores")
    baseline: CvBaseline | None = Field(
        None, description="the trivial estimator scored on the same folds")


# -- improve: searches and fits ----------------------------------------------------------
class SearchRow(_Model):
    """One configuration of a search, ranked."""

    rank: int = Field(description="scikit-learn's rank (1 is best)")
    params: dict[str, Any] = Field(default_factory=dict, description="the configuration")
    mean: float | None = Field(None, description="mean cross-validated score")
    std: float | None = Field(None, description="its standard deviation over the folds")


class SearchScorer(_Model):
    """One scorer's ranking, in a multi-metric search."""

    name: str = Field(description="the scorer's name")
    refit: bool = Field(False, description="this scorer chose the refitted model")
    best_mean: float | None = Field(None, description="its best mean score")
    top: list[SearchRow] = Field(default_factory=list, description="its best configurations")


class Search(_Model):
    """A `GridSearchCV` or `RandomizedSearchCV` fit. `refit`, `ranked_by` and
    `scorers` are present for multi-metric searches only."""

    index: int | None = Field(None, description="0, 1, ... in the order of the calls")
    kind: str = Field(description="the search's class: GridSearchCV, RandomizedSearchCV...")
    estimator: str = Field(description="the script's name for the searched estimator")
    space: dict[str, Any] | list[Any] | str | None = Field(
        None, description="param_grid or param_distributions (a list of grids; a "
                          "distribution as its repr)")
    scoring: str | None = Field(
        None, description="the scorer's name, the names of several joined by ', ', or default")
    candidates: int | None = Field(None, description="configurations tried")
    best_params: dict[str, Any] = Field(default_factory=dict, description="the best configuration")
    best_score: float | None = Field(None, description="its mean cross-validated score")
    best_index: int | None = Field(None, description="its index in cv_results_")
    top: list[SearchRow] = Field(
        default_factory=list, description="the best configurations (up to 10), best first")
    log_line_start: int | None = Field(None, description=_LOG_LINE_START)
    log_line: int | None = Field(None, description=f"when it ended: {_LOG_LINE}")
    refit: str | None = Field(
        None, description="multi-metric search: the scorer that chose the refitted model, "
                          "'callable <name>' (then best_index) or null (no refit)")
    ranked_by: str | None = Field(
        None, description="multi-metric search: the scorer whose ranking top follows")
    scorers: list[SearchScorer] | None = Field(
        None, description="multi-metric search: each scorer's ranking")


class EpochRow(_Model):
    """One epoch of a fit: its index and every metric Keras logged (each a number, or
    null when it was not finite), as history.csv has them."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, float | None] = Field(init=False)

    epoch: int = Field(description="Keras' 0-based epoch index")


class Optimizer(_Model):
    """The optimizer a fit trained with."""

    class_: str = Field(alias="class", description="its class: Adam, SGD...")
    config: dict[str, Any] = Field(default_factory=dict, description="its get_config()")


class EarlyStopping(_Model):
    """What an `EarlyStopping` callback of the fit did."""

    monitor: str = Field(description="the quantity it watched")
    patience: int = Field(description="epochs without improvement it waited")
    stopped_epoch: int | None = Field(
        None, description="the 0-based epoch it stopped at; null when it never stopped")
    best_epoch: int | None = Field(None, description="the 0-based epoch of the best value")
    best: float | None = Field(None, description="the best value of the monitored quantity")
    restore_best_weights: bool = Field(False, description="the best epoch's weights were kept")


class Fit(_Model):
    """One Keras `fit` call (a segment). A freeze-then-fine-tune script's two calls on
    one model are two segments with the same model_index."""

    index: int = Field(description="0, 1, ... in the order of the calls")
    model: str | None = Field(None, description="the model's name")
    model_index: int = Field(
        0, description="0, 1, ... per model object, in order of first fit: two candidates "
                       "built by one function share a name, never an index")
    params: dict[str, Any] = Field(
        default_factory=dict, description="fit's arguments: batch_size, epochs, "
                                          "validation_split, initial_epoch, shuffle...")
    epochs: list[EpochRow] = Field(default_factory=list, description="one row per epoch run")
    epoch_ended_at: list[float] = Field(
        default_factory=list,
        description="time.time() at the end of each epoch, in the order of epochs")
    optimizer: Optimizer | None = Field(None, description="the optimizer it trained with")
    loss: str | None = Field(None, description="the loss, by name (or repr)")
    parameters: int | None = Field(None, description="the model's parameters")
    trainable_parameters: int | None = Field(None, description="of those, the trainable ones")
    epochs_run: int | None = Field(None, description="epochs actually run")
    early_stopping: EarlyStopping | None = Field(None, description="an EarlyStopping callback")
    checkpoints: list[str] = Field(
        default_factory=list, description="files its ModelCheckpoint callbacks wrote "
                                          "(absolute paths in the child)")


class Architecture(_Model):
    """The model published: its `summary()` and what it is made of."""

    name: str | None = Field(None, description="the model's name")
    class_: str | None = Field(None, alias="class", description="Sequential, Functional...")
    layers: list[str] = Field(default_factory=list, description="layer classes, sorted")
    parameters: int | None = Field(None, description="count_params()")
    summary: str = Field("", description="model.summary() as printed")
    optimizer: str | None = Field(None, description="the optimizer's class")
    loss: str | None = Field(None, description="the loss, by name (or repr)")


class DrawingPad(_Model):
    """A single-channel image model small enough to draw for: the drawing is scaled to the
    input's size and to the value range of the training inputs."""

    height: int = Field(ge=1, le=64, description="input rows")
    width: int = Field(ge=1, le=64, description="input columns")
    low: float = Field(description="the smallest training input value (the background)")
    high: float = Field(description="the largest training input value (the ink)")


class Demo(_Model):
    """The page's live demo: the published model exported to ONNX (demo/model.onnx) and up
    to 16 held-out examples with the prediction Keras made for each (demo/examples.json),
    for the visitor's browser to run again. Absent (available false) with the reason."""

    available: bool = Field(description="whether the page can offer the demo")
    reason: str | None = Field(None, description="why there is no demo")
    kind: Literal["classification", "regression", "sequence"] | None = Field(
        None, description="what the examples show: classes, a value, the next value")
    examples: int = Field(0, ge=0, le=16, description="how many examples")
    image: bool = Field(False, description="the inputs are images (thumbnails beside them)")
    drawing: DrawingPad | None = Field(None, description=" ".join(
        (DrawingPad.__doc__ or "").split()))
    max_abs_diff: float | None = Field(
        None, ge=0, description="the largest difference between the ONNX model's outputs "
                                "and Keras' on the examples (over 1e-4: no demo)")
    seconds: float | None = Field(None, ge=0, description="what export and check took")


class LoadedCheckpoint(_Model):
    """A model file loaded after the last fit (load_model or load_weights): the model
    published."""

    path: str = Field(description="relative to the project folder (else its file name)")
    how: Literal["keras.models.load_model", "Model.load_weights"] | None = Field(
        None, description="how it was loaded")
    epoch: int | None = Field(
        None, description="Keras' 0-based epoch whose ModelCheckpoint wrote the file, as "
                          "in history.csv")
    monitor: str | None = Field(None, description="that ModelCheckpoint's monitor")
    save_best_only: bool = Field(False, description="that ModelCheckpoint's save_best_only")
    from_checkpoint: bool = Field(False, description="a ModelCheckpoint of the run wrote this file")
    published: bool | None = Field(
        None, description="false when the script trained the reloaded model further")


class Diverged(_Model):
    """Where the training loss became NaN or infinite (training was stopped there)."""

    epoch: int = Field(description="the 1-based epoch")
    metric: str = Field("loss", description="the quantity that diverged")
    value: str = Field(description="its value: nan, inf or -inf")


# -- results: baselines, judgement, figures ----------------------------------------------
class Baseline(_Model):
    """A score to compare against: logged with `portfolio.log_baseline`, or printed by
    the script beside its own score ("(persistence 0.160)")."""

    name: str = Field(description="what the baseline is")
    value: float = Field(description="its score")
    source: str | None = Field(None, description="where it comes from")
    metric: str | None = Field(
        None, description="the metric it was measured by (printed baselines); null: any")
    line: int | None = Field(None, description="printed baselines: the log line")


class TrivialBaseline(_Model):
    """A constant predictor fitted on a split's training targets and scored on its test
    targets, or the persistence forecast for windows of the target."""

    kind: Literal["majority", "mean", "persistence"] = Field(description="which predictor")
    name: str = Field(description="as the page names it: 'Always predicts class 1'")
    estimator: str = Field(description="what it predicts, and the scikit-learn equivalent")
    metrics: dict[str, float | None] = Field(
        default_factory=dict, description="metric name to its score on the test targets")
    source: str = Field("", description="how it was measured")
    train_size: int | None = Field(None, description="training targets (null: persistence)")
    test_size: int | None = Field(None, description="test targets")
    split_index: int | None = Field(None, description="the entry of splits it was measured on")
    measured_on: MeasuredOn = Field(
        "test", description="the data it was scored on, the same as the scores it is "
                            "compared with: test, validation, train or unknown")
    targets: str | None = Field(
        None, description="what its targets were, when not a split's test part: 'the "
                          "validation targets', 'labels counted from the tf.data dataset'")


class Judged(_Model):
    """Which results are the project's: those of one model on held-out data (held-out),
    none when several models were scored and none is the project's (ambiguous), or none
    at all (none)."""

    basis: Literal["held-out", "ambiguous", "none"] = Field(description="how it was decided")
    model: str | None = Field(None, description="held-out: the judged model's name")
    model_key: int | None = Field(None, description="held-out: its model_key")
    models: int | None = Field(None, description="ambiguous: how many models were scored")
    why: str | None = Field(None, description="the reason, as a phrase")


class Figure(_Model):
    """A figure saved into the run's `figures/` folder."""

    path: str = Field(description="relative to the run folder: figures/<name>.png")
    caption: str = Field("", description="the figure's title, axes labels or script line")
    source: str | None = Field(
        None, description="plt.show, savefig, open at exit, portfolio.figure, history, "
                          "spot_checks or keras.utils.plot_model")
    kind: Literal["figure", "learning-curve", "spot-check", "architecture"] = Field(
        "figure", description="where the page shows it")
    full_path: str | None = Field(
        None, description="a large figure's full-size image; path is the display-size one")


class PrintedLine(_Model):
    """A printed value whose label names no metric (`Score: 0.93`): shown verbatim,
    never a result."""

    line: int = Field(description="the log line")
    text: str = Field(description="the whole line, as a terminal showed it")
    value: float | None = Field(description="the value read from it (null: not finite)")
    split: Literal["printed", "train", "validation"] = Field(
        "printed", description="what its label says it was measured on")


# -- the parent's fields -----------------------------------------------------------------
class Process(_Model):
    """How the run's process started: forked from the warm worker (the heavy libraries
    already imported) or as a fresh interpreter."""

    kind: Literal["forked from the warm worker", "fresh interpreter"] = Field(
        description="how it started")
    worker_pid: int | None = Field(None, description="forked: the warm worker's pid")


class LeftRunning(_Model):
    """A process the script started and left running when it ended (or was stopped);
    portfolio stopped it."""

    pid: int = Field(description="its process id")
    command: str = Field(description="its command line")


class OutsideWrites(_Model):
    """Files under results/ that changed while the run went on, outside its own run
    folder and the results the build replaced meanwhile: the script wrote into (or
    deleted) other runs' results. Runs at the same time are named: any of them may have
    done it."""

    message: str = Field(description="the warning, as the build printed it")
    added: list[str] = Field(default_factory=list, description="paths relative to results/")
    changed: list[str] = Field(default_factory=list, description="paths relative to results/")
    deleted: list[str] = Field(default_factory=list, description="paths relative to results/")
    also_running: list[str] = Field(
        default_factory=list, description="slugs of the runs going on at the same time")


class Inputs(_Model):
    """What the run's results depend on, each part hashed on its own: the input hash is
    the SHA-256 of this object (keys sorted)."""

    files: dict[str, str] = Field(
        default_factory=dict,
        description="project file (relative to its folder; <repo>/path for a repository "
                    "module it imported) to its SHA-256")
    meta: dict[str, Any] = Field(
        default_factory=dict, description="the project.yaml fields that change training")
    versions: dict[str, str] = Field(
        default_factory=dict, description="library to version, as in versions")
    format: int | None = Field(
        None, description="the results format (RESULTS_FORMAT) the run was made with")


class Hardware(_Model):
    """The machine the run ran on."""

    machine: str | None = Field(None, description="platform.machine()")
    system: str | None = Field(None, description="platform.system()")
    processor: str | None = Field(None, description="platform.processor(), else machine")
    cpus: int | None = Field(None, description="os.cpu_count()")


class Placement(_Model):
    """Where the run ran: here (the local executor) or on a Dask worker, with that
    worker's host name and address, the resources it was placed by, and its GPUs."""

    executor: Literal["local", "dask"] = Field(description="local or dask")
    host: str | None = Field(None, description="dask: the worker's host name")
    worker: str | None = Field(None, description="dask: the worker's address")
    scheduler: str | None = Field(None, description="dask: the scheduler's address")
    resources: dict[str, float] = Field(
        default_factory=dict, description="dask: what project.yaml asked the worker for")
    gpus: list[str] = Field(
        default_factory=list, description="dask: the GPUs the worker sees (nvidia-smi)")


def _doc(model: type[BaseModel]) -> str:
    """A model's docstring as one line: the description of a field holding it."""
    return " ".join((model.__doc__ or "").split())


# -- the record --------------------------------------------------------------------------
class RunRecord(_Model):
    """What one run of a project's script produced: `results/<slug>/run.json`."""

    schema_version: int = Field(
        RESULTS_FORMAT, ge=1,
        description="the results format the record was written in (RESULTS_FORMAT; 2 "
                    "before format 9, when the layout had a version of its own)")

    # What ran, and how it ended (the parent's, except status, error and seed).
    slug: str | None = Field(None, description="the project's folder name")
    title: str | None = Field(None, description="the project's title")
    script: str | None = Field(None, description="the script, relative to the project folder")
    command: str | None = Field(None, description="the command that runs it again")
    status: Status = Field(
        description="ok; failed (an error or a non-zero exit); timeout; killed (by a "
                    "signal, or its warm worker stopped); diverged (the loss became NaN)")
    error: str | None = Field(None, description="why it did not end ok")
    error_at: str | None = Field(
        None, description="where the script raised its error: the script's line (train.py:35), "
                          "the last of its frames in the traceback; a notebook's cell and line")
    returncode: int | None = Field(None, description="the child's exit code")
    seed: int | None = Field(None, description="the seed every library was seeded with")
    smoke: bool = Field(False, description="a smoke run: one short epoch, one candidate")
    started: str | None = Field(
        None, description="when it started, ISO 8601 with the UTC offset",
        json_schema_extra={"format": "date-time"})
    duration_s: float | None = Field(None, ge=0, description="wall-clock seconds")
    peak_memory_mb: float | None = Field(None, description="the child's peak resident memory")
    process: Process | None = Field(None, description=_doc(Process))
    left_running: list[LeftRunning] = Field(default_factory=list, description=_doc(LeftRunning))
    outside_writes: OutsideWrites | None = Field(None, description=_doc(OutsideWrites))
    log_incomplete: str | None = Field(
        None, description="why log.txt lacks part of the script's output: writing it failed "
                          "(a full disk, ENOSPC), and what was lost")

    # The five steps, as capture saw them (the child's).
    splits: list[Split] = Field(default_factory=list, description=_doc(Split))
    spot_checks: list[SpotCheck] = Field(default_factory=list, description=_doc(SpotCheck))
    searches: list[Search] = Field(default_factory=list, description=_doc(Search))
    fits: list[Fit] = Field(default_factory=list, description=_doc(Fit))
    evaluations: list[Evaluation] = Field(default_factory=list, description=_doc(Evaluation))
    results: list[Result] = Field(
        default_factory=list,
        description="every score measured, in order (later wins for a name); the judged "
                    "ones are metrics.json")
    logged_metrics: dict[str, float | None] = Field(
        default_factory=dict, description="portfolio.log_metric values: held-out results "
                                          "on the script's word")
    printed_metrics: list[str] = Field(
        default_factory=list, description="names of printed scores (split printed) that "
                                          "capture did not measure: headline candidates")
    printed_lines: list[PrintedLine] = Field(
        default_factory=list, description="printed values whose label names no metric "
                                          "(the last 20 lines)")
    confusion_matrices: list[ConfusionMatrix] = Field(
        default_factory=list, description=_doc(ConfusionMatrix))
    reports: list[Report] = Field(default_factory=list, description=_doc(Report))
    trivial_baseline: TrivialBaseline | None = Field(
        None, description="the trivial baseline the headline is compared with: its split's, "
                          "persistence first")
    trivial_baselines: list[TrivialBaseline] = Field(
        default_factory=list, description="one constant predictor per split (two for "
                                          "whole-number targets) and the persistence forecast "
                                          "for windows of the target")
    judged: Judged | None = Field(None, description=_doc(Judged))
    params: dict[str, Any] = Field(
        default_factory=dict, description="portfolio.log_param values (repr() when not "
                                          "a number, string or bool)")
    baselines: list[Baseline] = Field(default_factory=list, description=_doc(Baseline))
    notes: list[str] = Field(
        default_factory=list, description="portfolio.note paragraphs, Markdown")
    figures: list[Figure] = Field(default_factory=list, description=_doc(Figure))
    model: str | None = Field(
        None, description="the published model's file in the run folder: model.keras or "
                          "model.h5")
    saved_models: list[str] = Field(
        default_factory=list, description="files the script saved models to (absolute "
                                          "paths in the child)")
    architecture: Architecture | None = Field(None, description=_doc(Architecture))
    loaded_checkpoint: LoadedCheckpoint | None = Field(
        None, description=_doc(LoadedCheckpoint))
    demo: Demo | None = Field(None, description=_doc(Demo))
    diverged: Diverged | None = Field(None, description=_doc(Diverged))
    capture_warnings: list[str] = Field(
        default_factory=list, description="what capture could not record (the run went on)")
    local_modules: list[str] = Field(
        default_factory=list, description="repository modules outside the project the "
                                          "script imported, relative to the repository")
    log_anchors: dict[str, str] | None = Field(
        None, description="the child's only: line count to the last characters of that "
                          "line, for the parent to realign log_line stamps with the log; the "
                          "parent removes it")

    # What the results depend on, and where they were made (the parent's).
    input_hash: str | None = Field(
        None, pattern=r"^[0-9a-f]{64}$", description="SHA-256 of inputs: equal means fresh")
    inputs: Inputs | None = Field(None, description=_doc(Inputs))
    outputs: list[str] = Field(
        default_factory=list, description="files the script wrote in its project folder "
                                          "(relative to it): outputs, not inputs")
    versions: dict[str, str] = Field(
        default_factory=dict, description="python, keras, tensorflow, scikit-learn and numpy "
                                          "versions ('absent' when not installed)")
    hardware: Hardware | None = Field(None, description=_doc(Hardware))
    placement: Placement | None = Field(None, description=_doc(Placement))

    @field_validator("judged", mode="before")
    @classmethod
    def _no_judgement(cls, value: Any) -> Any:
        """``{}``: the child could not judge (its judge step failed): no judgement."""
        return None if value == {} else value

    # -- files --------------------------------------------------------------------------
    @classmethod
    def read(cls, path: Path) -> RunRecord:
        """The record in ``path``; :class:`CorruptRecord` naming the file and what is wrong
        with it (a JSON syntax error at line:column, a merge conflict, a field of the wrong
        type by its dotted path), :class:`ResultsError` when it cannot be read at all."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise CorruptRecord(path, [], f"{display(path)}: not UTF-8 text; "
                                f"{_remedy(path)}") from None
        except OSError as exc:
            raise ResultsError(f"{display(path)}: cannot be read "
                               f"({exc.strerror or exc}); {_remedy(path)}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CorruptRecord(path, [], syntax_error(path, text, exc)) from None
        except RecursionError:
            raise CorruptRecord(path, [], f"{display(path)}: nested too deeply to be a run "
                                f"record; {_remedy(path)}") from None
        if not isinstance(data, dict):
            raise CorruptRecord(path, [], f"{display(path)}:1:1: expected a JSON object (a "
                                f"run record), found {_json_type(data)}; {_remedy(path)}")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = _problems(data, exc)
            shown = problems[:_PROBLEMS_SHOWN]
            more = len(problems) - len(shown)
            lines = [f"{display(path)}: {p}" for p in shown]
            if more:
                lines.append(f"{display(path)}: and {more} more")
            lines.append(f"{display(path)}: not a run record portfolio can read; "
                         f"{_remedy(path)}")
            raise CorruptRecord(path, problems, "\n".join(lines)) from None

    def write(self, path: Path) -> None:
        """Write the record to ``path`` atomically (a temporary file beside it, then
        ``os.replace``): JSON indented by 2, the fields that were set in declaration order
        (``schema_version`` always), NaN and infinities as null."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(self.to_json())
                fh.flush()
                os.fsync(fh.fileno())
            Path(temporary).replace(path)
        except BaseException:
            with contextlib.suppress(OSError):
                Path(temporary).unlink()
            raise

    def to_json(self) -> str:
        """The text :meth:`write` writes."""
        # log_anchors is the child's message to the parent, which clears it once read.
        gone = {"log_anchors"} if self.log_anchors is None else None
        data = json.loads(self.model_dump_json(exclude_unset=True, by_alias=True, exclude=gone))
        data = {"schema_version": self.schema_version, **data}
        return json.dumps(_finite(data), indent=2, allow_nan=False) + "\n"


_PROBLEMS_SHOWN = 10


def _remedy(path: Path) -> str:
    return (f"fix it, or delete {display(path.parent)}/ to run the project again "
            "(portfolio writes this file)")


def syntax_error(path: Path, text: str, exc: json.JSONDecodeError) -> str:
    """Where the JSON breaks; a merge conflict (results are committed) said as one."""
    marker = next((n for n, line in enumerate(text.splitlines(), 1)
                   if line.startswith(("<<<<<<<", "=======", ">>>>>>>"))), None)
    if marker:
        return (f"{display(path)}:{marker}:1: an unresolved merge conflict (a '<<<<<<<' "
                f"marker); keep one side and delete the markers, or delete "
                f"{display(path.parent)}/ to run the project again")
    return f"{display(path)}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}; {_remedy(path)}"


def _json_type(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "true or false", int: "a number",
             float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _problems(data: Any, exc: ValidationError) -> list[str]:
    """``results.3.value: input should be a valid number (got 'high')``, one per field in
    the order found, the messages of a union's members joined."""
    found: dict[str, list[str]] = {}
    got: dict[str, Any] = {}
    for error in exc.errors(include_url=False):
        dotted = _dotted(data, error["loc"], error["type"])
        found.setdefault(dotted, [])
        if error["msg"] not in found[dotted]:
            found[dotted].append(error["msg"])
        if error["type"] != "missing":
            got.setdefault(dotted, error.get("input"))
    problems = []
    for dotted, messages in found.items():
        message = messages[0]
        prefix = "Input should be "
        if len(messages) > 1 and all(m.startswith(prefix) for m in messages):
            message = prefix + " or ".join(m.removeprefix(prefix).split(",")[0] for m in messages)
        elif len(messages) > 1:
            message = "; ".join(messages)
        message = "missing" if message == "Field required" else \
            message[:1].lower() + message[1:]
        if dotted in got:
            shown = json.dumps(got[dotted], default=str)
            message += f" (got {shown if len(shown) <= 60 else shown[:57] + '...'})"
        problems.append(f"{dotted or '(the record)'}: {message}")
    return problems


def _dotted(data: Any, loc: tuple[Any, ...], kind: str) -> str:
    """The dotted path of an error's location in ``data``. pydantic's location also names
    the members of a union it tried (``int``, ``float``...): a part that is no key or
    index of the data there is one of those, and is left out (except the missing key)."""
    parts: list[str] = []
    here = data
    for index, part in enumerate(loc):
        if (isinstance(here, dict) and part in here) or (
                isinstance(here, list) and isinstance(part, int) and 0 <= part < len(here)):
            here = here[part]
        elif kind != "missing" or index != len(loc) - 1:
            continue
        parts.append(str(part))
    return ".".join(parts)


def _finite(data: Any) -> Any:
    """JSON has no NaN or infinity: written as null."""
    if isinstance(data, float) and not math.isfinite(data):
        return None
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_finite(v) for v in data]
    return data


class _NoFieldTitles(GenerateJsonSchema):
    """The schema names models, not every field again (``"title": "Train Size"``)."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def json_schema() -> dict[str, Any]:
    """run.json's JSON Schema (draft 2020-12), generated from :class:`RunRecord`."""
    generated = RunRecord.model_json_schema(schema_generator=_NoFieldTitles)
    generated.pop("title", None)
    generated.pop("description", None)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            "title": SCHEMA_TITLE, "description": SCHEMA_DESCRIPTION, **generated}


def schema_text() -> str:
    """The text of ``run.schema.json``, as committed."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(schema_text())
