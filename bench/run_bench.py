"""Benchmarks for `make bench`: portfolio against mkdocs-gallery, side by side, one run.

Rows, for two portfolios (the three example projects, and the three scikit-learn
scripts of the mkdocs-gallery peer benchmark, each as a portfolio project): cold build
with -j1 and with the default jobs on a machine where nothing is warm (no warm worker,
no template cache), no-op rebuild, rebuild after editing one script (with the warm
worker, and with --no-warm), and a cold build of a never-built copy while the worker is
running; then mkdocs-gallery's rows on its scripts (timed by its own run.sh, in its own
virtual environment), a parallel speed-up on four equal projects, the parent's peak
memory, and capture's overhead on parallel scripts (each timed on its own and under a
build, side by side). Prints a Markdown report; `make bench` writes it to BENCHMARKS.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The peer benchmark lives beside the checkout (../shared/bench/mkdocs-gallery);
# PEER_BENCH points elsewhere.
PEER = Path(os.environ.get("PEER_BENCH") or REPO.parent / "shared" / "bench" / "mkdocs-gallery")
GALLERY_VENV = REPO / "bench" / ".venv-gallery"
ROUNDS = 3  # the peer's scripts are measured this many times on each side; medians shown
PYTHON = sys.executable


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall time of a `portfolio` command and the peak memory of the portfolio process
    itself. wait4's rusage folds in the children it reaped (the training), so the parent's
    own figure comes from its summary line when it ran any, and from wait4 when it did not."""
    start = time.perf_counter()
    proc = subprocess.Popen([PYTHON, "-m", "portfolio", *args], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"portfolio {' '.join(args)} failed:\n{err}")
    own = re.search(r"portfolio itself peaked at (\d+) MB", err)
    return elapsed, float(own[1]) if own else usage.ru_maxrss / 1024


class Machine:
    """Where portfolio keeps state between builds: the warm workers' folder and the user
    cache (compiled templates). ``fresh()`` is a machine that never built a portfolio:
    no worker running, nothing cached. ``stop()`` ends the workers it started."""

    def __init__(self) -> None:
        self.folders: list[Path] = []
        self.env: dict[str, str] = {}
        self.fresh()

    def fresh(self) -> None:
        runtime = Path(tempfile.mkdtemp(prefix="pw-"))
        cache = Path(tempfile.mkdtemp(prefix="portfolio-cache-"))
        self.folders += [runtime, cache]
        self.env = {**os.environ, "PORTFOLIO_RUNTIME_DIR": str(runtime),
                    "PORTFOLIO_CACHE_DIR": str(cache)}

    def stop(self) -> None:
        for folder in self.folders:
            for info in folder.glob("warm-*.json"):
                with contextlib.suppress(OSError, ValueError):
                    os.kill(json.loads(info.read_text())["pid"], signal.SIGKILL)
            shutil.rmtree(folder, ignore_errors=True)


def workspace(projects: dict[str, str], scripts: dict[str, str]) -> Path:
    root = Path(tempfile.mkdtemp(prefix="portfolio-bench-"))
    shutil.copytree(REPO / "site_templates", root / "site_templates")
    shutil.copyfile(REPO / "mkdocs.yml", root / "mkdocs.yml")
    for slug, source in projects.items():
        shutil.copytree(source, root / "projects" / slug)
    for slug, script in scripts.items():
        folder = root / "projects" / slug
        folder.mkdir(parents=True)
        (folder / "train.py").write_text(script)
        (folder / "project.yaml").write_text(f"title: {slug}\n")
    return root


def edit(root: Path, slug: str) -> None:
    with (root / "projects" / slug / "train.py").open("a") as fh:
        fh.write(f"\n# edited by the benchmark at {time.time()}\n")


def portfolio_rows(label: str, make: callable, slug: str) -> list[tuple[str, str, float, float]]:
    rows = []
    machine = Machine()
    try:
        root = make()
        seconds, peak = timed(["build", "-j", "1"], root, machine.env)
        rows.append((label, "cold build, -j1 (nothing warm: no worker, no cache)", seconds,
                     peak))
        shutil.rmtree(root)
        machine.stop()
        machine.fresh()
        root = make()
        seconds, peak = timed(["build"], root, machine.env)
        rows.append((label, f"cold build, default jobs (-j{os.cpu_count()}), nothing warm",
                     seconds, peak))
        seconds, peak = timed(["build"], root, machine.env)
        rows.append((label, "no-op rebuild", seconds, peak))
        edit(root, slug)
        seconds, peak = timed(["build"], root, machine.env)
        rows.append((label, "rebuild after editing one script", seconds, peak))
        edit(root, slug)
        seconds, peak = timed(["build", "--no-warm"], root, machine.env)
        rows.append((label, "rebuild after editing one script, --no-warm", seconds, peak))
        shutil.rmtree(root)
        root = make()  # a never-built copy, on a machine that has built before
        seconds, peak = timed(["build"], root, machine.env)
        rows.append((label, "cold build, default jobs, worker already running", seconds,
                     peak))
        shutil.rmtree(root)
    finally:
        machine.stop()
    return rows


def gallery_venv() -> None:
    if not (GALLERY_VENV / "bin" / "mkdocs").exists():
        subprocess.run([PYTHON, "-m", "venv", str(GALLERY_VENV)], check=True)
        subprocess.run([str(GALLERY_VENV / "bin" / "pip"), "install", "-q", "mkdocs-gallery",
                        "mkdocs-material", "matplotlib", "numpy", "scikit-learn"], check=True)


def gallery_rows() -> list[tuple[str, str, float, float]]:
    """One round of the peer's own run.sh: cold, no-op, touch and edit builds."""
    work = Path(tempfile.mkdtemp(prefix="gallery-bench-"))
    out = subprocess.run(["bash", str(PEER / "run.sh"), str(GALLERY_VENV), str(work)],
                         capture_output=True, text=True, check=True).stdout
    shutil.rmtree(work, ignore_errors=True)
    times = dict(re.findall(r"^(cold|noop|touch|edit)\s+([0-9.]+) s", out, re.M))
    names = {"cold": "cold build", "noop": "no-op rebuild",
             "edit": "rebuild after editing one script"}
    return [("mkdocs-gallery scripts", f"mkdocs-gallery: {names[k]}", float(times[k]),
             float("nan")) for k in ("cold", "noop", "edit")]


GENERATED = '''"""
Generated project {index}
========================

A logistic regression on the digits, one of many: the benchmark's filler project.
"""
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state={index})
model = LogisticRegression(max_iter=100, C={c}).fit(X_train, y_train)
print(f"Test accuracy: {{model.score(X_test, y_test):.3f}}")
plt.plot(model.coef_[0])
plt.title("Coefficients for class 0")
plt.show()
'''
SCALES = (10, 30, 60)


def generated(count: int) -> dict[str, str]:
    """``count`` small scikit-learn scripts: a split, a fit, a printed score, a figure."""
    return {f"gen-{i:02d}": GENERATED.format(index=i, c=round(0.05 + 0.01 * i, 2))
            for i in range(count)}


def gallery_project(scripts: dict[str, str]) -> Path:
    """The same scripts as an mkdocs-gallery site, configured as the peer benchmark's."""
    root = Path(tempfile.mkdtemp(prefix="gallery-scale-"))
    shutil.copyfile(PEER / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(PEER / "docs", root / "docs")
    (root / "examples").mkdir()
    shutil.copyfile(PEER / "examples" / "README.md", root / "examples" / "README.md")
    for slug, script in scripts.items():
        (root / "examples" / f"plot_{slug.replace('-', '_')}.py").write_text(script)
    return root


def gallery_build(root: Path) -> float:
    env = {**os.environ, "MPLBACKEND": "Agg", "NO_MKDOCS_2_WARNING": "1",
           "PYTHONHASHSEED": "0"}
    start = time.perf_counter()
    subprocess.run([str(GALLERY_VENV / "bin" / "mkdocs"), "build", "--clean", "-f",
                    "mkdocs.yml", "-d", "site"], cwd=root, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def bare_engine_build(root: Path) -> float:
    """MkDocs alone on the pages portfolio generated: what any no-op must beat."""
    target = Path(tempfile.mkdtemp(prefix="bare-site-"))
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    start = time.perf_counter()
    subprocess.run([PYTHON, "-m", "mkdocs", "build", "-q", "-f", str(root / ".build" /
                    "mkdocs.yml"), "-d", str(target)], cwd=root, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    shutil.rmtree(target, ignore_errors=True)
    return seconds


def scaling_rows() -> list[tuple[int, str, float, float]]:
    """(projects, build, portfolio seconds, other seconds) for 10, 30 and 60 generated
    projects: cold from nothing, no-op and edit-one against mkdocs-gallery on the same
    scripts, and the no-op against a bare engine build of the same generated pages."""
    rows = []
    for count in SCALES:
        scripts = generated(count)
        machine = Machine()
        try:
            ours = workspace({}, scripts)
            theirs = gallery_project(scripts)
            cold = timed(["build"], ours, machine.env)[0]
            gallery_cold = gallery_build(theirs)
            # The rest, median of ROUNDS: each a fraction of a second to a few seconds,
            # where one sample is mostly the machine's noise.
            noop, gallery_noop, bare, edited, gallery_edited = [], [], [], [], []
            for _ in range(ROUNDS):
                noop.append(timed(["build"], ours, machine.env)[0])
                gallery_noop.append(gallery_build(theirs))
                bare.append(bare_engine_build(ours))
                edit(ours, "gen-00")
                with (theirs / "examples" / "plot_gen_00.py").open("a") as fh:
                    fh.write(f"\n# edited by the benchmark at {time.time()}\n")
                edited.append(timed(["build"], ours, machine.env)[0])
                gallery_edited.append(gallery_build(theirs))
            noop, gallery_noop, bare, edited, gallery_edited = map(
                statistics.median, (noop, gallery_noop, bare, edited, gallery_edited))
            rows += [(count, "cold build from nothing", cold, gallery_cold),
                     (count, "no-op rebuild", noop, gallery_noop),
                     (count, "rebuild after editing one script", edited, gallery_edited),
                     (count, "no-op rebuild against a bare `mkdocs build`", noop, bare)]
            shutil.rmtree(ours, ignore_errors=True)
            shutil.rmtree(theirs, ignore_errors=True)
        finally:
            machine.stop()
    return rows


def medians(rounds: list[list[tuple[str, str, float, float]]]) -> list[tuple[str, str, float,
                                                                               float]]:
    """Each row's median time over the rounds (and its highest memory)."""
    rows = []
    for index, (label, what, _, _) in enumerate(rounds[0]):
        seconds = statistics.median(r[index][2] for r in rounds)
        memory = max(r[index][3] for r in rounds)
        rows.append((label, what, seconds, memory))
    return rows


def main() -> None:
    if not (PEER / "run.sh").is_file() or not list(PEER.glob("examples/plot_*.py")):
        raise SystemExit(f"the mkdocs-gallery peer benchmark is not at {PEER}: it is expected "
                         "beside the checkout (../shared/bench/mkdocs-gallery); set PEER_BENCH "
                         "to its folder")
    examples = {p.name: p for p in sorted((REPO / "projects").iterdir()) if p.is_dir()}
    scripts = {p.stem.removeprefix("plot_").replace("_", "-"): p.read_text()
               for p in sorted((PEER / "examples").glob("plot_*.py"))}
    rows = []
    rows += portfolio_rows("example projects", lambda: workspace(examples, {}),
                           slug=next(iter(examples)))
    # The peer's scripts: ours and mkdocs-gallery's builds in alternating rounds, so a
    # machine that speeds up or slows down during the run weighs on both sides alike.
    gallery_venv()
    gallery_rows()  # its README: the first run on a fresh venv is slow; not measured
    ours, theirs = [], []
    for _ in range(ROUNDS):
        ours.append(portfolio_rows("mkdocs-gallery scripts", lambda: workspace({}, scripts),
                                   slug="wine-forest"))
        theirs.append(gallery_rows())
    rows += medians(ours) + medians(theirs)

    # Four equal projects, -j1 against the default: the digits SVC script (0.6 s of work,
    # so the build's fixed costs weigh) and the wine forest script (2.5 s of training).
    speedups = {}
    for script, runner in (("digits_svc", "--warm"), ("digits_svc", "--no-warm"),
                           ("wine_forest", "--warm")):
        source = (PEER / "examples" / f"plot_{script}.py").read_text()
        machine = Machine()
        try:
            root = workspace({}, {f"copy-{i}": source for i in range(4)})
            timed(["run", runner, "-j", "1"], root, machine.env)  # starts the worker
            times: dict[str, list[float]] = {"1": [], str(os.cpu_count()): []}
            for _ in range(ROUNDS):
                for jobs, seen in times.items():
                    seen.append(timed(["run", runner, "--force", "-j", jobs], root,
                                      machine.env)[0])
            speedups[script, runner] = tuple(statistics.median(s) for s in times.values())
            shutil.rmtree(root)
        finally:
            machine.stop()

    def row(label: str, what: str) -> float:
        return next(r[2] for r in rows if r[0] == label and r[1].startswith(what))

    peer = "mkdocs-gallery scripts"
    gallery_cold = row(peer, "mkdocs-gallery: cold")
    ratios = [
        ("no-op rebuild", row(peer, "no-op"), row(peer, "mkdocs-gallery: no-op"), 0.6),
        ("rebuild after editing one script", row(peer, "rebuild after editing one script"),
         row(peer, "mkdocs-gallery: rebuild"), 0.6),
        ("cold build, default jobs, nothing warm", row(peer, "cold build, default jobs (-j"),
         gallery_cold, 0.8),
        ("cold build, default jobs, worker already running",
         row(peer, "cold build, default jobs, worker"), gallery_cold, 0.8),
    ]
    peak = max(r[3] for r in rows if r[3] == r[3])
    scaling = scaling_rows()
    print(report(rows, ratios, speedups, peak) + scaling_report(scaling)
          + overhead_report(overhead_rows()) + cluster_report(cluster_rows())
          + lighthouse_report(lighthouse_rows()))


def machine() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        model = found[1] if found else model
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kb = int(re.search(r"MemTotal:\s*(\d+)", meminfo.read_text())[1])
        memory = f", {kb / 1024 / 1024:.0f} GiB memory"
    return (f"{os.cpu_count()} cores ({model}){memory}, {platform.system()} "
            f"{platform.machine()}, Python {platform.python_version()}")


def report(rows, ratios, speedups, peak) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Measured by `make bench` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, on {machine()}.",
        "Wall times. The example projects: one run each. The mkdocs-gallery scripts: the",
        f"median of {ROUNDS} rounds, each round one sequence of our builds followed by one of",
        "mkdocs-gallery's, all in the same run. A shared, noisy machine: compare the ratios",
        "more than the seconds.",
        "",
        "| portfolio | build | seconds | parent peak memory |",
        "| --- | --- | ---: | ---: |",
    ]
    for label, what, seconds, mem in rows:
        memory = "–" if mem != mem else f"{mem:.0f} MB"
        lines.append(f"| {label} | {what} | {seconds:.2f} | {memory} |")
    lines += ["", "## Against mkdocs-gallery, on its own three scripts", "",
              "| build | portfolio (s) | mkdocs-gallery (s) | ratio | target |",
              "| --- | ---: | ---: | ---: | ---: |"]
    for what, ours, theirs, target in ratios:
        verdict = "met" if ours / theirs <= target else "missed"
        lines.append(f"| {what} | {ours:.2f} | {theirs:.2f} | {ours / theirs:.2f}× | "
                     f"≤ {target}× ({verdict}) |")
    lines += ["", "## Parallel runs and memory", ""]
    ways = {"--warm": "forked from the warm worker (the default)",
            "--no-warm": "each in a fresh interpreter (`--no-warm`)"}
    for (script, runner), (serial, parallel) in speedups.items():
        speedup = serial / parallel
        lines.append(
            f"- Four equal projects (copies of the peer's `plot_{script}.py`), {ways[runner]}, "
            f"median of {ROUNDS}: `-j1` {serial:.2f} s, `-j{os.cpu_count()}` {parallel:.2f} s: "
            f"speed-up {speedup:.2f}× (target ≥ 1.6×: {'met' if speedup >= 1.6 else 'missed'}).")
    lines.append(
        f"- The parent process's peak memory over every build above: {peak:.0f} MB "
        f"(target ≤ 150 MB: {'met' if peak <= 150 else 'missed'}). Training memory stays in "
        "the children, reported per project by `portfolio build`.")
    return "\n".join(lines) + "\n"


def scaling_report(rows: list[tuple[int, str, float, float]]) -> str:
    lines = ["", "## Scaling: generated scikit-learn projects", "",
             "Each project: a split, a fit, a printed score and a figure. Both tools build",
             "the same scripts in the same run, in alternating rounds; the cold builds are",
             f"measured once, the rest are medians of {ROUNDS}. The last rows set",
             "portfolio's no-op beside a bare `mkdocs build` of the pages it generated",
             "(target ≤ 0.5×).", "",
             "| projects | build | portfolio (s) | other (s) | ratio |",
             "| ---: | --- | ---: | ---: | ---: |"]
    for count, what, ours, theirs in rows:
        other = "bare mkdocs" if "bare" in what else "mkdocs-gallery"
        lines.append(f"| {count} | {what} | {ours:.2f} | {theirs:.2f} ({other}) | "
                     f"{ours / theirs:.2f}× |")
    return "\n".join(lines) + "\n"


# Scripts in bench/ timed on their own and under a build: nested n_jobs=-1 is where the
# build once made a script several times slower than `python train.py`.
OVERHEAD_SCRIPTS = {
    "parallel_stacking": "scikit-learn: cross_validate and cross_val_predict (n_jobs=-1) "
                         "over a pipeline with a StackingRegressor (n_jobs=-1 inside)",
    "parallel_keras": "Keras: a CNN on the digits, after cross_val_score (n_jobs=-1)",
}
OVERHEAD_TARGET = 1.1


def overhead_rows() -> list[tuple[str, float, float, float]]:
    """(script, standalone s, build s, build --no-warm s) for each script of bench/, the
    only project of a portfolio: `python train.py` in its project folder, then a rebuild
    after an edit with the warm worker (the default), then one with --no-warm, in turn in
    each round; medians of ROUNDS. An untimed first build starts the worker."""
    rows = []
    for name in OVERHEAD_SCRIPTS:
        slug = name.replace("_", "-")
        machine = Machine()
        try:
            root = workspace({}, {slug: (REPO / "bench" / f"{name}.py").read_text()})
            timed(["build"], root, machine.env)
            alone, warm, fresh = [], [], []
            for _ in range(ROUNDS):
                start = time.perf_counter()
                subprocess.run([PYTHON, "train.py"], cwd=root / "projects" / slug, check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                alone.append(time.perf_counter() - start)
                edit(root, slug)
                warm.append(timed(["build"], root, machine.env)[0])
                edit(root, slug)
                fresh.append(timed(["build", "--no-warm"], root, machine.env)[0])
            rows.append((name, *map(statistics.median, (alone, warm, fresh))))
            shutil.rmtree(root)
        finally:
            machine.stop()
    return rows


def overhead_report(rows: list[tuple[str, float, float, float]]) -> str:
    lines = ["", "## Capture's overhead on parallel scripts", "",
             "Each script of `bench/` run on its own (`python train.py` in its project",
             "folder) and rebuilt after an edit as the only project of a portfolio (the run",
             "with capture, then the site), with the warm worker (the default) and with",
             f"`--no-warm`: the three in turn in each round, medians of {ROUNDS}, same run.",
             f"Target: the build within {OVERHEAD_TARGET}× of the script on its own. Measured",
             f"on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, on {machine()}.", "",
             "| script | on its own (s) | build (s) | ratio | build, --no-warm (s) | ratio |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, alone, warm, fresh in rows:
        verdict = "met" if warm / alone <= OVERHEAD_TARGET else "missed"
        lines.append(f"| `bench/{name}.py`: {OVERHEAD_SCRIPTS[name]} | {alone:.2f} | "
                     f"{warm:.2f} | {warm / alone:.2f}× ({verdict}) | {fresh:.2f} | "
                     f"{fresh / alone:.2f}× |")
    return "\n".join(lines) + "\n"


def cluster_rows() -> list[tuple[str, float, float]]:
    """The example portfolio built cold on a two-worker Dask LocalCluster (one thread per
    worker, on loopback) against the local executor with -j2, in alternating rounds:
    (round, local seconds, cluster seconds). The cluster is started before the clock
    starts, as a cluster is up before a build uses it; nothing else is warm on either side
    (every build runs in a never-built copy, on a machine with no warm worker)."""
    import distributed

    examples = {p.name: p for p in sorted((REPO / "projects").iterdir()) if p.is_dir()}
    rows = []
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        for index in range(ROUNDS):
            times = {}
            for side, args in (("local", ["build", "-j", "2"]),
                               ("cluster", ["build", "--executor", "dask", "--scheduler",
                                            cluster.scheduler_address])):
                machine = Machine()
                try:
                    root = workspace(examples, {})
                    times[side] = timed(args, root, machine.env)[0]
                    shutil.rmtree(root)
                finally:
                    machine.stop()
            rows.append((f"round {index + 1}", times["local"], times["cluster"]))
    return rows


def cluster_report(rows: list[tuple[str, float, float]]) -> str:
    local = statistics.median(r[1] for r in rows)
    remote = statistics.median(r[2] for r in rows)
    lines = ["", "## The example portfolio on a Dask cluster", "",
             "Cold builds of the three example projects (every run, then the site): the",
             "local executor with `-j2` (forking from a warm worker it starts) against",
             "`--executor dask` on a `distributed.LocalCluster` of two worker processes with",
             "one thread each on this machine (each run a fresh interpreter on a worker; the",
             "projects travel as archives and their results come back the same way).",
             "Alternating rounds, same run; medians in the last row. Measured on "
             f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, on {machine()}.", "",
             "| round | local, -j2 | Dask, 2 workers | cluster / local |",
             "| --- | ---: | ---: | ---: |"]
    for label, ours, theirs in rows:
        lines.append(f"| {label} | {ours:.1f} s | {theirs:.1f} s | {theirs / ours:.2f}× |")
    lines.append(f"| **median** | **{local:.1f} s** | **{remote:.1f} s** | "
                 f"**{remote / local:.2f}×** |")
    return "\n".join(lines) + "\n"


def lighthouse_rows() -> list[tuple[str, str, dict[str, int], float]]:
    """Lighthouse 12.2.3 on the example site's audited pages (quality/gates.py), with the
    mobile and the desktop preset: scores and transfer size (KB) of each page."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("quality_gates",
                                                  REPO / "quality" / "gates.py")
    gates = importlib.util.module_from_spec(spec)
    sys.modules["quality_gates"] = gates
    spec.loader.exec_module(gates)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        site = gates.example_site(Path(tmp))
        with gates.served(site) as base:
            for path in gates.audited_pages(site):
                for preset in ("mobile", "desktop"):
                    result = gates.lighthouse(base + path, preset)
                    size = result["audits"]["total-byte-weight"]["numericValue"] / 1024
                    rows.append((path, preset, gates.scores(result), size))
    return rows


def lighthouse_report(rows: list[tuple[str, str, dict[str, int], float]]) -> str:
    lines = ["", "## Lighthouse on the example site", "",
             "Lighthouse 12.2.3 (`quality/package-lock.json`) in Debian's chromium, the site",
             "served on 127.0.0.1. `make quality` gates accessibility, best practices and SEO",
             "at 100 (mobile); performance is recorded here, not gated: it moves with the",
             "machine's load. Transfer size: everything the page loaded (Lighthouse's",
             "total byte weight).", "",
             "| page | preset | performance | accessibility | best practices | SEO | "
             "transfer |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for path, preset, got, size in rows:
        lines.append(f"| `{path}` | {preset} | {got['performance']} | {got['accessibility']} "
                     f"| {got['best-practices']} | {got['seo']} | {size:,.0f} KB |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] == ["--lighthouse"]:  # that section alone
        print(lighthouse_report(lighthouse_rows()))
    elif sys.argv[1:] == ["--cluster"]:  # that section alone
        print(cluster_report(cluster_rows()))
    elif sys.argv[1:] == ["--overhead"]:  # that section alone
        print(overhead_report(overhead_rows()))
    else:
        main()
