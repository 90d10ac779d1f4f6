"""The child process: ``python -m portfolio.child SCRIPT``, run with cwd = the project.

It installs the capturers, runs the user's script as ``__main__`` (the way
``python SCRIPT`` would), then writes what was captured to ``$PORTFOLIO_OUT``.
Exit status: 0 when the script succeeded, 1 when it failed; the parent reads
``run.json`` for the details.
"""

from __future__ import annotations

import gc
import os
import random
import runpy
import select
import signal
import sys
import threading
import traceback
from pathlib import Path

from portfolio import process, runtime
from portfolio.capture import all_capturers, guarded, install_all, plots


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


def _record_local_modules(rec: runtime.Recorder) -> None:
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
    rec = runtime.Recorder(out=out, seed=seed, project_dir=Path.cwd(), smoke=smoke)
    runtime.activate(rec)
    capturers = all_capturers()
    install_all(rec, capturers)
    _seed_everything(seed)

    status, error = "ok", None
    sys.argv = [str(script)]
    sys.path.insert(0, str(script.parent))
    namespace: dict[str, object] = {}
    try:
        namespace = runpy.run_path(str(script), run_name="__main__")
    except SystemExit as exc:
        if exc.code not in (None, 0):
            status, error = "failed", f"the script exited with sys.exit({exc.code!r})"
    except BaseException as exc:  # the user's error, reported, not ours to re-raise
        traceback.print_exc()
        status, error = "failed", f"{type(exc).__name__}: {exc}"
    finally:
        sys.stdout.flush()
        sys.stderr.flush()

    for capturer in capturers:
        guarded(rec, f"{capturer.name} finish", lambda c=capturer: c.finish(rec))
    guarded(rec, "learning curve", lambda: plots.learning_curve(rec))
    guarded(rec, "spot-check box plot", lambda: plots.spot_check_boxplot(rec))
    guarded(rec, "local modules", lambda: _record_local_modules(rec))
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
