"""Issue 25, the demo's cost and oversized output: a turned-off demo exports nothing, the
export has its own time budget apart from the script's timeout (and says when it was the
part that ran out), no file over GitHub's 100 MB limit is kept in results/, a figure
drawn huge is saved at most 4,000 px on its longer side, and a huge PNG in results/ never
crashes the site build."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from tests.conftest import copy_portfolio, make_project, portfolio_cli, yaml_problems

# A tiny Keras classifier, evaluated on held-out rows: a model the demo can export.
TINY_KERAS = """
import numpy as np
from tensorflow import keras

rng = np.random.default_rng(0)
x = rng.normal(size=(40, 3)).astype("float32")
y = (x[:, 0] > 0).astype(int)
model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x[:30], y[:30], epochs=1, verbose=0)
print("Test accuracy:", model.evaluate(x[30:], y[30:], verbose=0)[1])
"""

# Before the script's own code: Keras' exporter replaced by one that waits. The demo calls
# model.export() after the script has ended, so the wait is the export's time alone.
BLOCKED_EXPORT = """
import threading
from tensorflow import keras

def export(self, filepath, **kwargs):
    threading.Event().wait()  # never returns: an exporter stuck on a huge model

keras.Model.export = export
"""

# An exporter that finishes only once the project's whole timeout has passed since the
# script started, so script + export is over the timeout while the script alone is not.
SLOW_EXPORT = """
import threading
import time
from tensorflow import keras

STARTED = time.monotonic()
TIMEOUT = {timeout}
original = keras.Model.export

def export(self, filepath, **kwargs):
    threading.Event().wait(max(0.0, STARTED + TIMEOUT + 2 - time.monotonic()))
    return original(self, filepath, **kwargs)

keras.Model.export = export
"""


def _portfolio(root: Path, projects: dict[str, tuple[str, str]]) -> Path:
    """The tiny portfolio's profile with these projects (slug: (script, project.yaml
    extra)) instead of its own."""
    copy_portfolio("tiny", root)
    shutil.rmtree(root / "projects")
    for slug, (script, extra) in projects.items():
        make_project(root, slug, script, extra)
    return root


def _record(root: Path, slug: str) -> dict:
    return json.loads((root / "results" / slug / "run.json").read_text())


@pytest.mark.training
def test_demo_false_or_an_unpublished_model_exports_nothing(tmp_path: Path) -> None:
    root = _portfolio(tmp_path / "p", {"demo-off": (TINY_KERAS, "demo: false\n"),
                                       "unpublished": (TINY_KERAS, "publish_model: false\n")})
    result = portfolio_cli("build", "-j", "2", cwd=root, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    for slug in ("demo-off", "unpublished"):
        record = _record(root, slug)
        assert record["status"] == "ok", record["error"]
        assert not (root / "results" / slug / "demo").exists()  # no model.onnx at all
        # Nothing was spent on it: the record says it was turned off, and times nothing.
        assert record["demo"]["available"] is False and record["demo"].get("seconds") is None
        assert "turned off" in record["demo"]["reason"]
        assert not any(w.startswith("demo:") for w in record["capture_warnings"])
        assert not (root / "results" / slug / ".demo-clock").exists()


@pytest.mark.training
def test_the_export_is_not_counted_in_the_scripts_timeout(tmp_path: Path) -> None:
    """The script ends well inside its 30 s; its export ends past them: the run is ok."""
    script = SLOW_EXPORT.format(timeout=30) + TINY_KERAS
    root = _portfolio(tmp_path / "p", {"slow-export": (script, "timeout: 30\n")})
    result = portfolio_cli("build", cwd=root, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    record = _record(root, "slow-export")
    assert record["status"] == "ok", record["error"]
    assert record["demo"]["available"] is True
    assert (root / "results" / "slow-export" / "demo" / "model.onnx").is_file()
    assert not (root / "results" / "slow-export" / ".demo-clock").exists()


@pytest.mark.training
def test_an_export_out_of_its_own_budget_is_named_and_the_results_kept(
        tmp_path: Path) -> None:
    root = _portfolio(tmp_path / "p", {"stuck": (BLOCKED_EXPORT + TINY_KERAS,
                                                 "demo: {timeout: 1}\n")})
    result = portfolio_cli("build", cwd=root, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    record = _record(root, "stuck")
    assert record["status"] == "ok", record["error"]
    assert any(r["name"] == "accuracy" for r in record["results"])  # the run's results
    assert record["demo"]["available"] is False
    assert "export" in record["demo"]["reason"] and "1 s budget" in record["demo"]["reason"]
    warned = [w for w in record["capture_warnings"] if w.startswith("demo:")]
    assert len(warned) == 1 and "1 s budget" in warned[0], record["capture_warnings"]
    assert not (root / "results" / "stuck" / "demo").exists()
    assert (root / "results" / "stuck" / "model.keras").is_file()


def test_demo_takes_a_timeout_and_mistakes_in_it_are_located(tmp_path: Path) -> None:
    from portfolio import schema

    path = tmp_path / "project.yaml"
    path.write_text("title: t\ndemo: {timeout: 300}\n")
    meta, problems = schema.parse(path)
    assert problems == [] and meta is not None
    assert meta.demo.timeout == 300 and meta.demo_wanted
    path.write_text("title: t\ndemo: false\n")
    meta, _ = schema.parse(path)
    assert meta is not None and not meta.demo and not meta.demo_wanted
    path.write_text("title: t\npublish_model: false\n")
    meta, _ = schema.parse(path)
    assert meta is not None and meta.demo and not meta.demo_wanted
    assert yaml_problems(tmp_path, "title: t\ndemo: {timout: 3}\n") == [
        "project.yaml:2:8: demo.timout: unknown key; did you mean 'timeout'?"]
    assert yaml_problems(tmp_path, "title: t\ndemo: 3\n") == [
        "project.yaml:2:1: demo: expected true, false or a mapping such as {timeout: 300}, "
        "got a number"]


def _job(**settings: object) -> object:
    from portfolio.run import Job

    return Job(slug="p", project="projects/p", script="train.py", out=".run-p", seed=1,
               **settings)  # type: ignore[arg-type]


def test_the_parent_takes_the_exports_time_out_of_the_scripts(tmp_path: Path) -> None:
    """The child's clock file: an export of 100 s inside a run of 120 s leaves the script
    20 s, inside its timeout of 50; without the file, the run is over it."""
    from portfolio import run

    clock = tmp_path / ".demo-clock"
    now = time.monotonic()
    job = _job(timeout=50, demo_timeout=200)
    timer = run._Clock(job, now - 120, clock)
    assert timer.overrun() == "timed out after 50 s; stopped"
    clock.write_text(f"{now - 110!r} {now - 10!r}")
    assert timer.overrun() is None


def test_the_parent_stops_an_export_that_overran_its_budget_and_says_so(
        tmp_path: Path) -> None:
    from portfolio import run

    clock = tmp_path / ".demo-clock"
    now = time.monotonic()
    clock.write_text(f"{now - 100!r}")  # started 100 s ago, never ended
    overrun = run._Clock(_job(timeout=1000, demo_timeout=5), now - 101, clock).overrun()
    assert overrun is not None and "export" in overrun and "5 s budget" in overrun
    # Within its budget and the grace after it, the export stops nothing.
    assert run._Clock(_job(timeout=1000, demo_timeout=500), now - 101, clock).overrun() is None


def test_the_child_is_told_whether_to_export_and_its_budget(tmp_path: Path) -> None:
    from portfolio import run

    env = run.child_env(_job(timeout=9, demo=False, demo_timeout=7.5), tmp_path, tmp_path)
    assert env["PORTFOLIO_DEMO"] == "0" and float(env["PORTFOLIO_DEMO_TIMEOUT"]) == 7.5
    assert run.child_env(_job(timeout=9), tmp_path, tmp_path)["PORTFOLIO_DEMO"] == "1"


def _sparse(path: Path, size: int) -> Path:
    """A file of ``size`` bytes that takes no room on disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        fh.truncate(size)
    return path


def test_a_demo_file_over_githubs_limit_is_never_written_to_results(tmp_path: Path) -> None:
    from portfolio import results
    from portfolio.capture import demo

    staged = tmp_path / "staged"
    _sparse(staged / "model.onnx", results.MAX_FILE_BYTES + 1)
    (staged / "examples.json").write_text("{}")
    folder = tmp_path / "results" / "p" / "demo"
    with pytest.raises(demo.NoDemo, match="over GitHub's 100 MB limit") as raised:
        demo.keep(staged, folder)
    assert raised.value.warn and "model.onnx" in str(raised.value)
    assert not folder.exists()
    # At the limit exactly, it is kept.
    _sparse(staged / "model.onnx", results.MAX_FILE_BYTES)
    demo.keep(staged, folder)
    assert (folder / "model.onnx").stat().st_size == results.MAX_FILE_BYTES


def test_a_saved_model_over_githubs_limit_is_dropped_with_a_warning(tmp_path: Path) -> None:
    from portfolio import child, recorder, results

    rec = recorder.Recorder(out=tmp_path / "out", seed=1, project_dir=tmp_path)
    _sparse(rec.out / "model.keras", results.MAX_FILE_BYTES + 1)
    (rec.out / "metrics.json").write_text("{}")
    rec.model_file = "model.keras"
    child.keep_within_github_limit(rec)
    assert not (rec.out / "model.keras").exists() and rec.model_file is None
    assert (rec.out / "metrics.json").is_file()
    assert len(rec.warnings) == 1 and "model.keras" in rec.warnings[0]
    assert "over GitHub's 100 MB limit" in rec.warnings[0]


def test_the_child_never_exports_when_told_not_to(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The child's side alone (no Keras needed): told PORTFOLIO_DEMO=0, it never reaches
    the model's exporter."""
    from portfolio import recorder
    from portfolio.capture import demo

    class Model:
        def export(self, *args: object, **kwargs: object) -> None:
            raise AssertionError("exported")

    rec = recorder.Recorder(out=tmp_path / "out", seed=1, project_dir=tmp_path)
    rec.extra["_published_model"] = Model()
    monkeypatch.setenv("PORTFOLIO_DEMO", "0")
    demo.build(rec)
    assert rec.extra["demo"]["available"] is False and "turned off" in rec.extra["demo"]["reason"]
    assert not (rec.out / "demo").exists() and rec.warnings == []


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


@pytest.mark.training
def test_a_figure_drawn_huge_is_saved_at_most_4000_px_and_says_so(tmp_path: Path) -> None:
    from tests.conftest import run_child, run_record

    script = """
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(182, 10))  # 20,020 px wide at 110 dpi
ax.plot([1, 2, 3])
ax.set_title("Wide")
plt.show()
fig, ax = plt.subplots(figsize=(4, 3))
ax.plot([1, 2, 3])
ax.set_title("Far label")
ax.text(300, 2, "far outside the axes")  # the tight box reaches 300 data units out
plt.show()
fig, ax = plt.subplots(figsize=(4, 3))
ax.plot([3, 2, 1])
ax.set_title("Ordinary")
plt.show()
"""
    out = run_child(script, tmp_path / "wide")
    record = run_record(out)
    saved = {f: _png_size(f) for f in (out / "figures").glob("*.png")}
    assert len(saved) == 4, saved  # the wide one has a display and a full-size PNG
    assert all(max(size) <= 4000 for size in saved.values()), saved
    warned = [w for w in record["capture_warnings"] if "4,000 px" in w]
    assert [w.split()[1] for w in warned] == ["wide.png", "far-label.png"], warned
    assert "182 × 10 inches" in warned[0] and "dpi instead of" in warned[0]
    assert _png_size(out / "figures" / "ordinary.png")[0] < 1000  # untouched: 110 dpi


def _bomb(path: Path, width: int, height: int) -> Path:
    """A 1-bit black PNG of width × height pixels: a few hundred KB on disk, gigabytes
    once decoded."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    row, packer = b"\0" * (1 + (width + 7) // 8), zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data)
                     + chunk(b"IEND", b""))
    return path


@pytest.mark.cli
def test_a_huge_png_in_results_is_left_off_the_page_not_a_crash(tmp_path: Path) -> None:
    from tests.conftest import REPO

    root = tmp_path / "p"
    root.mkdir()
    for name in ("projects", "results", "site_templates"):
        shutil.copytree(REPO / name, root / name)
    shutil.copyfile(REPO / "mkdocs.yml", root / "mkdocs.yml")
    figures = root / "results" / "breast-cancer-mlp" / "figures"
    _bomb(figures / "learning-curve.png", 20_000, 20_000)  # 400 MP: Pillow refuses it
    built = portfolio_cli("build", "--no-run", cwd=root)
    assert built.returncode == 0, built.stderr
    assert "Traceback" not in built.stderr
    page = (root / "site" / "projects" / "breast-cancer-mlp" / "index.html").read_text()
    assert 'src="figures/learning-curve.png"' not in page
    assert "figures/learning-curve.png is 20,000 × 20,000 pixels" in page  # said, on the page
    assert "left off the page" in page
    assert 'src="figures/spot-check.png"' in page  # the other figures are still there
    assert not (root / "site" / "projects" / "breast-cancer-mlp" / "figures"
                / "learning-curve.png").exists()


def test_the_site_never_draws_an_image_pillow_calls_a_bomb(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Whatever reaches the drawing (a header views could not read ahead): one warning line,
    no file, no traceback."""
    from portfolio import render

    tree = render.Tree(tmp_path / "docs")
    tree.figure(_bomb(tmp_path / "huge.png", 20_000, 20_000), "p/huge.png")
    assert not (tmp_path / "docs" / "p" / "huge.png").exists()
    assert "p/huge.png" not in tree.produced
    err = capsys.readouterr().err
    assert err.startswith("warning: ") and "huge.png" in err and err.count("\n") == 1
