"""``portfolio export mlflow``: each project's recorded run, replayed into MLflow.

Nothing trains: the run is read from ``results/<slug>/`` and written through MLflow's
client API (``MlflowClient``) into an experiment per project (``portfolio/<slug>``):

- params: the seed, each fit's settings (``fit.epochs``, ``fit.batch_size``, the optimizer
  and its learning rate, the loss), each search's best parameters (``search.<name>``) and
  the script's own ``portfolio.log_param`` values;
- metrics: the held-out results (``metrics.json``) as ``test_<name>``, and each epoch of
  ``history.csv`` under Keras' names (``loss``, ``accuracy``, ``val_accuracy``…) with
  ``step`` = the epoch;
- tags: ``portfolio.slug``, ``portfolio.input_hash``, ``portfolio.version``, the git commit
  of the repository, the script (``mlflow.source.name``);
- artifacts: the figures, the model and the log.

Exporting again updates the same MLflow run (found by its ``portfolio.input_hash`` and
``portfolio.started`` tags): params and metric values (by name and step) it already holds
are not logged twice, so an export stopped halfway is completed, and artifacts are
replaced. A new run of the project (new inputs, or the same ones trained again) becomes a
new MLflow run in the same experiment. An experiment deleted in MLflow's UI is restored
(MLflow keeps its name taken until ``mlflow gc``), and said so.
MLflow is an optional extra (``pip install 'portfolio[mlflow]'``), imported only here.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from portfolio import __version__, discover, plan, results
from portfolio.domain import Project, RunResult, Workspace
from portfolio.errors import InputError
from portfolio.publish import redact

EXPERIMENT_PREFIX = "portfolio/"
_PARAM_MAX = 6000  # MLflow's limit on a param value's length
_PROBE_S = 10.0  # how long a tracking server may take to accept a connection
# MLflow retries a failed request 7 times with a growing back-off (about 4 minutes in all):
# an export is run by hand, and a server that does not answer is better said at once.
_RETRIES = "2"


class ExportError(InputError):
    """MLflow missing, or a tracking store it cannot use: exit code 2."""


@dataclass(frozen=True)
class Exported:
    slug: str
    run_id: str
    created: bool  # False: an existing MLflow run was updated
    metrics: int  # values logged this time (0 when it had them all)
    restored: bool = False  # its experiment had been deleted in MLflow, and was restored


def export(ws: Workspace, slugs: list[str], tracking_uri: str | None) -> list[Exported]:
    """Export the good runs of ``slugs`` (or of every project); those never run are left
    out (said by the command)."""
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise ExportError("portfolio export mlflow needs MLflow, which is not installed "
                          "here: pip install 'portfolio[mlflow]'") from None
    projects = discover.discover(ws, slugs or None)
    commit = _git_commit(ws.root)
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", _RETRIES)
    where = redact(tracking_uri or "MLflow's default tracking store")
    _reachable(tracking_uri)
    done: list[Exported] = []
    try:
        client = MlflowClient(tracking_uri=tracking_uri)
        for project in projects:
            result = plan.state_of(ws, project).good
            if result is not None:
                done.append(_export_one(client, project, result, commit))
    except Exception as exc:  # MLflow's errors: a store it cannot open, a refused value
        # redact: a tracking URI may carry a password, and MLflow's messages repeat it.
        raise ExportError(redact(f"the export to {where} failed after {len(done)} "
                                 f"project(s): {type(exc).__name__}: {exc}")) from None
    return done


def _reachable(tracking_uri: str | None) -> None:
    """A tracking server (http, https) that does not accept a connection is said at once,
    in one line, rather than after MLflow's minutes of retries."""
    from urllib.parse import urlsplit

    import mlflow

    uri = tracking_uri or mlflow.get_tracking_uri()
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https"):
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        with socket.create_connection((parts.hostname or "localhost", port), timeout=_PROBE_S):
            pass
    except ValueError as exc:  # a port that is not a number
        raise ExportError(redact(f"{uri}: not a tracking URI MLflow can use ({exc})")) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__  # a timeout has no strerror
        raise ExportError(redact(f"the MLflow tracking server at {uri} cannot be reached "
                                 f"({reason}): start it, or pass the right --tracking-uri")
                          ) from None


def _export_one(client: Any, project: Project, result: RunResult, commit: str | None
                ) -> Exported:
    from mlflow.entities import Metric, Param, RunTag

    record = result.run
    name = f"{EXPERIMENT_PREFIX}{project.slug}"
    experiment = client.get_experiment_by_name(name)
    restored = experiment is not None and experiment.lifecycle_stage == "deleted"
    if restored:  # its name stays taken until `mlflow gc`: nothing else can be made
        client.restore_experiment(experiment.experiment_id)
    experiment_id = experiment.experiment_id if experiment else client.create_experiment(
        name, tags={"portfolio.slug": project.slug})
    # One MLflow run per recorded run: the same inputs trained again (--force) is a new run.
    found = client.search_runs(
        [experiment_id], filter_string=f"tags.`portfolio.input_hash` = '{record.input_hash}' "
                                       f"and tags.`portfolio.started` = '{record.started}'",
        max_results=1)
    started = _millis(record.started)
    tags = [RunTag(k, v) for k, v in _tags(project, result, commit).items()]
    if found:
        run = found[0]
        created = False
    else:  # tagged as it is made: an export stopped halfway is found again, not duplicated
        run = client.create_run(experiment_id, start_time=started, run_name=project.meta.title,
                                tags={t.key: t.value for t in tags})
        created = True
    run_id = run.info.run_id
    have_params = dict(run.data.params) if not created else {}
    have_metrics = _logged(client, run) if not created else set()

    params = [Param(k, v) for k, v in _params(result).items() if k not in have_params]
    ended = started + int((record.duration_s or 0) * 1000) if started else None
    # Held-out results as test_<name>: Keras' history has its own `accuracy` (on the
    # training data), and MLflow would show its last epoch under the same name.
    metrics = [Metric(f"test_{k}", v, ended or 0, 0) for k, v in result.metrics.items()
               if isinstance(v, int | float)]
    metrics += _history(result, started or 0)
    metrics = [m for m in metrics if (m.key, m.step) not in have_metrics]
    client.log_batch(run_id, tags=tags)
    for start in range(0, len(params), 100):  # MLflow's limits per batch
        client.log_batch(run_id, params=params[start:start + 100])
    for start in range(0, len(metrics), 1000):
        client.log_batch(run_id, metrics=metrics[start:start + 1000])
    for path, folder in _artifacts(result):
        client.log_artifact(run_id, str(path), folder)
    client.set_terminated(run_id, status="FINISHED", end_time=ended)
    return Exported(project.slug, run_id, created, len(metrics), restored)


def _logged(client: Any, run: Any) -> set[tuple[str, int]]:
    """Each (metric, step) the MLflow run holds. By step, not by name: an export stopped
    between two batches left the first epochs of a metric, and the next one adds the rest."""
    return {(key, m.step) for key in run.data.metrics
            for m in client.get_metric_history(run.info.run_id, key)}


def _params(result: RunResult) -> dict[str, str]:
    record = result.run
    found: dict[str, Any] = {"seed": record.seed}
    for fit in record.fits:
        prefix = "fit." if len(record.fits) == 1 else f"fit{fit.index}."
        for key in ("epochs", "batch_size", "validation_split"):
            if key in fit.params:
                found[prefix + key] = fit.params[key]
        if fit.optimizer is not None:
            found[prefix + "optimizer"] = fit.optimizer.class_
            rate = fit.optimizer.config.get("learning_rate")
            if isinstance(rate, int | float):
                found[prefix + "learning_rate"] = rate
        if fit.loss:
            found[prefix + "loss"] = fit.loss
        if fit.parameters is not None:
            found[prefix + "parameters"] = fit.parameters
    for search in record.searches:
        for key, value in search.best_params.items():
            found[f"search.{search.estimator}.{key}"] = value
    found.update({f"param.{k}": v for k, v in record.params.items()})
    return {k: str(v)[:_PARAM_MAX] for k, v in found.items() if v is not None}


def _tags(project: Project, result: RunResult, commit: str | None) -> dict[str, str]:
    record = result.run
    tags = {"portfolio.slug": project.slug, "portfolio.input_hash": record.input_hash or "",
            "portfolio.started": record.started or "",
            "portfolio.version": __version__, "portfolio.status": record.status,
            "mlflow.source.name": project.meta.script, "mlflow.runName": project.meta.title}
    if commit:
        tags["mlflow.source.git.commit"] = commit
    if project.meta.metric:
        tags["portfolio.metric"] = project.meta.metric.name
    return tags


def _history(result: RunResult, started: int) -> list[Any]:
    """Each epoch's values, step = the epoch (1, 2, ...), as Keras' CSVLogger wrote them."""
    from mlflow.entities import Metric

    metrics = []
    for row in result.history:
        try:
            epoch = int(float(row.get("epoch", "")))
        except ValueError:
            continue
        for key, text in row.items():
            if key == "epoch":
                continue
            with contextlib.suppress(TypeError, ValueError):
                metrics.append(Metric(key, float(text), started, epoch + 1))
    return metrics


def _artifacts(result: RunResult) -> list[tuple[Path, str | None]]:
    folder = result.folder
    found: list[tuple[Path, str | None]] = [
        (path, "figures") for path in sorted((folder / "figures").glob("*")) if path.is_file()]
    if result.run.model and (folder / result.run.model).is_file():
        found.append((folder / result.run.model, "model"))
    for name in (results.LOG, results.METRICS, results.RUN_RECORD):
        if (folder / name).is_file():
            found.append((folder / name, None))
    return found


def _millis(started: str | None) -> int | None:
    if not started:
        return None
    try:
        return int(datetime.fromisoformat(started).timestamp() * 1000)
    except ValueError:
        return None


def _git_commit(root: Path) -> str | None:
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                              text=True, check=False)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None
