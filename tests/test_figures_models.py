"""Figures and models as tutorials make them: plot_model, ModelCheckpoint then load_model,
untitled and multi-panel figures, loops of figures, pipelines in spot-checks, and the
files a run leaves in its project folder."""

from __future__ import annotations

import csv
import filecmp
import html
import json
import re
import struct
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from portfolio.capture.naming import describe

from tests.conftest import copy_portfolio, make_project, portfolio_cli, run_child, run_record

REPO = Path(__file__).resolve().parent.parent

# keras-io's shape: summary, plot_model, ModelCheckpoint(save_best_only), fit with a
# progress bar, reload the best checkpoint, evaluate. The labels are noise, so the
# validation loss is best after the first epoch and the checkpoint is not the last model.
KERAS_SCRIPT = textwrap.dedent('''
    import matplotlib.pyplot as plt
    import numpy as np
    import keras
    from keras import layers

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4)).astype("float32")
    y = rng.integers(0, 2, size=200).astype("float32")
    x_train, x_test, y_train, y_test = x[:150], x[150:], y[:150], y[150:]

    model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(16, activation="relu"),
                              layers.Dense(1, activation="sigmoid")], name="classifier")
    model.summary()
    keras.utils.plot_model(model, show_shapes=True)

    model.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam(0.05),
                  metrics=["accuracy"])
    callbacks = [keras.callbacks.ModelCheckpoint("best_model.keras", save_best_only=True,
                                                 monitor="val_loss")]
    history = model.fit(x_train, y_train, batch_size=16, epochs=3, validation_split=0.2,
                        callbacks=callbacks, verbose=1)

    plt.plot(history.history["loss"])
    plt.xlabel("epoch")
    plt.ylabel("loss")
    plt.savefig("loss.png")

    fig, axes = plt.subplots(2, 2, figsize=(8, 6))
    for ax in axes.flat:
        ax.hist(rng.normal(size=50))
    fig.suptitle("Feature distributions")
    plt.show()

    model = keras.models.load_model("best_model.keras")
    score = model.evaluate(x_test, y_test, verbose=0)
    print("Test accuracy:", score[1])
''')

# machinelearningmastery's spot-check loop, one model wrapped in a pipeline, and an
# unlabelled pipeline passed straight to cross_val_score.
PIPELINE_SCRIPT = textwrap.dedent('''
    from sklearn.datasets import load_iris
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import KFold, cross_val_score, train_test_split
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeClassifier

    X, y = load_iris(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=1)
    models = []
    models.append(("LR", make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))))
    models.append(("CART", DecisionTreeClassifier(random_state=1)))
    for name, model in models:
        kfold = KFold(n_splits=3, shuffle=True, random_state=1)
        cv_results = cross_val_score(model, X_train, y_train, cv=kfold, scoring="accuracy")
        print("%s: %f (%f)" % (name, cv_results.mean(), cv_results.std()))
    scores = cross_val_score(Pipeline([("scale", StandardScaler()), ("pca", PCA(2)),
                                       ("svm", SVC())]), X_train, y_train, cv=3)
''')


@dataclass
class Site:
    root: Path
    status: str

    def results(self, slug: str) -> Path:
        return self.root / "results" / slug

    def record(self, slug: str) -> dict:
        return run_record(self.results(slug))

    def page(self, slug: str) -> str:
        path = self.root / "site" / "projects" / slug / "index.html"
        return html.unescape(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """One build of a keras-io-style project and a scikit-learn one, then ``status``."""
    root = copy_portfolio("tiny", tmp_path_factory.mktemp("figs") / "tiny")
    make_project(root, "checkpointed", KERAS_SCRIPT)
    make_project(root, "pipelines", PIPELINE_SCRIPT)
    result = portfolio_cli("build", "--no-warm", "-j", "2", "checkpointed", "pipelines",
                           cwd=root)
    assert result.returncode == 0, result.stderr
    status = portfolio_cli("status", cwd=root)
    assert status.returncode == 0, status.stderr
    return Site(root, status.stdout)


@pytest.mark.training
def test_plot_model_picture_is_the_architecture_figure_on_the_page(site: Site) -> None:
    record = site.record("checkpointed")
    [figure] = [f for f in record["figures"] if f["kind"] == "architecture"]
    assert figure["caption"] == "Model architecture (keras.utils.plot_model)"
    picture = site.results("checkpointed") / figure["path"]
    assert picture.read_bytes() == (site.root / "projects/checkpointed/model.png").read_bytes()
    assert record["capture_warnings"] == []
    page = site.page("checkpointed")
    results = page[page.index('id="results"'):]
    image = results.index(f'<img src="{figure["path"]}"')
    assert image < results.index("Model architecture: Sequential")  # the picture, then summary
    assert (site.root / "site/projects/checkpointed" / figure["path"]).is_file()


@pytest.mark.training
def test_reloaded_checkpoint_is_the_published_model_and_the_page_names_its_epoch(
        site: Site) -> None:
    results = site.results("checkpointed")
    with (results / "history.csv").open() as fh:
        val_loss = [float(row["val_loss"]) for row in csv.DictReader(fh)]
    best = val_loss.index(min(val_loss))
    assert best < len(val_loss) - 1, "the fixture must make the checkpoint differ from the end"
    record = site.record("checkpointed")
    assert record["loaded_checkpoint"]["path"] == "best_model.keras"
    assert record["loaded_checkpoint"]["epoch"] == best
    assert record["loaded_checkpoint"]["published"] is True
    assert record["model"] == "model.keras"
    checkpoint = site.root / "projects/checkpointed/best_model.keras"
    assert filecmp.cmp(results / "model.keras", checkpoint, shallow=False)
    assert (f"<p>The published model is the checkpoint of epoch {best + 1} (best val_loss), "
            "reloaded before evaluation.</p>") in site.page("checkpointed")


@pytest.mark.training
def test_a_large_multi_panel_figure_links_to_its_full_size_image(site: Site) -> None:
    record = site.record("checkpointed")
    figure = next(f for f in record["figures"] if f["caption"] == "Feature distributions")
    results = site.results("checkpointed")
    assert png_width(results / figure["full_path"]) > png_width(results / figure["path"])
    page = site.page("checkpointed")
    assert f'<a href="{figure["full_path"]}"><img src="{figure["path"]}"' in page
    assert re.search(rf'\(<a href="{re.escape(figure["full_path"])}">full size</a>\)', page)
    assert (site.root / "site/projects/checkpointed" / figure["full_path"]).is_file()
    small = next(f for f in record["figures"] if f["caption"] == "Loss against epoch")
    assert "full_path" not in small


@pytest.mark.training
def test_new_run_fields_match_the_schema(site: Site) -> None:
    import jsonschema

    schema = json.loads((REPO / "generator/portfolio/run.schema.json").read_text())
    for slug in ("checkpointed", "pipelines"):
        jsonschema.validate(site.record(slug), schema)


@pytest.mark.training
def test_spot_checks_name_the_algorithm_inside_a_pipeline(site: Site) -> None:
    checks = {c["name"]: c["description"] for c in site.record("pipelines")["spot_checks"]}
    assert checks == {"LR": "LogisticRegression, after StandardScaler",
                      "CART": "DecisionTreeClassifier",
                      "SVC, after StandardScaler and PCA": "SVC, after StandardScaler and PCA"}
    page = site.page("pipelines")
    table = page[page.index('id="evaluate-algorithms"'):page.index("</table>",
                                                                   page.index("Algorithm"))]
    assert "LR — LogisticRegression, after StandardScaler" in table
    assert "CART — DecisionTreeClassifier" in table
    assert "<td>SVC, after StandardScaler and PCA" in table
    assert "Pipeline" not in table


@pytest.mark.training
def test_status_lists_the_files_a_run_wrote_until_ignored(site: Site) -> None:
    [line] = [x for x in site.status.splitlines() if x.startswith("projects/checkpointed:")]
    assert line.startswith("projects/checkpointed: wrote ")
    assert set(line.split("wrote ")[1].split(" (")[0].split(", ")) == {
        "best_model.keras", "loss.png", "model.png"}
    assert line.endswith("(outputs of the run; add them to .gitignore or commit them)")
    assert not any(x.startswith("projects/pipelines:") for x in site.status.splitlines())
    (site.root / "projects/checkpointed/.gitignore").write_text("*.png\n*.keras\n")
    again = portfolio_cli("status", cwd=site.root)
    assert "projects/checkpointed:" not in again.stdout


@pytest.fixture(scope="module")
def without_graphviz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run with no `dot` on the PATH, whose reloaded checkpoint is then trained further."""
    folder = tmp_path_factory.mktemp("nodot")
    (folder / "bin").mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", str(folder / "bin"))
        return run_child(textwrap.dedent('''
            import keras
            from keras.utils import plot_model

            model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
            picture = plot_model(model, to_file="model.png", show_shapes=True)
            print("plot_model returned", picture)
            model.compile(loss="mse")
            x, y = keras.ops.ones((8, 3)), keras.ops.ones((8, 2))
            checkpoint = keras.callbacks.ModelCheckpoint("ckpt.keras", monitor="loss")
            model.fit(x, y, epochs=2, callbacks=[checkpoint], verbose=0)
            model = keras.models.load_model("ckpt.keras")
            model.fit(x, y, epochs=1, verbose=0)  # fine-tuned: no longer the checkpoint
            model.evaluate(x, y, verbose=0)
        '''), folder / "project")


@pytest.mark.training
def test_plot_model_without_graphviz_warns_and_the_run_goes_on(without_graphviz: Path) -> None:
    record = run_record(without_graphviz)
    assert record["status"] == "ok"
    assert "plot_model returned None" in (without_graphviz / "log.txt").read_text()
    [warning] = record["capture_warnings"]
    assert "Graphviz" in warning and "summary stands in" in warning
    assert not [f for f in record["figures"] if f["kind"] == "architecture"]
    assert record["architecture"]["summary"]


@pytest.mark.training
def test_a_checkpoint_trained_further_is_not_called_the_published_one(
        without_graphviz: Path) -> None:
    loaded = run_record(without_graphviz)["loaded_checkpoint"]
    assert (loaded["path"], loaded["epoch"], loaded["published"]) == ("ckpt.keras", 1, False)
    published = (without_graphviz / "model.keras").read_bytes()
    assert published != (without_graphviz.parent / "project/ckpt.keras").read_bytes()


FIGURES_SCRIPT = textwrap.dedent('''
    import gc

    import matplotlib.pyplot as plt
    import numpy as np

    epochs = np.arange(1, 11)
    plt.plot(epochs, 1 / epochs)
    plt.xlabel("epoch")
    plt.ylabel("loss")
    plt.show()

    fig, (left, right) = plt.subplots(1, 2)
    left.plot(epochs, 1 / epochs)
    left.set_xlabel("epoch")
    left.set_ylabel("loss")
    right.plot(epochs, 1 - 1 / epochs)
    right.set_xlabel("epoch")
    right.set_ylabel("accuracy")
    plt.show()

    plt.scatter(np.random.rand(20), np.random.rand(20))
    plt.show()

    ids = []
    for i in range(60):
        fig, ax = plt.subplots()
        ax.plot(np.random.rand(10))
        ids.append(id(fig))
        plt.show()
        del fig, ax
        gc.collect()  # frees the closed figure now, as a long loop's collections would
    print("distinct figure ids:", len(set(ids)))
''')


@pytest.fixture(scope="module")
def drawn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_child(FIGURES_SCRIPT, tmp_path_factory.mktemp("drawn") / "project")


@pytest.mark.training
def test_untitled_figures_are_captioned_by_their_axes_labels(drawn: Path) -> None:
    captions = [f["caption"] for f in run_record(drawn)["figures"]]
    assert captions[:2] == ["Loss against epoch", "Loss and accuracy against epoch"]


@pytest.mark.training
def test_a_figure_without_title_or_labels_is_captioned_by_its_script_line(drawn: Path) -> None:
    lines = FIGURES_SCRIPT.splitlines()
    scatter_show = lines.index("plt.scatter(np.random.rand(20), np.random.rand(20))") + 2
    caption = run_record(drawn)["figures"][2]["caption"]
    assert caption == f"Figure shown at train.py:{scatter_show} (plt.show())"


@pytest.mark.training
def test_sixty_figures_in_a_loop_are_sixty_figures_even_when_ids_are_reused(
        drawn: Path) -> None:
    distinct = int(re.search(r"distinct figure ids: (\d+)", (drawn / "log.txt").read_text())[1])
    assert distinct < 60, "CPython reused no id: the loop no longer tests the defect"
    looped = run_record(drawn)["figures"][3:]
    assert len(looped) == 60
    assert len({f["path"] for f in looped}) == 60
    assert all((drawn / f["path"]).is_file() for f in looped)


def test_describe_names_the_last_step_after_its_preprocessing() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    assert describe(LogisticRegression()) == "LogisticRegression"
    assert describe(make_pipeline(StandardScaler(), LogisticRegression())) == \
        "LogisticRegression, after StandardScaler"
    assert describe(make_pipeline(StandardScaler(), "passthrough", MinMaxScaler(),
                                  LogisticRegression())) == \
        "LogisticRegression, after StandardScaler and MinMaxScaler"


def png_width(path: Path) -> int:
    """The pixel width from the PNG header (IHDR follows the 8-byte signature)."""
    return struct.unpack(">I", path.read_bytes()[16:20])[0]
