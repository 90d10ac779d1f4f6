"""Zero-code capture inside the child: a plain Keras script, run by ``portfolio.child``."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import run_child, run_record

SCRIPT = textwrap.dedent('''
    import matplotlib.pyplot as plt
    import numpy as np
    import keras

    import portfolio

    rng = np.random.default_rng(1)
    x = rng.normal(size=(80, 3)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")], name="tiny")
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    callbacks = [keras.callbacks.TerminateOnNaN()]
    model.fit(x[:60], y[:60], 20, 2, 0, callbacks, validation_split=0.25)  # positional
    assert len(callbacks) == 1, "the user's callbacks list was changed"
    first = model.evaluate(x[60:70], y[60:70], verbose=0)           # a list, positional
    second = model.evaluate(x[70:], y[70:], verbose=0, return_dict=True)
    print("evaluate returned", type(first).__name__, type(second).__name__)
    model.save("saved/tiny.keras")
    portfolio.log_metric("custom_score", np.float32(0.5))
    plt.figure()
    plt.plot([1, 2, 3])
    plt.title("Shown figure")
    plt.show()
    fig, ax = plt.subplots()
    ax.set_title("Saved figure")
    fig.savefig("saved/chart.png")
    plt.figure()
    plt.title("Left open")
''')


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("capture") / "project"
    (project / "saved").mkdir(parents=True)
    out = run_child(SCRIPT, project)
    # The script's own values are untouched by capture.
    assert "evaluate returned list dict" in (out / "log.txt").read_text()
    return out


@pytest.mark.training
def test_fit_binds_positional_arguments(captured: Path) -> None:
    [segment] = run_record(captured)["fits"]
    assert segment["params"]["batch_size"] == 20
    assert segment["params"]["epochs"] == 2
    assert segment["model"] == "tiny"


@pytest.mark.training
def test_history_csv_has_one_row_per_epoch_with_keras_columns(captured: Path) -> None:
    with (captured / "history.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["epoch"] for r in rows] == ["0", "1"]
    assert set(rows[0]) == {"epoch", "accuracy", "loss", "val_accuracy", "val_loss"}
    [segment] = run_record(captured)["fits"]
    assert float(rows[1]["loss"]) == pytest.approx(segment["epochs"][1]["loss"])


@pytest.mark.training
def test_each_evaluate_is_recorded_in_order_and_fit_validation_is_not(captured: Path) -> None:
    evaluations = run_record(captured)["evaluations"]
    assert [e["index"] for e in evaluations] == [0, 1]  # not the validation passes of fit
    assert set(evaluations[0]["metrics"]) == {"loss", "accuracy"}


@pytest.mark.training
def test_metrics_json_holds_the_last_evaluate_and_logged_metrics(captured: Path) -> None:
    metrics = json.loads((captured / "metrics.json").read_text())
    last = run_record(captured)["evaluations"][-1]
    assert last["split"] == "test"  # rows 70-79 were never given to fit
    # Keras' "loss" is the binary cross-entropy the model was compiled with: named so
    named = {"binary_crossentropy" if k == "loss" else k: v for k, v in last["metrics"].items()}
    assert metrics == {**named, "custom_score": 0.5}


@pytest.mark.training
def test_saved_model_is_recorded_and_published(captured: Path) -> None:
    record = run_record(captured)
    assert record["saved_models"][0].endswith("saved/tiny.keras")
    assert record["model"] == "model.keras"
    assert (captured / "model.keras").read_bytes()[:2] == b"PK"  # a .keras file is a zip
    assert "saved/tiny.keras" in record["outputs"]


@pytest.mark.training
def test_figures_shown_saved_and_left_open_are_all_captured(captured: Path) -> None:
    figures = {f["caption"]: f for f in run_record(captured)["figures"]}
    assert figures["Shown figure"]["source"] == "plt.show"
    assert figures["Saved figure"]["source"] == "savefig"
    assert figures["Left open"]["source"] == "open at exit"
    assert any(f["kind"] == "learning-curve" for f in figures.values())
    for figure in figures.values():
        assert (captured / figure["path"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.training
def test_run_record_has_status_seed_and_architecture(captured: Path) -> None:
    record = run_record(captured)
    assert (record["status"], record["seed"], record["capture_warnings"]) == ("ok", 3, [])
    assert record["architecture"]["parameters"] == 3 * 4 + 4 + 4 + 1
    assert "dense" in record["architecture"]["summary"].lower()


@pytest.mark.cli
def test_explicit_api_is_a_no_op_outside_a_run() -> None:
    code = ("import portfolio; portfolio.log_metric('x', 1); portfolio.log_param('p', 2);"
            "portfolio.log_baseline('b', 3); portfolio.note('n'); print('ok')")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTFOLIO_")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, check=True)
    assert result.stdout.strip() == "ok"
