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
import sys
import traceback
from pathlib import Path

from portfolio import process, runtime
from portfolio.capture import all_capturers, baseline, guarded, install_all, plots


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
    # What each score was measured on, which are the project's, and what they must beat:
    # decided once everything the script did is known.
    guarded(rec, "placing scores", rec.ledger.resolve)
    guarded(rec, "choosing the project's results", rec.judge)
    guarded(rec, "trivial baselines", lambda: baseline.trivial_baselines(rec))
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
