"""The ``portfolio`` command: a thin layer over the pipeline stages.

discover → plan → run → render → site. Every :class:`PortfolioError` becomes a one-line
(or one-per-problem) message on stderr and its exit code; no traceback for user errors.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from portfolio import discover, plan, process, render, run, site, warm
from portfolio.errors import EXIT_OK, BuildLocked, PortfolioError, ProjectsFailed
from portfolio.model import Project, Workspace
from portfolio.progress import Reporter


def _workspace(root: str | None) -> Workspace:
    return Workspace(Path(root or ".").resolve())


root_option = click.option("--root", type=click.Path(file_okay=False, exists=True),
                           help="The portfolio repository (default: the current folder).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="portfolio")
def cli() -> None:
    """Build a deep-learning portfolio website from folders of Keras scripts."""


@cli.command()
@root_option
def check(root: str | None) -> None:
    """Validate every project.yaml and mkdocs.yml, without training."""
    ws = _workspace(root)
    discover.check_layout(ws)
    projects = discover.discover(ws)
    with _own_build_dir(ws, "check") as out:  # a build may be running: its pages are its own
        _validate(ws, out)
    click.echo(f"{len(projects)} project(s) OK: {', '.join(p.slug for p in projects) or 'none'}")


def _validate(ws: Workspace, out: Path | None = None) -> None:
    """Every input checked before anything runs: project.yaml files, mkdocs.yml, and the
    engine's reading of the derived config. Bad input stops here, with results/ untouched."""
    projects = discover.discover(ws)
    site.check(render.render(ws, [plan.state_of(ws, p) for p in projects], previews=False,
                             out=out)[0],
               ws.mkdocs_yml.relative_to(Path.cwd()) if ws.mkdocs_yml.is_relative_to(Path.cwd())
               else ws.mkdocs_yml)


@contextlib.contextmanager
def _own_build_dir(ws: Workspace, command: str) -> Iterator[Path]:
    """A private folder under ``.build/`` for the pages of ``check`` or ``serve``: they run
    beside a build without touching the pages it is building from."""
    import shutil
    import tempfile

    ws.build_dir.mkdir(parents=True, exist_ok=True)
    out = Path(tempfile.mkdtemp(prefix=f"{command}-", dir=ws.build_dir))
    try:
        yield out
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _run_stale(ws: Workspace, slugs: tuple[str, ...], jobs: int | None, force: bool,
               smoke: bool, use_warm: bool = True,
               ) -> tuple[list[run.Outcome], warm.Worker | None]:
    """Run what is stale (everything with --force; everything, into scratch, with --smoke).
    Returns the outcomes, and the warm worker if one was started for them."""
    projects = discover.discover(ws, list(slugs) or None)
    decisions = [plan.decide(ws, p) for p in projects]
    todo = [d for d in decisions if force or smoke or d.must_run]
    if todo:  # before anything starts: a run that cannot be kept must not begin
        discover.check_writable([ws.results_dir, *(ws.results_for(d.state.project.slug)
                                                   for d in todo)])
    worker = (_warm_worker(ws, discover.discover(ws) if slugs else projects)
              if todo and use_warm else None)
    reporter = Reporter()
    for decision in decisions:
        if decision not in todo:
            reporter.fresh(decision.state.project.slug)
    with reporter:
        # The rest of the inputs (mkdocs.yml, the pages) are checked while the first runs
        # start: a problem stops them at once and nothing is kept.
        outcomes = run.run_projects(ws, todo, jobs or os.cpu_count() or 1, smoke, reporter,
                                    worker, meanwhile=lambda: _validate(ws))
    if todo:
        reporter.summary(_peak_mb())
    if smoke:
        click.echo(f"smoke run: results in {ws.scratch_dir} (never published)", err=True)
    return outcomes, worker


def _warm_worker(ws: Workspace, projects: list[Project]) -> warm.Worker | None:
    """The worker preloads what every project imports (not only the stale ones), so the
    same worker serves the next rebuild whichever project is edited."""
    scripts = [p.folder / p.meta.script for p in projects]
    return warm.ensure(warm.preloads(scripts), ws.build_dir / "warm.log")


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextlib.contextmanager
def _exclusive(ws: Workspace) -> Iterator[None]:
    """One build at a time per repository. The lock is an flock on a file: the kernel drops
    it when its process dies, so a killed build never leaves a lock that blocks the next."""
    import fcntl

    discover.check_layout(ws)
    ws.build_dir.mkdir(parents=True, exist_ok=True)
    with (ws.build_dir / "build.lock").open("a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise BuildLocked(f"another portfolio build is running in {ws.root} "
                              f"(pid {holder}); wait for it to finish") from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        run.tidy(ws)  # what a build killed outright left half-done
        site.tidy(ws.site_dir)
        # A closed terminal (SIGHUP) and SIGTERM stop a build the way Ctrl-C does.
        previous = {sig: signal.signal(sig, _terminate) for sig in (signal.SIGTERM,
                                                                     signal.SIGHUP)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            fh.seek(0)
            fh.truncate()


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM and SIGHUP stop a build the way Ctrl-C does: children stopped, results
    untouched."""
    raise KeyboardInterrupt


def _fail_if_any(outcomes: list[run.Outcome]) -> None:
    failed = [o for o in outcomes if o.status != "ok"]
    if failed:
        raise ProjectsFailed("failed: " + ", ".join(f"{o.slug} ({o.status})" for o in failed))


jobs_option = click.option("-j", "--jobs", type=click.IntRange(min=1),
                           help="Projects to run at once (default: the number of cores).")
force_option = click.option("--force", is_flag=True, help="Re-run even fresh projects.")
smoke_option = click.option("--smoke", is_flag=True, envvar="PORTFOLIO_SMOKE",
                            help="Quick end-to-end check: 1 epoch, a few batches.")
warm_option = click.option("--warm/--no-warm", "use_warm", default=True, show_default=True,
                           help="Fork runs from a warm worker that has scikit-learn, pandas "
                                "and matplotlib imported (PORTFOLIO_WARM=0 also turns it off).")


@cli.command(name="run")
@click.argument("slugs", nargs=-1)
@root_option
@jobs_option
@force_option
@smoke_option
@warm_option
def run_command(slugs: tuple[str, ...], root: str | None, jobs: int | None, force: bool,
                smoke: bool, use_warm: bool) -> None:
    """Run the stale projects (or SLUGS) without building the site."""
    ws = _workspace(root)
    with _exclusive(ws):
        outcomes, _ = _run_stale(ws, slugs, jobs, force, smoke, use_warm)
    _fail_if_any(outcomes)


@cli.command()
@click.argument("slugs", nargs=-1)
@root_option
@jobs_option
@force_option
@smoke_option
@click.option("--keep-going", is_flag=True,
              help="Exit 0 even when a project failed (its page shows the failure).")
@click.option("--no-run", is_flag=True,
              help="Run nothing: build the site from results/ as they are (what CI does).")
@warm_option
def build(slugs: tuple[str, ...], root: str | None, jobs: int | None, force: bool, smoke: bool,
          keep_going: bool, no_run: bool, use_warm: bool = True) -> None:
    """Run the stale projects, then build the site into site/."""
    ws = _workspace(root)
    with _exclusive(ws):
        if no_run:
            _validate(ws)
        outcomes, worker = ([], None) if no_run else _run_stale(ws, slugs, jobs, force,
                                                                 smoke, use_warm)
        states = [plan.state_of(ws, p) for p in discover.discover(ws)]
        config, previews = render.render(ws, states, worker=worker)
        built = site.build_if_changed(config, ws.site_dir, [ws.templates_dir, ws.mkdocs_yml],
                                      then=lambda out: previews.finish(out, config.parent / "docs"))
    click.echo(f"site {'built' if built else 'unchanged'}: {ws.site_dir / 'index.html'}")
    if not keep_going:
        _fail_if_any(outcomes)


@cli.command()
@root_option
def status(root: str | None) -> None:
    """One row per project: fresh, stale (and why), failed or never run."""
    from rich.console import Console
    from rich.table import Table

    ws = _workspace(root)
    discover.check_layout(ws)
    table = Table(title_justify="left")
    for column in ("project", "state", "headline", "last run", "duration", "why"):
        table.add_column(column, overflow="fold")
    advice = []
    for project in discover.discover(ws):
        decision = plan.decide(ws, project)
        latest = decision.state.latest
        headline = decision.state.good.headline(project.meta) if decision.state.good else None
        table.add_row(
            project.slug, decision.label,
            headline.brief() if headline else "–",
            str(latest.run.get("started", "–")).replace("T", " ")[:16] if latest else "–",
            f"{latest.run['duration_s']:.1f} s" if latest and "duration_s" in latest.run else "–",
            ", ".join(decision.reasons) or "–")
        written = plan.outputs_to_handle(ws.root, project, latest.run.get("outputs", [])
                                         if latest else [])
        if written:
            folder = project.folder.relative_to(ws.root).as_posix() \
                if project.folder.is_relative_to(ws.root) else str(project.folder)
            advice.append(f"{folder}: wrote {', '.join(written)} (outputs of the run; add "
                          f"them to .gitignore or commit them)")
    console = Console(width=200 if not sys.stdout.isatty() else None)
    console.print(table)
    for line in advice:
        console.print(line, highlight=False, markup=False, soft_wrap=True)


@cli.command()
def stop() -> None:
    """Stop the warm workers (they also leave by themselves after 15 idle minutes)."""
    pids = warm.stop()
    click.echo(f"stopped {len(pids)} warm worker(s)" + (f": pid {', '.join(map(str, pids))}"
                                                         if pids else ""))


@cli.command()
@root_option
@click.option("--port", default=8000, show_default=True)
def serve(root: str | None, port: int) -> None:
    """Render from results/ and serve a live preview on 127.0.0.1."""
    ws = _workspace(root)
    discover.check_layout(ws)
    states = [plan.state_of(ws, p) for p in discover.discover(ws)]
    with _own_build_dir(ws, "serve") as out:  # beside a build, never in its way
        config, previews = render.render(ws, states, out=out)
        previews.finish(config.parent / "docs")
        site.serve(config, port=port)


@cli.command()
@root_option
@click.option("--no-build", is_flag=True, help="Publish site/ as it is, without building.")
@click.option("--remote", default="origin", show_default=True)
@click.option("--branch", default="gh-pages", show_default=True)
@click.option("--allow-stale", is_flag=True,
              help="Publish even when a project's results are stale or failed.")
@click.pass_context
def publish(ctx: click.Context, root: str | None, no_build: bool, remote: str, branch: str,
            allow_stale: bool) -> None:
    """Build, then push site/ to the gh-pages branch; print the URL to share."""
    from portfolio import publish as pub

    ws = _workspace(root)
    url = pub.remote_url(ws.root, remote)
    changed = pub.uncommitted(ws.root, ["projects", "results"])
    if changed:
        raise pub.PublishError(
            "uncommitted changes under projects/ or results/ (the published site would not "
            f"match the repository): {', '.join(changed[:5])}; commit them first")
    if not no_build:
        ctx.invoke(build, root=root, keep_going=False)
    if not allow_stale:
        decisions = [plan.decide(ws, p) for p in discover.discover(ws)]
        behind = [f"{d.state.project.slug} ({d.label})" for d in decisions if d.must_run]
        if behind:
            raise pub.PublishError(f"results are not up to date: {', '.join(behind)}; run "
                                   "`portfolio build`, or pass --allow-stale")
    for warning in pub.size_warnings(ws.site_dir):
        click.echo(f"warning: {warning}", err=True)
    commit = pub.publish(ws.root, ws.site_dir, remote, branch,
                         f"Publish the portfolio site from {_head(ws.root)}")
    where = pub.public_url(url, ws.root)
    click.echo(f"pushed {ws.site_dir.name}/ to {remote} {branch} ({commit[:10]})")
    click.echo(f"share: {where}" if where else
               f"the site is on branch {branch} of {pub.redact(url)}; serve it with your "
               "host's Pages")


def _head(root: Path) -> str:
    from portfolio.publish import git

    return git(root, "rev-parse", "--short", "HEAD", check=False) or "an unborn branch"


@cli.command(name="init-ci")
@root_option
@click.option("--force", is_flag=True, help="Overwrite an existing workflow.")
def init_ci(root: str | None, force: bool) -> None:
    """Write .github/workflows/publish.yml: GitHub Actions renders results/ and deploys."""
    from importlib import resources

    ws = _workspace(root)
    target = ws.root / ".github" / "workflows" / "publish.yml"
    if target.exists() and not force:
        raise click.UsageError(f"{target} exists: pass --force to overwrite it")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(resources.files("portfolio").joinpath("publish.yml").read_text())
    click.echo(f"wrote {target}: push to main, then enable Pages with source 'GitHub Actions'")


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except PortfolioError as exc:
        click.echo(f"error: {exc}" if "\n" not in str(exc) else str(exc), err=True)
        sys.exit(exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("interrupted: running projects were stopped; results/ is as it was, "
                   "except for projects that had finished", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    process.leave(EXIT_OK)  # skip the teardown of every module a build loaded
