"""The live demo, made in the child and placed on the page: the published model exported to
ONNX and checked against Keras on held-out examples, never a wrong demo, never a failed run
(capture/demo.py); the "Try the model" section and its files (demopage.py, render.py)."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import (
    REPO,
    copy_portfolio,
    example_portfolio,
    make_project,
    portfolio_cli,
    run_child,
    run_record,
)

CLASSIFIER = """
import numpy as np
from sklearn.datasets import load_iris
from sklearn.metrics import classification_report
from sklearn.model_selection import train_test_split
from tensorflow import keras

data = load_iris()
X_train, X_test, y_train, y_test = train_test_split(
    data.data, data.target, test_size=0.3, stratify=data.target, random_state=1)
model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(8, activation="relu"),
                          keras.layers.Dense(3, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(X_train, y_train, epochs=2, verbose=1)
print("Test accuracy: %.2f" % model.evaluate(X_test, y_test, verbose=0)[1])
predicted = model.predict(X_test, verbose=0).argmax(axis=1)
print(classification_report(y_test, predicted, target_names=data.target_names))
"""


CUSTOM_LAYER = """
import numpy as np
import tensorflow as tf
from tensorflow import keras

class Doubling(keras.layers.Layer):
    # A custom layer with a NumPy step inside: no ONNX runtime knows that operation.
    def call(self, x):
        y = tf.numpy_function(lambda a: (a * 2).astype("float32"), [x], tf.float32)
        return tf.ensure_shape(y, x.shape)

rng = np.random.default_rng(0)
x = rng.normal(size=(80, 4)).astype("float32")
y = (x[:, 0] > 0).astype(int)
model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3), Doubling(),
                          keras.layers.Dense(2, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x[:60], y[:60], epochs=1, verbose=0)
model.evaluate(x[60:], y[60:], verbose=0)
"""


def examples_of(out: Path) -> dict:
    return json.loads((out / "demo" / "examples.json").read_text())


@pytest.mark.training
def test_a_classifier_gets_a_demo_that_onnx_runtime_reproduces(tmp_path: Path) -> None:
    out = run_child(CLASSIFIER, tmp_path / "iris")
    record = run_record(out)
    demo = record["demo"]
    assert demo["available"] and demo["kind"] == "classification", demo
    assert demo["max_abs_diff"] <= 1e-4 and not demo["image"] and demo["drawing"] is None
    described = examples_of(out)
    assert described["classes"] == ["setosa", "versicolor", "virginica"]  # target_names
    assert described["output"] == "probabilities"
    assert described["input"]["shape"] == [1, 4]
    examples = described["examples"]
    assert demo["examples"] == len(examples) == 16
    # Held-out rows, every class before any twice: the first three examples differ.
    assert len({e["truth"] for e in examples[:3]}) == 3 or len(examples) < 3
    # The recorded predictions are the published model's: run it again here.
    import onnxruntime

    session = onnxruntime.InferenceSession(str(out / "demo" / "model.onnx"))
    name = session.get_inputs()[0].name
    for example in examples:
        row = np.asarray(example["input"], dtype=np.float32).reshape(1, 4)
        again = session.run(None, {name: row})[0][0]
        assert np.max(np.abs(again - np.asarray(example["keras"]))) <= 1e-4
    # The inputs are rows of the test split, as the script held them.
    from sklearn.datasets import load_iris
    from sklearn.model_selection import train_test_split

    data = load_iris()
    _, x_test, _, y_test = train_test_split(data.data, data.target, test_size=0.3,
                                            stratify=data.target, random_state=1)
    rows = {tuple(np.float32(x_test[i])): int(y_test[i]) for i in range(len(x_test))}
    for example in examples:
        assert rows[tuple(np.float32(example["input"]))] == example["truth"]
    assert "demo:" not in " ".join(record["capture_warnings"])
    log = (out / "log.txt").read_text()
    assert "tf2onnx" not in log and "PyFunc" not in log  # the converter's chatter is not the log


@pytest.mark.training
def test_a_model_the_exporter_cannot_handle_has_no_demo_and_a_warning(tmp_path: Path) -> None:
    out = run_child(CUSTOM_LAYER, tmp_path / "custom")
    record = run_record(out)
    assert record["status"] == "ok"
    assert record["demo"]["available"] is False
    warning = [w for w in record["capture_warnings"] if w.startswith("demo:")]
    assert len(warning) == 1 and "PyFunc" in warning[0] and "no live demo" in warning[0]
    assert "PyFunc" in record["demo"]["reason"]
    assert not (out / "demo").exists()  # nothing half-made is left to publish
    assert (out / "model.keras").is_file()  # the model is still published


@pytest.mark.cli
def test_a_page_whose_model_cannot_be_exported_has_no_demo_and_says_why(
        tmp_path: Path) -> None:
    root = copy_portfolio("tiny", tmp_path / "tiny")
    for slug in ("tutorial", "failing", "no-keras"):
        shutil.rmtree(root / "projects" / slug)
    make_project(root, "custom", CUSTOM_LAYER)
    result = portfolio_cli("build", cwd=root)
    assert result.returncode == 0, result.stderr
    page = html.unescape((root / "site" / "projects" / "custom" / "index.html").read_text())
    assert "pf-demo" not in page and "Try the model" not in page
    assert "demo: the exported model holds an operation ONNX does not know (PyFunc)" in page
    assert not (root / "site" / "assets" / "ort").exists()
    # The owner turns the demo off: why there is none is no longer the page's business.
    meta = root / "projects" / "custom" / "project.yaml"
    meta.write_text(meta.read_text() + "demo: false\n")
    result = portfolio_cli("build", cwd=root)
    assert result.returncode == 0 and "ok in" not in result.stderr, result.stderr  # no re-run
    page = html.unescape((root / "site" / "projects" / "custom" / "index.html").read_text())
    assert "PyFunc" not in page


@pytest.mark.training
def test_an_export_that_predicts_otherwise_is_refused(tmp_path: Path) -> None:
    """Never a wrong demo: a model whose export differs from what Keras predicts (here a
    script's own export that writes another model's weights) gets no demo."""
    script = """
import numpy as np
from tensorflow import keras

class Exported(keras.Sequential):
    def export(self, filepath, **kwargs):
        other = keras.Sequential([keras.Input(shape=(4,)),
                                  keras.layers.Dense(2, activation="softmax")])
        other.set_weights([w * 3.0 for w in self.get_weights()])  # sharper softmax
        other(np.zeros((1, 4), dtype="float32"))
        return other.export(filepath, **kwargs)

rng = np.random.default_rng(0)
x = rng.normal(size=(80, 4)).astype("float32")
y = (x[:, 0] > 0).astype(int)
model = Exported([keras.Input(shape=(4,)), keras.layers.Dense(2, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x[:60], y[:60], epochs=1, verbose=0)
model.evaluate(x[60:], y[60:], verbose=0)
"""
    out = run_child(script, tmp_path / "drifting")
    record = run_record(out)
    assert record["status"] == "ok" and record["demo"]["available"] is False
    assert "predicts differently from Keras" in record["demo"]["reason"]
    assert any("predicts differently from Keras" in w for w in record["capture_warnings"])
    assert not (out / "demo").exists()


@pytest.mark.training
def test_a_model_only_scored_on_its_training_data_has_no_demo(tmp_path: Path) -> None:
    script = """
import numpy as np
from tensorflow import keras

rng = np.random.default_rng(0)
x = rng.normal(size=(64, 3)).astype("float32")
y = (x[:, 0] > 0).astype(int)
model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x, y, epochs=1, verbose=0)
print(model.evaluate(x, y, verbose=0))
"""
    out = run_child(script, tmp_path / "train-only")
    record = run_record(out)
    assert record["demo"]["available"] is False
    assert "never evaluated on held-out data" in record["demo"]["reason"]
    assert not any(w.startswith("demo:") for w in record["capture_warnings"])  # not a fault


@pytest.mark.training
def test_a_forecaster_gets_a_sequence_demo_with_its_windows(tmp_path: Path) -> None:
    script = """
import numpy as np
from tensorflow import keras

series = np.sin(np.arange(120) / 6).astype("float32")
windows = np.stack([series[i:i + 8] for i in range(len(series) - 8)])[..., np.newaxis]
targets = series[8:]
split = 80
model = keras.Sequential([keras.Input(shape=(8, 1)), keras.layers.LSTM(4), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse",
              metrics=[keras.metrics.RootMeanSquaredError(name="rmse")])
model.fit(windows[:split], targets[:split], epochs=2, batch_size=16, verbose=2)
print(model.evaluate(windows[split:], targets[split:], return_dict=True, verbose=0))
"""
    out = run_child(script, tmp_path / "forecast")
    demo = run_record(out)["demo"]
    assert demo["available"] and demo["kind"] == "sequence", demo
    described = examples_of(out)
    assert described["output"] == "value" and described["input"]["shape"] == [1, 8, 1]
    series = np.sin(np.arange(120) / 6).astype("float32")
    for example in described["examples"]:  # each a window of the test part, its next value
        window = np.asarray(example["input"], dtype=np.float32)
        start = next(i for i in range(80, 112) if np.array_equal(series[i:i + 8], window))
        assert np.float32(example["truth"]) == series[start + 8]


@pytest.mark.training
def test_whole_number_targets_of_a_one_output_model_are_values_not_classes(
        tmp_path: Path) -> None:
    """A wine's quality, 3 to 9, predicted by one linear output: a regression demo."""
    script = """
import numpy as np
from tensorflow import keras

rng = np.random.default_rng(0)
x = rng.normal(size=(120, 5)).astype("float32")
quality = np.clip(np.round(6 + 1.5 * x[:, 0]), 3, 9).astype(int)
model = keras.Sequential([keras.Input(shape=(5,)), keras.layers.Dense(8, activation="relu"),
                          keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(x[:90], quality[:90], epochs=2, verbose=0)
print("Test MSE: %.3f" % model.evaluate(x[90:], quality[90:], verbose=0))
"""
    out = run_child(script, tmp_path / "quality")
    demo = run_record(out)["demo"]
    assert demo["available"] and demo["kind"] == "regression", demo
    described = examples_of(out)
    assert described["output"] == "value" and "classes" not in described
    assert {e["truth"] for e in described["examples"]} <= set(range(3, 10))


@pytest.mark.training
def test_a_score_on_inverse_transformed_predictions_shows_them_in_those_units(
        tmp_path: Path) -> None:
    script = """
import numpy as np
from sklearn.metrics import mean_absolute_error
from sklearn.preprocessing import MinMaxScaler
from tensorflow import keras

rng = np.random.default_rng(0)
x = rng.normal(size=(100, 3)).astype("float32")
price = (250_000 + 40_000 * x[:, 0]).reshape(-1, 1)
scaler = MinMaxScaler().fit(price[:80])
model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(x[:80], scaler.transform(price[:80]), epochs=2, verbose=0)
predicted = scaler.inverse_transform(model.predict(x[80:], verbose=0))
print("Test MAE: %.0f" % mean_absolute_error(price[80:], predicted))
"""
    out = run_child(script, tmp_path / "prices")
    demo = run_record(out)["demo"]
    assert demo["available"], demo
    described = examples_of(out)
    a, b = described["rescale"]
    for example in described["examples"]:
        assert 100_000 < example["truth"] < 400_000  # in dollars, as the score had them
        assert abs(a * example["keras"][0] + b) > 1_000  # the output in dollars too


@pytest.mark.training
def test_an_image_classifier_gets_thumbnails_and_a_drawing_pad_in_its_input_range(
        tmp_path: Path) -> None:
    script = """
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from tensorflow import keras

digits = load_digits()
x = digits.images[..., None]  # 8x8 pixels from 0 to 16, as scikit-learn ships them
x_train, x_test, y_train, y_test = train_test_split(x, digits.target, test_size=0.2,
                                                    random_state=0)
model = keras.Sequential([keras.Input(shape=(8, 8, 1)),
                          keras.layers.Conv2D(4, 3, activation="relu"),
                          keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=1, verbose=0)
model.evaluate(x_test, y_test)
"""
    out = run_child(script, tmp_path / "digits")
    demo = run_record(out)["demo"]
    assert demo["available"] and demo["image"], demo
    assert demo["drawing"] == {"height": 8, "width": 8, "low": 0.0, "high": 16.0}
    described = examples_of(out)
    assert described["classes"] == [str(i) for i in range(10)]
    assert sorted(e["truth"] for e in described["examples"][:10]) == list(range(10))
    from PIL import Image

    for example in described["examples"]:
        with Image.open(out / "demo" / example["thumbnail"]) as thumbnail:
            assert thumbnail.size == (8, 8)


# -- on the page ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example portfolio rendered from its committed results (nothing trains)."""
    return example_portfolio(tmp_path_factory.mktemp("demo") / "portfolio")


@pytest.mark.cli
def test_every_example_page_has_its_demo_and_the_site_the_runtime(demo_site: Path) -> None:
    from portfolio import demopage

    site = demo_site / "site"
    for slug in ("breast-cancer-mlp", "digits-cnn", "sunspots-lstm"):
        page = (site / "projects" / slug / "index.html").read_text()
        assert 'id="try-the-model"' in page and 'class="pf-demo"' in page, slug
        assert (site / "projects" / slug / "demo" / "model.onnx").read_bytes() == \
            (REPO / "results" / slug / "demo" / "model.onnx").read_bytes()
        assert (site / "projects" / slug / "demo" / "examples.json").is_file()
    for name in demopage.RUNTIME_FILES:
        assert (site / "assets" / "ort" / name).read_bytes() == \
            (demopage.runtime_folder() / name).read_bytes()
    page = html.unescape((site / "projects" / "digits-cnn" / "index.html").read_text())
    assert len(re.findall(r'<img src="demo/example-\d\d\.png" width="40" height="40"', page)) == 16
    assert 'data-rows="8" data-columns="8"' in page


@pytest.mark.cli
@pytest.mark.parametrize("setting", ["demo: false", "publish_model: false"])
def test_demo_false_or_an_unpublished_model_takes_the_demo_off_the_site(
        demo_site: Path, tmp_path: Path, setting: str) -> None:
    root = tmp_path / "portfolio"
    shutil.copytree(demo_site, root, ignore=shutil.ignore_patterns("site", ".build"))
    for meta in (root / "projects").glob("*/project.yaml"):
        meta.write_text(meta.read_text() + f"{setting}\n")
    result = portfolio_cli("build", "--no-run", cwd=root)
    assert result.returncode == 0, result.stderr
    site = root / "site"
    for page in (site / "projects").glob("*/index.html"):
        assert "pf-demo" not in page.read_text() and "demo.js" not in page.read_text()
    assert not list(site.glob("projects/*/demo"))
    assert not (site / "assets" / "ort").exists() and not (site / "assets" / "demo.js").exists()


@pytest.mark.cli
def test_a_site_without_keras_models_carries_no_runtime(tmp_path: Path) -> None:
    root = copy_portfolio("tiny", tmp_path / "tiny")
    shutil.rmtree(root / "projects" / "tutorial")
    shutil.rmtree(root / "projects" / "failing")
    assert portfolio_cli("build", cwd=root).returncode == 0
    assert not (root / "site" / "assets" / "ort").exists()


def test_the_vendored_runtime_is_what_the_lock_file_installs() -> None:
    """onnxruntime-web comes from npm at an exact version with its integrity hash, and the
    files the package ships are those `npm ci --ignore-scripts` installed (`make web`)."""
    from portfolio import demopage

    web = REPO / "generator" / "portfolio" / "web"
    package = json.loads((web / "package.json").read_text())
    version = package["dependencies"]["onnxruntime-web"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), version  # exact: no ^ or ~
    lock = json.loads((web / "package-lock.json").read_text())
    locked = lock["packages"]["node_modules/onnxruntime-web"]
    assert locked["version"] == version and locked["integrity"].startswith("sha512-")
    dist = web / "node_modules" / "onnxruntime-web" / "dist"
    if not dist.is_dir():
        pytest.fail("onnxruntime-web is not installed: `make web` (which `make test` runs)")
    installed = json.loads((dist.parent / "package.json").read_text())["version"]
    assert installed == version
    for name in demopage.RUNTIME_FILES:
        if name.endswith((".js", ".mjs", ".wasm")):
            assert (demopage.runtime_folder() / name).read_bytes() == (dist / name).read_bytes()
