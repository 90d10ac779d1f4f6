"""Notebooks as projects: a ``train.ipynb`` from Colab or Kaggle runs like ``train.py``."""

from __future__ import annotations

import html
import json
import re
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


@pytest.mark.training
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


@pytest.mark.cli
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


# -- a tutorial notebook as Google publishes them (issue 24) ------------------------------
# A copyright cell and a licence code cell before the title, a table of buttons to other
# hosts, a Colab badge, a remote picture; figures drawn without plt.show() across cells,
# one helper showing three figures, and a `!pip install` of what is already there.
TUTORIAL = [
    new_markdown_cell("##### Copyright 2018 The TensorFlow Authors."),
    new_code_cell('#@title Licensed under the Apache License, Version 2.0 (the "License");\n'
                  "# you may not use this file except in compliance with the License.\n"
                  "# You may obtain a copy of the License at\n#\n"
                  "# https://www.apache.org/licenses/LICENSE-2.0"),
    new_markdown_cell("# Plotting curves"),
    new_markdown_cell(
        '<table class="tfo-notebook-buttons" align="left">\n  <td>\n'
        '    <a target="_blank" href="https://www.tensorflow.org/tutorials/curves">'
        '<img src="https://www.tensorflow.org/images/tf_logo_32px.png" />'
        "View on TensorFlow.org</a>\n  </td>\n  <td>\n"
        '    <a target="_blank" href="https://colab.research.google.com/github/t/curves.ipynb">'
        '<img src="https://www.tensorflow.org/images/colab_logo_32px.png" />'
        "Run in Google Colab</a>\n  </td>\n</table>"),
    new_markdown_cell("[![Open In Colab](https://colab.research.google.com/assets/colab-badge"
                      ".svg)](https://colab.research.google.com/github/t/curves.ipynb)\n\n"
                      "Curves drawn the way tutorials draw them."),
    new_markdown_cell("## Problem\n\nShow how a curve falls.\n\n"
                      "![The falling curve](https://www.tensorflow.org/images/curve.png)"),
    new_code_cell("%%capture\n!pip install -q numpy matplotlib"),
    new_code_cell("import matplotlib.pyplot as plt\nimport numpy as np\n"
                  "plt.figure(figsize=(3, 2))\nplt.plot(np.arange(5))"),
    new_code_cell("plt.plot(np.arange(5) ** 2)\nprint('lines in this figure:', "
                  "len(plt.gca().lines))"),
    new_code_cell("def plot_curve(values):\n    plt.plot(values)\n    plt.show()"),
    new_code_cell("plot_curve(np.ones(3))\nplot_curve(np.zeros(3))\nplot_curve(np.arange(3))"),
    new_markdown_cell("## Results\n\nThe curves fall."),
]


@pytest.fixture(scope="module")
def tutorial(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tutorial") / "repo"
    portfolio_with_notebook(root, TUTORIAL, yaml="title: Curves\n")
    result = portfolio_cli("build", cwd=root)
    assert result.returncode == 0, result.stderr
    return root


def tutorial_figures(root: Path) -> list[dict]:
    return json.loads((root / "results" / "sonar" / "run.json").read_text())["figures"]


@pytest.mark.cli
def test_figures_a_cell_leaves_open_are_its_own_not_the_next_cells(tutorial: Path) -> None:
    log = (tutorial / "results" / "sonar" / "log.txt").read_text()
    assert "lines in this figure: 1" in log  # cell 9 draws a figure of its own
    captions = [f["caption"] for f in tutorial_figures(tutorial)][:2]
    assert captions == ["Figure drawn at train.ipynb, cell 8:3 (plt.figure(figsize=(3, 2)))",
                        "Figure drawn at train.ipynb, cell 9:1 (plt.plot(np.arange(5) ** 2))"]
    assert {f["source"] for f in tutorial_figures(tutorial)[:2]} == {"end of cell"}


@pytest.mark.cli
def test_figures_shown_by_one_helper_are_captioned_by_their_call_sites(tutorial: Path) -> None:
    captions = [f["caption"] for f in tutorial_figures(tutorial)][2:]
    assert captions == [
        f"Figure shown at train.ipynb, cell 10:3 in plot_curve(), called from "
        f"train.ipynb, cell 11:{line} ({call})"
        for line, call in enumerate(["plot_curve(np.ones(3))", "plot_curve(np.zeros(3))",
                                     "plot_curve(np.arange(3))"], start=1)]
    page = (tutorial / "site" / "projects" / "sonar" / "index.html").read_text()
    shown = [html.unescape(c) for c in re.findall(r"<figcaption>(.*?)</figcaption>", page)]
    assert set(captions) <= set(shown)


@pytest.mark.cli
def test_the_licence_comes_after_the_story_never_before_the_problem(tutorial: Path) -> None:
    page = (tutorial / "site" / "projects" / "sonar" / "index.html").read_text()
    problem = page.index("Show how a curve falls.")
    assert page.index("Curves drawn the way tutorials draw them.") < problem
    notice = page.index("Copyright 2018 The TensorFlow Authors.")
    assert notice > page.index("The curves fall.") > problem
    assert page.index("Licensed under the Apache License") > problem
    assert '<h2 id="licence">Licence</h2>' in page
    assert "Plotting curves" not in page  # the notebook's title, no longer hidden by it


@pytest.mark.cli
def test_badges_and_pictures_from_other_hosts_become_plain_links(tutorial: Path) -> None:
    page = (tutorial / "site" / "projects" / "sonar" / "index.html").read_text()
    images = re.findall(r"<img\b[^>]*>", page)
    assert not [image for image in images if re.search(r"src=\"(https?:)?//", image)], images
    links = set(re.findall(r'<a href="([^"]*)"[^>]*>([^<]*)</a>', page))
    colab = "https://colab.research.google.com/github/t/curves.ipynb"
    assert {("https://www.tensorflow.org/tutorials/curves", "View on TensorFlow.org"),
            (colab, "Run in Google Colab"), (colab, "Open In Colab"),
            ("https://www.tensorflow.org/images/curve.png", "The falling curve")} <= links


@pytest.mark.cli
def test_a_pip_install_of_what_already_imports_is_skipped_with_a_note(tutorial: Path) -> None:
    log = (tutorial / "results" / "sonar" / "log.txt").read_text()
    assert "[portfolio: cell 7: `!pip install -q numpy matplotlib` skipped: what it installs " \
           "already imports here (numpy " in log


@pytest.mark.parametrize("line", ["!pip install numpy", "%pip install -q numpy PyYAML",
                                  "!pip install -U scikit-learn==0.1 pillow",
                                  "!python -m pip install 'numpy>=1'",
                                  "!{sys.executable} -m pip install numpy"])
def test_installs_of_what_is_there_are_skipped(tmp_path: Path, line: str) -> None:
    path = write_notebook(tmp_path / "n.ipynb", [new_code_cell(f"{line}\nimport numpy")])
    [cell] = notebook.code_cells(path)
    assert cell.source == "pass\nimport numpy"
    assert cell.notes[0].startswith(f"`{line}` skipped: what it installs already imports")


@pytest.mark.parametrize("line", ["!pip install numpy no-such-package-for-portfolio",
                                  "!pip install -r requirements.txt", "!pip uninstall -y numpy",
                                  "!pip install --index-url https://example.com numpy",
                                  "!pip install git+https://github.com/x/y",
                                  "installed = !pip install numpy"])
def test_installs_that_would_really_run_are_still_refused(tmp_path: Path, line: str) -> None:
    path = write_notebook(tmp_path / "n.ipynb", [new_markdown_cell("Setup"),
                                                 new_code_cell(f"{line}\nimport numpy")])
    with pytest.raises(notebook.NotebookError, match=re.escape(f"cell 2: `{line}` runs a shell")):
        notebook.code_cells(path)
