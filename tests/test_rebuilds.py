"""Rebuilding only what changed, saying why, and the smoke mode."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from portfolio import plan
from portfolio.discover import discover
from portfolio.domain import Workspace

from tests.conftest import make_project, portfolio_cli


def decision(root: Path, slug: str) -> plan.Decision:
    ws = Workspace(root)
    [project] = discover(ws, [slug])
    return plan.decide(ws, project)


@pytest.mark.cli
def test_status_says_why_each_project_is_stale(tiny: Path) -> None:
    folder = make_project(tiny, "why", "print('v1')\n")
    assert decision(tiny, "why").reasons == ["never run"]
    assert portfolio_cli("run", "why", cwd=tiny).returncode == 0
    assert decision(tiny, "why").staleness == "fresh"
    (folder / "train.py").write_text("print('v2')\n")
    (folder / "data.csv").write_text("x\n1\n")
    assert decision(tiny, "why").reasons == ["data.csv added", "train.py changed"]
    status = portfolio_cli("status", cwd=tiny)
    assert status.returncode == 0
    line = next(row for row in status.stdout.splitlines() if row.startswith("│ why "))
    assert "stale" in line and "data.csv added, train.py changed" in line


def test_gitignored_files_are_not_inputs_unless_declared_as_data(tiny: Path) -> None:
    (tiny / ".gitignore").write_text("*.cache\nbig/\n")
    folder = make_project(tiny, "ignored", "print('x')\n")
    first = decision(tiny, "ignored").inputs.digest
    (folder / "scratch.cache").write_text("changes every run")
    (folder / "big").mkdir()
    (folder / "big" / "data.bin").write_bytes(b"\0")
    assert decision(tiny, "ignored").inputs.digest == first
    (folder / "project.yaml").write_text("title: ignored\ndata: [big]\n")
    declared = decision(tiny, "ignored").inputs
    assert "big/data.bin" in declared.files and "scratch.cache" not in declared.files
    (folder / "big" / "data.bin").write_bytes(b"\1")
    assert decision(tiny, "ignored").inputs.digest != declared.digest


@pytest.mark.cli
def test_a_repository_module_the_run_imported_is_an_input(tiny: Path) -> None:
    (tiny / "shared_lib").mkdir()
    (tiny / "shared_lib" / "features.py").write_text("SCALE = 2\n")
    make_project(tiny, "uses-lib", "import sys\nsys.path.insert(0, '../..')\n"
                 "from shared_lib.features import SCALE\nprint(SCALE)\n")
    assert portfolio_cli("run", "uses-lib", cwd=tiny).returncode == 0
    run = json.loads((tiny / "results" / "uses-lib" / "run.json").read_text())
    assert run["local_modules"] == ["shared_lib/features.py"]
    assert decision(tiny, "uses-lib").staleness == "fresh"
    (tiny / "shared_lib" / "features.py").write_text("SCALE = 3\n")
    assert decision(tiny, "uses-lib").reasons == ["<repo>/shared_lib/features.py changed"]


def test_a_library_upgrade_is_named_as_the_reason() -> None:
    before = {"files": {}, "meta": {}, "versions": {"tensorflow": "2.20.0"}, "format": 1}
    now = {"files": {}, "meta": {}, "versions": {"tensorflow": "2.21.0"}, "format": 1}
    assert plan.why_changed(before, now) == ["tensorflow 2.20.0 → 2.21.0"]


def keras_script(samples: int, epochs: int, *more: str) -> str:
    """A one-layer Keras regression on zeros, trained for ``epochs``, then ``more`` lines."""
    return "\n".join([
        "import numpy as np, keras",
        f"x = np.zeros(({samples}, 2), 'float32'); y = np.zeros({samples}, 'float32')",
        "m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])",
        "m.compile(optimizer='sgd', loss='mse')",
        f"m.fit(x, y, epochs={epochs}, batch_size=8, verbose=0)",
        *more,
    ])


@pytest.mark.cli
def test_smoke_runs_everything_into_scratch_and_touches_no_results(tiny: Path) -> None:
    make_project(tiny, "epochs", keras_script(
        256, 50,
        "from sklearn.model_selection import GridSearchCV",
        "from sklearn.linear_model import Ridge",
        "GridSearchCV(Ridge(), {'alpha': [0.1, 1.0, 10.0]}, cv=2).fit(x, y)"))
    result = portfolio_cli("run", "epochs", "--smoke", cwd=tiny)
    assert result.returncode == 0, result.stderr
    assert not (tiny / "results" / "epochs").exists()
    scratch = json.loads((tiny / "results" / ".scratch" / "epochs" / "run.json").read_text())
    assert scratch["smoke"] is True
    [fit] = scratch["fits"]
    assert len(fit["epochs"]) == 1
    assert scratch["searches"][0]["candidates"] == 1
    assert decision(tiny, "epochs").staleness == "never run"  # a smoke run is never cached


@pytest.mark.cli
def test_plain_progress_lines_and_summary_table_when_not_a_terminal(tiny: Path) -> None:
    make_project(tiny, "progress", keras_script(64, 2, "print('Test loss: 0.5')"))
    result = portfolio_cli("run", "progress", cwd=tiny)
    err = result.stderr
    assert "progress: queued: never run" in err
    assert "progress: running" in err
    assert "progress: ok in " in err and ", loss 0.5" in err
    assert "peak memory" in err and "portfolio itself peaked at" in err
    row = next(line for line in err.splitlines() if line.startswith("│ progress"))
    assert row.rstrip("│ ").endswith("MB")


@pytest.mark.cli
def test_exclusive_projects_run_alone(tiny: Path) -> None:
    spans = tiny / "spans.txt"  # each script appends "slug start end" from its own clock
    for slug in ("alone", "shared-a", "shared-b"):
        extra = "exclusive: true\n" if slug == "alone" else ""
        make_project(tiny, slug, "import os, time\nstart = time.time()\n"
                     "print(os.environ.get('OMP_NUM_THREADS'))\ntime.sleep(0.5)\n"
                     f"open({str(spans)!r}, 'a').write(f'{slug} {{start}} {{time.time()}}\\n')\n",
                     extra)
    assert portfolio_cli("run", "alone", "shared-a", "shared-b", "-j", "2", cwd=tiny
                         ).returncode == 0
    times = {slug: (float(a), float(b)) for slug, a, b in
             (line.split() for line in spans.read_text().splitlines())}
    alone_start, alone_end = times["alone"]
    for slug in ("shared-a", "shared-b"):
        start, end = times[slug]
        assert start >= alone_end or end <= alone_start, (slug, times)
    shared_a, shared_b = times["shared-a"], times["shared-b"]
    assert shared_a[0] < shared_b[1] and shared_b[0] < shared_a[1]  # these two overlap
    # Alone, a run has every core: its thread pools are left to their defaults, as under
    # `python train.py` (the variable would reach its loky workers). Side by side, each
    # gets its share.
    sizes = {slug: (tiny / "results" / slug / "log.txt").read_text().split()[0]
             for slug in ("alone", "shared-a")}
    cores, inherited = os.cpu_count() or 1, str(os.environ.get("OMP_NUM_THREADS"))
    assert sizes == {"alone": inherited, "shared-a": str(cores // 2) if cores > 1 else inherited}


@pytest.mark.cli
def test_a_noop_build_skips_the_engine_and_imports_nothing_heavy(tiny: Path) -> None:
    make_project(tiny, "light", "print('Accuracy: 0.5')\n")
    for slug in ("tutorial", "failing", "no-keras"):
        shutil.rmtree(tiny / "projects" / slug)
    assert portfolio_cli("build", cwd=tiny).returncode == 0
    code = ("import atexit, sys\n"
            "atexit.register(lambda: print('HEAVY', sorted(m for m in sys.modules if m in "
            "('tensorflow', 'keras', 'matplotlib', 'sklearn'))))\n"
            "sys.argv = ['portfolio', 'build']\nfrom portfolio.cli import main\nmain()\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=tiny, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "light: fresh, not re-run" in result.stderr
    assert "site unchanged" in result.stdout and "HEAVY []" in result.stdout
    (tiny / "projects" / "light" / "project.yaml").write_text("title: light\nsummary: new\n")
    again = portfolio_cli("build", cwd=tiny)
    assert "light: fresh, not re-run" in again.stderr  # the summary is presentation only
    assert "site built" in again.stdout


@pytest.mark.cli
def test_a_script_that_edits_itself_is_stale_after_its_run_and_its_page_links_what_ran(
        tiny: Path) -> None:
    script = "print('Accuracy: 0.5')\nopen(__file__, 'a').write('# edited by its run\\n')\n"
    folder = make_project(tiny, "self-edit", script)
    result = portfolio_cli("build", "self-edit", cwd=tiny)
    assert result.returncode == 0, result.stderr
    assert (folder / "train.py").read_text() == script + "# edited by its run\n"
    run = json.loads((tiny / "results" / "self-edit" / "run.json").read_text())
    assert "train.py" not in run["outputs"]
    assert decision(tiny, "self-edit").reasons == ["train.py changed"]
    status = portfolio_cli("status", cwd=tiny)
    line = next(row for row in status.stdout.splitlines() if row.startswith("│ self-edit "))
    assert "stale" in line and "train.py changed" in line
    page = (tiny / "site" / "projects" / "self-edit" / "index.html").read_text()
    assert 'href="script/train.py"' in page
    assert (tiny / "site" / "projects" / "self-edit" / "script" / "train.py").read_text() \
        == script
    assert (tiny / "results" / "self-edit" / "script" / "train.py").read_text() == script
