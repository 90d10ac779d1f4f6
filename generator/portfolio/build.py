"""``portfolio build``, top to bottom: the one place where the pipeline's order lives.

    discover → validate → plan → run → render → site → previews

Runs go where ``placement`` says: here (the default), or a Dask cluster.

Each stage is a call into its own module and is handed only what it needs; the warm
worker, started for the runs, is passed on to the preview drawing here, in plain sight.
The way MkDocs' ``commands/build.py`` reads: the order is the code.
"""

from __future__ import annotations

import contextlib
import functools
import os
import resource
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from portfolio import (
    config,
    discover,
    metric_check,
    plan,
    preview,
    render,
    results,
    run,
    site,
    warm,
)
from portfolio.domain import Project, Workspace
from portfolio.errors import InputError
from portfolio.plan import Decision
from portfolio.progress import Reporter

if TYPE_CHECKING:  # the Dask executor's module is imported only when a build asks for it
    from portfolio.cluster import Cluster


@dataclass(frozen=True)
class Options:
    """What the command line asked for."""

    slugs: tuple[str, ...] = ()  # run only these (every page is still rendered)
    jobs: int | None = None  # projects at once; default: one per core
    force: bool = False  # re-run fresh projects too
    smoke: bool = False  # one short epoch each, results to the scratch folder
    run: bool = True  # False: build the site from results/ as they are (--no-run)
    warm: bool = True  # fork runs from the warm worker
    executor: str | None = None  # local or dask (--executor; else mkdocs.yml; else local)
    scheduler: str | None = None  # the Dask scheduler (--scheduler, PORTFOLIO_SCHEDULER)
    engine: str | None = None  # mkdocs or zensical (--engine; else mkdocs.yml; else mkdocs)


@dataclass(frozen=True)
class Report:
    outcomes: list[run.Outcome]  # of the projects that ran, in plan order
    site_built: bool  # False: the site's inputs had not changed


def build(ws: Workspace, options: Options) -> Report:
    """Run what is stale, then render the pages and build the site into ``site/``."""
    projects = discover.discover(ws)
    validate(ws, projects)
    with placement(ws, options) as cluster:
        decisions = plan_runs(ws, projects, options, cluster)
        todo = [d for d in decisions if options.force or options.smoke or d.must_run]
        worker = start_worker(ws, projects) if todo and options.warm and not cluster else None
        outcomes = run_stale(ws, decisions, todo, options, worker, cluster)
    # Results as they are now: read again where a run replaced them, else as planned.
    planned = {d.state.project.slug: d.state for d in decisions}
    ran = {o.slug for o in outcomes}
    states = [planned[p.slug] if p.slug in planned and p.slug not in ran
              else plan.state_of(ws, p) for p in projects]
    metric_check.check(states, current_runs(projects, decisions, outcomes, options))
    rendered = render.render(ws, states)
    previews = preview.start(rendered.previews, ws.build_dir / "previews", worker)
    try:
        built = site.build_if_changed(rendered.config, ws.site_dir,
                                      [*render.template_dirs(ws), ws.mkdocs_yml],
                                      then=lambda folder: finish_previews(previews, folder),
                                      engine=engine_of(ws, options))
    finally:
        previews.stop()  # a drawing still going when the site build failed
    return Report(outcomes, built)


def run_only(ws: Workspace, options: Options) -> list[run.Outcome]:
    """``portfolio run``: the first four stages, no site."""
    projects = discover.discover(ws)
    validate(ws, projects)
    with placement(ws, options) as cluster:
        decisions = plan_runs(ws, projects, options, cluster)
        todo = [d for d in decisions if options.force or options.smoke or d.must_run]
        worker = start_worker(ws, projects) if todo and options.warm and not cluster else None
        return run_stale(ws, decisions, todo, options, worker, cluster)


# -- the stages ---------------------------------------------------------------------------
def validate(ws: Workspace, projects: list[Project]) -> None:
    """Every input checked before anything runs: each ``project.yaml`` (``discover`` did),
    ``mkdocs.yml`` and the profile, the templates, the READMEs, and the engine's reading of
    the derived config. No page is rendered; bad input stops here, results untouched."""
    with private_build_dir(ws, "check") as out:
        config = render.check(ws, projects, out)
        site.check_if_changed(config, _shown(ws.mkdocs_yml), render.template_dirs(ws),
                              ws.build_dir / "config-checked.sha256")


def current_runs(projects: list[Project], decisions: list[Decision],
                 outcomes: list[run.Outcome], options: Options) -> set[str]:
    """The projects whose last good run is that of their inputs now: fresh, or run by this
    build (a smoke run's results are not kept); all of them with ``--no-run``, where the
    committed results are what gets published."""
    if not options.run:
        return {p.slug for p in projects}
    fresh = {d.state.project.slug for d in decisions if not d.must_run}
    ran = set() if options.smoke else {o.slug for o in outcomes if o.status == "ok"}
    return fresh | ran


@contextlib.contextmanager
def placement(ws: Workspace, options: Options) -> Iterator[Cluster | None]:
    """Where the runs go: a connected Dask cluster (``--executor dask``), closed when the
    runs end, or None (here). The command line wins over ``PORTFOLIO_SCHEDULER``, which
    wins over ``extra.portfolio`` in ``mkdocs.yml``. Dask is imported only for a cluster."""
    settings = config.execution_of(config.load_mkdocs_yml(ws.mkdocs_yml), ws.mkdocs_yml)
    executor = options.executor or settings.executor or "local"
    if executor == "local" or not options.run:
        yield None
        return
    address = options.scheduler or os.environ.get("PORTFOLIO_SCHEDULER") or settings.scheduler
    if not address:
        raise InputError("--executor dask needs the Dask scheduler's address: --scheduler "
                         "tcp://HOST:PORT, PORTFOLIO_SCHEDULER, or scheduler: under "
                         "extra.portfolio in mkdocs.yml")
    from portfolio.cluster import Cluster

    cluster = Cluster(address)
    try:
        yield cluster
    finally:
        cluster.close()


def plan_runs(ws: Workspace, projects: list[Project], options: Options,
              cluster: Cluster | None = None) -> list[Decision]:
    """A decision per project to consider (the named ones, or all): stale, and why; judged
    with the library versions of the machines that will run it (a cluster's workers). A
    project's declared metric is judged now, before anything trains."""
    if not options.run:
        return []
    chosen = discover.select(ws, projects, list(options.slugs)) if options.slugs else projects
    if cluster is None:
        decisions = [plan.decide(ws, p) for p in chosen]
    else:
        cluster.warn_if_versions_differ()
        decisions = [plan.decide(ws, p, libraries=functools.partial(
            cluster.versions_for, dict(p.meta.resources))) for p in chosen]
    # Judged by the run of a fresh project, by the known names for one about to run.
    metric_check.check([d.state for d in decisions],
                       {d.state.project.slug for d in decisions if not d.must_run})
    return decisions


def start_worker(ws: Workspace, projects: list[Project]) -> warm.Worker | None:
    """The worker preloads what every project imports (not only the stale ones), so the
    same worker serves the next rebuild whichever project is edited."""
    scripts = [p.folder / p.meta.script for p in projects]
    return warm.ensure(warm.preloads(scripts), ws.build_dir)


def run_stale(ws: Workspace, decisions: list[Decision], todo: list[Decision],
              options: Options, worker: warm.Worker | None,
              cluster: Cluster | None = None) -> list[run.Outcome]:
    """Run ``todo`` with live progress; the fresh ones are listed as such."""
    if todo:  # before anything starts: a run that cannot be kept must not begin
        discover.check_writable([ws.results_dir, *(results.good(ws, d.state.project.slug).path
                                                   for d in todo)])
    reporter = Reporter()
    for decision in decisions:
        if decision not in todo:
            reporter.fresh(decision.state.project.slug)
    with reporter:
        outcomes = run.run_projects(ws, todo, options.jobs or os.cpu_count() or 1,
                                    options.smoke, reporter, worker,
                                    cluster.executors(ws) if cluster else None)
    if todo:
        reporter.summary(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return outcomes


def finish_previews(previews: preview.Pending, *targets: Path) -> None:
    """Put the link-preview images into the site. A drawing that failed is a warning, never
    a traceback: the pages build without the images not drawn (images drawn before are
    still used), and the next build tries again."""
    try:
        previews.finish(*targets)
    except preview.DrawingFailed as exc:
        print(f"warning: {exc.summary()}", file=sys.stderr, flush=True)


def not_fresh(ws: Workspace, versions: bool = True) -> list[str]:
    """Each project whose results are not those of its inputs, with why: stale, never run
    or failed. ``versions=False`` (``--no-run``): judged by the repository alone, see
    :func:`plan.decide`."""
    behind = []
    for project in discover.discover(ws):
        decision = plan.decide(ws, project, versions=versions)
        if decision.must_run:
            why = ", ".join(r for r in decision.reasons if r != decision.staleness)
            behind.append(f"{project.slug} ({decision.staleness}{': ' + why if why else ''})")
    return behind


def engine_of(ws: Workspace, options: Options | None = None) -> str:
    """The site engine: ``--engine``, else ``engine:`` under ``extra.portfolio``, else
    MkDocs; MkDocs too, with a warning, when the one asked for is not installed."""
    settings = config.execution_of(config.load_mkdocs_yml(ws.mkdocs_yml), ws.mkdocs_yml)
    return site.engine_available((options.engine if options else None) or settings.engine
                                 or "mkdocs")


def site_is_current(ws: Workspace) -> bool:
    """Whether ``site/`` is the finished build of the files as they are now (``publish
    --no-build``): the pages are rendered again, into ``.build/`` as a build would, and
    their digest compared with the one the last finished build recorded."""
    states = [plan.state_of(ws, p) for p in discover.discover(ws)]
    rendered = render.render(ws, states)
    now = site.inputs_digest(rendered.config, ws.site_dir,
                             [*render.template_dirs(ws), ws.mkdocs_yml], engine_of(ws))
    return site.finished(ws.site_dir, rendered.config.parent) == now


# -- helpers ------------------------------------------------------------------------------
@contextlib.contextmanager
def private_build_dir(ws: Workspace, command: str) -> Iterator[Path]:
    """A private folder under ``.build/`` for ``check`` and ``serve``: they run beside a
    build without touching the pages it builds from."""
    ws.build_dir.mkdir(parents=True, exist_ok=True)
    out = Path(tempfile.mkdtemp(prefix=f"{command}-", dir=ws.build_dir))
    try:
        yield out
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _shown(path: Path) -> Path:
    """A path as the user would type it: relative to where they are, when it is below."""
    return path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path
