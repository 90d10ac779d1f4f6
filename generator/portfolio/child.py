"""The child process: ``python -m portfolio.child SCRIPT``, run with cwd = the project.

It installs the capturers, runs the user's script as ``__main__`` (the way
``python SCRIPT`` would), then writes what was captured to ``$PORTFOLIO_OUT``.
Exit status: 0 when the script succeeded, 1 when it failed; the parent reads
``run.json`` for the details.
"""

from __future__ import annotations

import contextlib
import gc
import os
import random
import runpy
import select
import signal
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

from portfolio import notebook, printed, process, recorder, results, scripterror
from portfolio.capture import all_capturers, baseline, demo, guarded, install_all, plots


def _die_with_parent() -> None:
    """A fresh child (its parent's pid in ``PORTFOLIO_PARENT``) ends, with everything it
    started, when the build that started it dies, even by SIGKILL: nobody would be left
    to time it out, read its output or keep its results. A watchdog thread waits on the
    parent's pidfd and kills the child's process group. (A child forked by the warm worker
    is tied to its client by the worker instead.)"""
    parent = int(os.environ.pop("PORTFOLIO_PARENT", "0") or 0)
    if not parent or not hasattr(os, "pidfd_open"):
        return
    try:
        watched = os.pidfd_open(parent)
    except OSError:
        os._exit(1)  # the parent is gone already
    if os.getppid() != parent:  # it died before we looked, and a pid was reused
        os._exit(1)

    def watch() -> None:
        select.select([watched], [], [])
        os.killpg(os.getpgrp(), signal.SIGKILL)

    threading.Thread(target=watch, name="portfolio-parent-watch", daemon=True).start()


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    try:
        import numpy as np
    except ImportError:
        return
    np.random.seed(seed)


class _CountingStream:
    """``sys.stdout`` (or ``sys.stderr``) as it was, counting the lines written through
    it, so capture can stamp each event with the log line it happened after. Everything
    else (``flush``, ``fileno``, ``isatty``, ``buffer``, ``encoding``...) is the real
    stream's: Keras progress bars and ``print`` behave as before, and the bytes are the same.
    """

    def __init__(self, stream: TextIO, lines: printed.OutputLines) -> None:
        self._stream = stream
        self._lines = lines

    def write(self, text: str) -> int:
        written = self._stream.write(text)
        self._lines.add(text)
        return written

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _same_file(a: TextIO, b: TextIO) -> bool:
    try:
        first, second = os.fstat(a.fileno()), os.fstat(b.fileno())
    except (AttributeError, OSError, ValueError):
        return False
    return (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)


def _count_output_lines(rec: recorder.Recorder) -> None:
    """Count what the script writes. The parent gives stdout and stderr one pipe and one
    ``log.txt``, so both count; when they go apart (a test's runner), stdout alone does."""
    if sys.stdout is None:
        return
    lines = printed.OutputLines()
    merged = sys.stderr is not None and _same_file(sys.stdout, sys.stderr)
    sys.stdout = _CountingStream(sys.stdout, lines)
    if merged:
        sys.stderr = _CountingStream(sys.stderr, lines)
    rec.output = lines


def _script_error(exc: BaseException, script: Path, project: Path) -> scripterror.Report:
    """The script's traceback as ``python SCRIPT`` would print it (Python's hints
    included), without the frames of portfolio and runpy that ran it, nor those of
    capture's wrappers; and what the record says of it, naming the script by its path
    in the ``project`` folder (where it started: the script may have moved since)."""
    ours = (str(Path(__file__).resolve().parent), str(Path(runpy.__file__).resolve()))
    return scripterror.report(exc, script, ours, os.path.relpath(script, project))


def _record_local_modules(rec: recorder.Recorder) -> None:
    """Modules the script imported from the repository, outside its own folder (those
    inside are hashed with the folder); the parent hashes them into the next plan."""
    root = os.environ.get("PORTFOLIO_ROOT")
    if not root:
        return
    root_path, project = Path(root).resolve(), rec.project_dir.resolve()
    generator = Path(__file__).resolve().parent
    found = set()
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if not file:
            continue
        path = Path(file).resolve()
        if (path.is_relative_to(root_path) and not path.is_relative_to(project)
                and not path.is_relative_to(generator)
                and not any(part.startswith(".") or part == "site-packages"
                            for part in path.relative_to(root_path).parts)
                and path.suffix == ".py"):
            found.add(path.relative_to(root_path).as_posix())
    rec.extra["local_modules"] = sorted(found)


def finish(rec: recorder.Recorder, capturers: list[Any]) -> None:
    """Everything decided once the script has ended, in order, each step guarded: the
    capturers' own finishing, then what each score was measured on, the scores the script
    printed (before the project's own are chosen: "Train RMSE: ..." makes a hooked score a
    training one), which results are the project's, what they must beat, the live demo (an
    ONNX export of the published model), a printed RMSE that is the root of the project's
    MSE (one of its results too), and the plots."""
    for capturer in capturers:
        guarded(rec, f"{capturer.name} finish", lambda c=capturer: c.finish(rec))
    guarded(rec, "placing scores", rec.ledger.resolve)
    guarded(rec, "printed results", rec.read_printed_results)
    guarded(rec, "choosing the project's results", rec.judge)
    guarded(rec, "trivial baselines", lambda: baseline.trivial_baselines(rec))
    guarded(rec, "demo", lambda: demo.build(rec))
    guarded(rec, "printed RMSE", lambda: printed.roots_of_printed_mse(rec.results))
    guarded(rec, "learning curve", lambda: plots.learning_curve(rec))
    guarded(rec, "spot-check box plot", lambda: plots.spot_check_boxplot(rec))
    guarded(rec, "local modules", lambda: _record_local_modules(rec))
    guarded(rec, "file size limit", lambda: keep_within_github_limit(rec))


def keep_within_github_limit(rec: recorder.Recorder, limit: int = results.MAX_FILE_BYTES
                             ) -> None:
    """Drop every file of the run over GitHub's limit for a file (a model.keras of 116 MB,
    say), with a warning: ``results/`` is committed, and one such file makes the push fail.
    The page then goes without it, as with ``publish_model: false``."""
    for path in sorted(rec.out.rglob("*")):
        with contextlib.suppress(OSError):
            if not path.is_file() or path.is_symlink() or path.stat().st_size <= limit:
                continue
            size = path.stat().st_size
            path.unlink()
            name = path.relative_to(rec.out).as_posix()
            hint = (" (model_url: in project.yaml links to where it lives instead)"
                    if rec.model_file == name else "")
            rec.warn(f"{name} is {size / 2**20:,.0f} MB, over GitHub's {limit / 2**20:g} MB "
                     f"limit for a file, so it was not kept in results/{hint}")
            if rec.model_file == name:
                rec.model_file = None
            rec.figures = [f for f in rec.figures if f.get("path") != name]
            for figure in rec.figures:
                if figure.get("full_path") == name:
                    del figure["full_path"]


def _exit_message(exc: SystemExit) -> str:
    """``sys.exit("wine.csv: ...")`` is how tutorials stop on bad data: Python prints the
    message to stderr and exits 1, and so does the run (its log and its error say it);
    ``sys.exit(3)`` is said as the call it was."""
    if isinstance(exc.code, str):
        print(exc.code, file=sys.stderr)
        return exc.code
    return f"the script exited with sys.exit({exc.code!r})"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m portfolio.child SCRIPT", file=sys.stderr)
        return 2
    script = Path(argv[0]).resolve()
    out = Path(os.environ["PORTFOLIO_OUT"])
    seed = int(os.environ.get("PORTFOLIO_SEED", "42"))
    os.environ.setdefault("MPLBACKEND", "Agg")  # plt.show() must never open a window
    _die_with_parent()

    smoke = os.environ.get("PORTFOLIO_SMOKE") == "1"
    rec = recorder.Recorder(out=out, seed=seed, project_dir=Path.cwd(), smoke=smoke)
    recorder.activate(rec)
    _count_output_lines(rec)
    capturers = all_capturers()
    install_all(rec, capturers)
    _seed_everything(seed)

    status, error = "ok", None
    sys.argv = [str(script)]
    sys.path.insert(0, str(script.parent))
    namespace: dict[str, object] = {}
    try:
        if notebook.is_notebook(script):  # its code cells, in order, in one namespace
            namespace = notebook.run(script)
        else:
            namespace = runpy.run_path(str(script), run_name="__main__")
    except notebook.NotebookError as exc:  # a cell that needs a shell: refused, not run
        print(f"portfolio: {script.name}: {exc}", file=sys.stderr)
        status, error = "failed", f"{script.name}: {exc}"
    except SystemExit as exc:
        if exc.code not in (None, 0):
            status, error = "failed", _exit_message(exc)
            at = scripterror.located(exc, script, os.path.relpath(script, rec.project_dir))
            if at:
                rec.extra["error_at"] = at
    except BaseException as exc:  # the user's error, reported, not ours to re-raise
        described = _script_error(exc, script, rec.project_dir)
        status, error = "failed", described.error
        if described.at:
            rec.extra["error_at"] = described.at
    finally:
        sys.stdout.flush()
        sys.stderr.flush()

    finish(rec, capturers)
    if status == "ok" and rec.diverged:
        status = "diverged"
        error = (f"the {rec.diverged['metric']} became {rec.diverged['value']} at epoch "
                 f"{rec.diverged['epoch']}; training was stopped there")
    rec.write(status, error)
    # The script's globals go now, so a file it left open is closed (and flushed) by its
    # own finalizer before process.leave() skips the interpreter's teardown. In the warm
    # worker's children this collection is short: the worker froze its own objects.
    namespace.clear()
    gc.collect()
    return 0 if status == "ok" else 1


if __name__ == "__main__":
    process.leave(main(sys.argv[1:]))
