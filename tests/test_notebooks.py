"""Notebooks as projects: a ``train.ipynb`` from Colab or Kaggle runs like ``train.py``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from conftest import FIXTURES, REPO, portfolio_cli
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from portfolio import notebook

# A notebook as a tutorial leaves it: prose in Markdown cells, `%matplotlib inline`, a
# Keras fit on a validation split and an evaluate on the test split, a last bare
# expression, saved outputs from a run in Colab.
CELLS = [
    new_markdown_cell("# Sonar rocks or mines\n\nA small network on synthetic sonar data."),
    new_markdown_cell("## Problem\n\nTell rocks from mines by their echo."),
    new_code_cell("%matplotlib inline\nimport numpy as np\nimport matplotlib.pyplot as plt\n"
                  "from tensorflow import keras"),
    new_markdown_cell("## Data\n\nSixty readings per echo, split 75/25 by index."),
    new_code_cell("rng = np.random.default_rng(0)\nX = rng.normal(size=(160, 6))\n"
                  "y = (X[:, 0] + X[:, 1] > 0).astype('float32')\n"
                  "X_train, X_test, y_train, y_test = X[:120], X[120:], y[:120], y[120:]\n"
                  "X_train.shape"),
    new_markdown_cell("## Build the model\n\nTwo dense layers, nothing more."),
    new_code_cell("model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, "
                  "activation='relu'), keras.layers.Dense(1, activation='sigmoid')])\n"
                  "model.compile(optimizer='adam', loss='binary_crossentropy', "
                  "metrics=['accuracy'])\n"
                  "history = model.fit(X_train, y_train, validation_split=0.2, epochs=2, "
                  "batch_size=16, verbose=1)",
                  outputs=[new_output("stream", name="stdout",
                                      text="Epoch 2/2 ... accuracy: 0.9999 (a stale output)")]),
    new_code_cell("%time loss, accuracy = model.evaluate(X_test, y_test, verbose=0)\n"
                  "print('Test accuracy: %.3f' % accuracy)"),
    new_markdown_cell("## Results\n\nThe network beats the majority class."),
]


def write_notebook(path: Path, cells: list) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(new_notebook(cells=cells, metadata={"colab": {"provenance": []}}), path)
    return path


def portfolio_with_notebook(root: Path, cells: list, yaml: str = "title: Sonar\n") -> Path:
    root.mkdir(parents=True)
    shutil.copyfile(FIXTURES / "tiny" / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(REPO / "site_templates", root / "site_templates")
    folder = root / "projects" / "sonar"
    write_notebook(folder / "train.ipynb", cells)
    (folder / "project.yaml").write_text(yaml)
    return folder


@pytest.mark.slow
def test_a_notebook_builds_into_a_case_study(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    portfolio_with_notebook(root, CELLS)
    result = portfolio_cli("build", cwd=root)
    assert result.returncode == 0, result.stderr

    record = json.loads((root / "results" / "sonar" / "run.json").read_text())
    assert record["script"] == "train.ipynb"
    metrics = json.loads((root / "results" / "sonar" / "metrics.json").read_text())
    assert 0 <= metrics["accuracy"] <= 1 and metrics["accuracy"] != 0.9999
    log = (root / "results" / "sonar" / "log.txt").read_text()
    assert "[portfolio: cell 3: %matplotlib inline skipped" in log
    assert "(120, 6)" in log  # the cell's last expression, shown as Jupyter shows it
    assert "stale output" not in log

    page = (root / "site" / "projects" / "sonar" / "index.html").read_text()
    assert "Tell rocks from mines by their echo." in page  # under the Problem step
    assert "Sixty readings per echo" in page
    assert "The network beats the majority class." in page
    # A heading that matches no step: its section goes to the introduction.
    assert page.index("Two dense layers, nothing more.") < page.index("Tell rocks from mines")
    kinds = {f["kind"]: f["path"] for f in record["figures"]}
    assert f'src="{kinds["learning-curve"]}"' in page  # drawn from the fit's epochs
    assert f"{metrics['accuracy'] * 100:.1f}% accuracy on held-out data" in page

    # Saved again with new outputs, or with its prose edited: still fresh. Code: stale.
    path = root / "projects" / "sonar" / "train.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[6].outputs = [new_output("stream", name="stdout", text="a new output")]
    nb.cells[6].execution_count = 7
    nb.cells[1].source += "\n\nMore prose."
    nbformat.write(nb, path)
    status = portfolio_cli("status", cwd=root)
    assert "fresh" in status.stdout and "stale" not in status.stdout, status.stdout
    nb.cells[4].source = nb.cells[4].source.replace("default_rng(0)", "default_rng(1)")
    nbformat.write(nb, path)
    status = portfolio_cli("status", cwd=root)
    assert "train.ipynb changed" in status.stdout, status.stdout


def test_a_shell_escape_fails_the_run_naming_the_cell(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    cells = [new_markdown_cell("# Setup"),
             new_code_cell("print('first cell ran')"),
             new_code_cell("!pip install seaborn\nimport seaborn")]
    portfolio_with_notebook(root, cells)
    result = portfolio_cli("build", cwd=root)

    assert result.returncode == 1
    assert "cell 3: `!pip install seaborn` runs a shell command or installs packages" in \
        result.stderr
    failure = json.loads((root / "results" / "sonar" / "failed" / "run.json").read_text())
    assert failure["error"].startswith("train.ipynb: cell 3: `!pip install seaborn`")
    # Refused before any cell ran.
    assert "first cell ran" not in (root / "results" / "sonar" / "failed" / "log.txt").read_text()


@pytest.mark.parametrize(("source", "refused"), [
    ("%pip install torch", "cell 1: `%pip install torch`"),
    ("%%bash\necho hi", "cell 1: `%%bash`"),
    ("files = !ls", "cell 1: `files = !ls`"),
    ("  !wget https://example.com/data.csv", "cell 1: `!wget https://example.com/data.csv`"),
    ("t = %timeit -o f()", "cell 1: `t = %timeit -o f()` is IPython syntax"),
])
def test_what_a_notebook_may_not_do(tmp_path: Path, source: str, refused: str) -> None:
    path = write_notebook(tmp_path / "n.ipynb", [new_code_cell(source)])
    with pytest.raises(notebook.NotebookError, match=refused.replace("(", r"\(")
                       .replace(")", r"\)")):
        notebook.code_cells(path)


def test_magics_are_translated_and_python_is_left_alone(tmp_path: Path) -> None:
    path = write_notebook(tmp_path / "n.ipynb", [
        new_code_cell("%load_ext autoreload\n%autoreload 2\nx = 10 % 3\n"
                      "s = '%d items' % x\n%env MODE=fast\nif x:\n    %time y = x + 1"),
        new_code_cell("%%time\nz = y * 2"),
    ])
    first, second = notebook.code_cells(path)
    assert first.source.splitlines() == [
        "pass", "pass", "x = 10 % 3", "s = '%d items' % x",
        "__import__('os').environ['MODE'] = 'fast'", "if x:", "    y = x + 1"]
    assert second.source == "z = y * 2"
    assert any("%load_ext autoreload skipped" in note for note in first.notes)


def test_the_hash_covers_code_cells_only(tmp_path: Path) -> None:
    path = write_notebook(tmp_path / "n.ipynb", [new_markdown_cell("Prose"),
                                                  new_code_cell("x = 1")])
    before = notebook.code_digest(path)
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source = "Other prose"
    nb.cells[1].outputs = [new_output("execute_result", data={"text/plain": "1"},
                                      execution_count=3)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, path)
    assert notebook.code_digest(path) == before
    nb.cells[1].source = "x = 2"
    nbformat.write(nb, path)
    assert notebook.code_digest(path) != before


def test_python_that_only_looks_like_ipython_is_left_alone(tmp_path: Path) -> None:
    cells = [
        "ok = (1\n      != 2)",  # black's way of breaking a long comparison
        "x = (7\n% 3)",
        'template = """\n%(name)s: %(score).3f\n!important\n"""',
        "%matplotlib inline\nrate = (10\n        % 4)",
    ]
    path = write_notebook(tmp_path / "n.ipynb", [new_code_cell(c) for c in cells])
    translated = [cell.source for cell in notebook.code_cells(path)]
    assert translated[:3] == cells[:3]
    assert translated[3] == "pass\nrate = (10\n        % 4)"


def test_display_only_cells_options_and_a_hidden_last_value(tmp_path: Path) -> None:
    path = write_notebook(tmp_path / "n.ipynb", [
        new_code_cell("%%html\n<b>shown in Jupyter only</b>"),
        new_code_cell("def f():\n    return 41\n%timeit -n 10 -r 3 f()\n%env SEED 7"),
        new_code_cell("import os\nvalue = f() + 1\nvalue;"),
        new_code_cell("value * int(os.environ['SEED'])"),
    ])
    html, timed, *_ = notebook.code_cells(path)
    assert html.source == "pass" and "%%html cell skipped" in html.notes[0]
    assert timed.source.splitlines()[-2:] == ["f()", "__import__('os').environ['SEED'] = '7'"]
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()) as out:
        notebook.run(path)
    lines = out.getvalue().splitlines()
    assert lines == ["294"]  # 42 * 7 shown; `value;` hid its value
