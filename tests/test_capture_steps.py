"""Capture of the five steps from plain scripts: Keras details, scikit-learn, printed results."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import jsonschema
import pytest
from portfolio.capture.naming import estimator_name

from tests.conftest import FIXTURES, portfolio_cli, run_child, run_record

SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "generator" / "portfolio" /
                     "run.schema.json").read_text())

FINE_TUNE = textwrap.dedent('''
    import numpy as np
    import keras
    import portfolio

    class Fragile(keras.Sequential):
        def count_params(self):  # makes one capturer fail: the script must not notice
            raise RuntimeError("no count for you")

    rng = np.random.default_rng(2)
    x = rng.normal(size=(120, 3)).astype("float32")
    y = (x[:, 0] - x[:, 1] > 0).astype("float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(6, activation="relu",
                              name="base"), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy",
                  metrics=["accuracy"])
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10.0,
                                         restore_best_weights=True)
    checkpoint = keras.callbacks.ModelCheckpoint("ckpt.weights.h5", save_weights_only=True)
    model.fit(x, y, epochs=5, batch_size=40, callbacks=[stop, checkpoint], verbose=0)
    model.get_layer("base").trainable = False                  # freeze, then fine-tune
    model.compile(optimizer=keras.optimizers.SGD(0.001), loss="binary_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=2, initial_epoch=0, batch_size=40, verbose=0)
    as_list = model.evaluate(x[:60], y[:60], verbose=0)
    as_dict = model.evaluate(x[60:], y[60:], verbose=0, return_dict=True)
    print("list", as_list, "dict", sorted(as_dict))

    fragile = Fragile([keras.Input((3,)), keras.layers.Dense(1)])
    fragile.compile(optimizer="sgd", loss="mse")
    fragile.fit(x, y, epochs=1, verbose=0)

    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    ax.plot([3, 1, 2])
    portfolio.figure(fig, caption="A figure with a caption")
    portfolio.note("The **second** fit only tunes the head.")
    portfolio.log_baseline("coin flip", 0.5, source="two balanced classes")
    portfolio.log_param("frozen", "base")
''')


@pytest.fixture(scope="module")
def fine_tuned(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = run_child(FINE_TUNE, tmp_path_factory.mktemp("keras") / "project")
    return run_record(out)


@pytest.mark.training
def test_two_fits_are_two_segments_with_their_optimizers(fine_tuned: dict) -> None:
    first, second, fragile = fine_tuned["fits"]
    assert (first["index"], second["index"]) == (0, 1)
    assert first["model_index"] == second["model_index"] == 0  # one model, two segments
    assert first["optimizer"]["class"] == "Adam"
    assert first["optimizer"]["config"]["learning_rate"] == pytest.approx(0.01)
    assert second["optimizer"]["class"] == "SGD"
    assert first["parameters"] == second["parameters"] == 3 * 6 + 6 + 6 + 1
    assert second["trainable_parameters"] == 6 + 1  # the frozen base no longer trains
    assert first["loss"] == "binary_crossentropy"
    assert fragile["model_index"] == 1


@pytest.mark.training
def test_early_stopping_is_recorded_as_fields(fine_tuned: dict) -> None:
    first = fine_tuned["fits"][0]
    stopping = first["early_stopping"]
    # min_delta=10 means no epoch ever improves: Keras stops after the first epoch past patience.
    assert stopping["restore_best_weights"] is True
    assert stopping["stopped_epoch"] == len(first["epochs"]) - 1
    assert stopping["best_epoch"] == 0
    assert stopping["best"] == pytest.approx(first["epochs"][0]["loss"])
    assert len(first["epochs"]) < 5  # metrics are logged for real epochs only


@pytest.mark.training
def test_model_checkpoint_files_are_recorded(fine_tuned: dict) -> None:
    [checkpoint] = fine_tuned["fits"][0]["checkpoints"]
    assert checkpoint.endswith("ckpt.weights.h5")


@pytest.mark.training
def test_evaluate_with_and_without_return_dict_in_order(fine_tuned: dict) -> None:
    first, second = fine_tuned["evaluations"]
    assert set(first["metrics"]) == set(second["metrics"]) == {"loss", "accuracy"}
    assert first["metrics"] != second["metrics"]  # two data sets, two records


@pytest.mark.training
def test_a_failing_capturer_is_a_warning_not_a_crash(fine_tuned: dict) -> None:
    assert fine_tuned["status"] == "ok"
    warnings = fine_tuned["capture_warnings"]
    assert warnings[0] == "fit details: RuntimeError: no count for you"
    assert all("no count for you" in w for w in warnings)  # later: its summary, its save


@pytest.mark.training
def test_explicit_api(fine_tuned: dict) -> None:
    captions = {f["caption"]: f["source"] for f in fine_tuned["figures"]}
    assert captions["A figure with a caption"] == "portfolio.figure"
    assert fine_tuned["notes"] == ["The **second** fit only tunes the head."]
    assert fine_tuned["baselines"] == [
        {"name": "coin flip", "value": 0.5, "source": "two balanced classes"}]
    assert fine_tuned["params"] == {"frozen": "base"}


@pytest.mark.training
def test_run_json_matches_its_schema(fine_tuned: dict) -> None:
    jsonschema.validate(fine_tuned, SCHEMA)


@pytest.fixture(scope="module")
def spot_checked(tmp_path_factory: pytest.TempPathFactory) -> dict:
    script = (FIXTURES / "scripts" / "spot_check.py").read_text()
    return run_record(run_child(script, tmp_path_factory.mktemp("sk") / "project"))


@pytest.mark.training
def test_split_sizes_shapes_and_class_balance(spot_checked: dict) -> None:
    [split] = spot_checked["splits"]
    assert (split["train_size"], split["test_size"]) == (120, 30)
    assert split["shapes"][0] == {"train": [120, 4], "test": [30, 4]}
    balance = split["class_balance"]
    assert sum(balance["train"].values()) == 120 and sum(balance["test"].values()) == 30
    assert set(balance["train"]) == {"0", "1", "2"}


@pytest.mark.training
def test_every_spot_check_has_its_label_and_all_fold_scores(spot_checked: dict) -> None:
    checks = spot_checked["spot_checks"]
    assert [c["name"] for c in checks] == ["LR", "LDA", "KNN", "CART", "NB", "SVM"]
    for check in checks:
        assert len(check["scores"]) == 10 and check["scoring"] == "accuracy"
        assert check["metric"] == "accuracy"
        assert check["mean"] == pytest.approx(sum(check["scores"]) / 10)
    kinds = [f["kind"] for f in spot_checked["figures"]]
    assert "spot-check" in kinds  # our box plot, beside the script's own


@pytest.mark.training
def test_grid_search_space_best_parameters_and_ranking(spot_checked: dict) -> None:
    [search] = spot_checked["searches"]
    assert search["kind"] == "GridSearchCV" and search["estimator"] == "SVC"
    assert search["space"] == {"C": [0.1, 1, 10], "kernel": ["linear", "rbf"]}
    assert search["candidates"] == 6
    assert search["top"][0]["params"] == search["best_params"]
    assert search["top"][0]["mean"] == pytest.approx(search["best_score"])
    assert [t["rank"] for t in search["top"]] == sorted(t["rank"] for t in search["top"])


@pytest.mark.training
def test_held_out_scores_confusion_matrix_and_report(spot_checked: dict) -> None:
    accuracy = [r for r in spot_checked["results"] if r["name"] == "accuracy"]
    assert [(r["source"], r["split"]) for r in accuracy] == [
        ("sklearn.metrics.accuracy_score", "test")]  # not the scores inside the CV and search
    [matrix] = spot_checked["confusion_matrices"]
    assert sum(map(sum, matrix["matrix"])) == 30 and matrix["split"] == "test"
    [report] = spot_checked["reports"]
    assert "precision" in report["text"]


@pytest.mark.training
def test_majority_class_baseline_is_computed(spot_checked: dict) -> None:
    baseline = spot_checked["trivial_baseline"]
    balance = spot_checked["splits"][0]["class_balance"]
    majority = max(balance["train"], key=balance["train"].get)
    assert baseline["name"] == f"Always predicts class {majority}"  # not "Majority class (2)"
    assert baseline["metrics"]["accuracy"] == pytest.approx(balance["test"][majority] / 30)
    jsonschema.validate(spot_checked, SCHEMA)


@pytest.mark.cli
def test_printed_rmse_becomes_a_metric_with_its_baseline(tiny: Path) -> None:
    folder = tiny / "projects" / "printed"
    folder.mkdir()
    (folder / "project.yaml").write_text("title: Printed\n")
    (folder / "train.py").write_text((FIXTURES / "scripts" / "numpy_rmse.py").read_text())
    assert portfolio_cli("run", "printed", cwd=tiny).returncode == 0
    results = tiny / "results" / "printed"
    printed = float((results / "log.txt").read_text().split("Test RMSE: ")[1].split()[0])
    assert json.loads((results / "metrics.json").read_text()) == {}  # not verified held-out
    run = json.loads((results / "run.json").read_text())
    [result] = run["results"]
    assert (result["source"], result["line"], result["value"]) == ("output", 1, printed)
    assert run["printed_metrics"] == ["rmse"]
    assert run["baselines"][0]["name"] == "persistence"
    assert run["baselines"][0]["value"] == 0.5


@pytest.mark.cli
def test_printed_number_never_overrides_a_captured_one(tiny: Path) -> None:
    folder = tiny / "projects" / "both"
    folder.mkdir()
    (folder / "project.yaml").write_text("title: Both\n")
    (folder / "train.py").write_text(
        "import portfolio\nportfolio.log_metric('accuracy', 0.9)\nprint('Accuracy: 12.00')\n"
        "print('loss = 3.5')\n")
    assert portfolio_cli("run", "both", cwd=tiny).returncode == 0
    metrics = json.loads((tiny / "results" / "both" / "metrics.json").read_text())
    assert metrics == {"accuracy": 0.9}  # the logged value; printed ones are never held out
    run = json.loads((tiny / "results" / "both" / "run.json").read_text())
    assert {(r["name"], r["value"]) for r in run["results"] if r["source"] == "output"} == {
        ("accuracy", 0.12), ("loss", 3.5)}


def test_estimator_name_prefers_the_scripts_label() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    labelled = {"Logistic (scaled)": make_pipeline(StandardScaler(), LogisticRegression())}
    assert estimator_name(labelled["Logistic (scaled)"]) == "Logistic (scaled)"
    ridge_like = LogisticRegression()
    assert estimator_name(ridge_like) == "ridge_like"
    model = make_pipeline(StandardScaler(), LogisticRegression())
    assert estimator_name(model) == "LogisticRegression"  # generic name: the last step's class
    candidates = {"k-NN": LogisticRegression()}
    for estimator in candidates.values():  # wrapped in a pipeline at the call
        assert estimator_name(make_pipeline(StandardScaler(), estimator)) == "k-NN"
    for name, model in {"unnamed dict": LogisticRegression()}.items():  # noqa: B007
        assert estimator_name(model) == "unnamed dict"
