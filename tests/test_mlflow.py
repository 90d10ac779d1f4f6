"""``portfolio export mlflow`` into a SQLite tracking store made by the test, read back
through MLflow's own client."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from conftest import Built, portfolio_cli

mlflow = pytest.importorskip("mlflow")


@pytest.mark.training
def test_export_replays_the_recorded_runs_and_updates_them(built_tiny: Built,
                                                           tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    root = tmp_path / "tiny"
    shutil.copytree(built_tiny.root, root)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    first = portfolio_cli("export", "mlflow", "--tracking-uri", uri, cwd=root)
    assert first.returncode == 0, first.stderr
    assert "tutorial: created MLflow run" in first.stdout
    assert "failing" not in first.stdout  # never ran successfully: nothing to export

    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("portfolio/tutorial")
    [run] = client.search_runs([experiment.experiment_id])
    record = json.loads((root / "results" / "tutorial" / "run.json").read_text())
    metrics = json.loads((root / "results" / "tutorial" / "metrics.json").read_text())
    with (root / "results" / "tutorial" / "history.csv").open() as fh:
        history = list(csv.DictReader(fh))

    assert run.data.tags["portfolio.input_hash"] == record["input_hash"]
    assert run.data.tags["portfolio.slug"] == "tutorial"
    assert run.data.tags["portfolio.version"]
    assert run.data.params["seed"] == str(record["seed"])
    assert run.data.params["fit.epochs"] == str(record["fits"][0]["params"]["epochs"])
    assert run.data.params["fit.optimizer"] == record["fits"][0]["optimizer"]["class"]
    for name, value in metrics.items():
        assert run.data.metrics[f"test_{name}"] == pytest.approx(value)
    losses = client.get_metric_history(run.info.run_id, "loss")
    assert [(m.step, m.value) for m in sorted(losses, key=lambda m: m.step)] == [
        (int(row["epoch"]) + 1, pytest.approx(float(row["loss"]))) for row in history]
    stored = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"figures", "model", "log.txt", "metrics.json", "run.json"} <= stored
    assert {a.path for a in client.list_artifacts(run.info.run_id, "model")} == {
        "model/model.keras"}
    assert run.info.status == "FINISHED"

    again = portfolio_cli("export", "mlflow", "--tracking-uri", uri, "tutorial", cwd=root)
    assert again.returncode == 0, again.stderr
    assert f"tutorial: updated MLflow run {run.info.run_id} (0 metric values logged)" in \
        again.stdout
    assert len(client.search_runs([experiment.experiment_id])) == 1
    assert len(client.get_metric_history(run.info.run_id, "loss")) == len(history)


@pytest.mark.training
def test_a_store_mlflow_cannot_open_is_a_message(built_tiny: Built, tmp_path: Path) -> None:
    root = tmp_path / "tiny"
    shutil.copytree(built_tiny.root, root)
    (tmp_path / "a-file").write_text("not a folder")
    uri = f"sqlite:///{tmp_path / 'a-file' / 'mlflow.db'}"
    result = portfolio_cli("export", "mlflow", "--tracking-uri", uri, cwd=root)
    assert result.returncode == 2, result.stderr
    assert f"the export to {uri} failed after 0 project(s)" in result.stderr
    assert "Traceback" not in result.stderr
