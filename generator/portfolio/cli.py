"""The ``portfolio`` command: options in, exit codes out.

Each command parses its options and calls the pipeline (``portfolio.build`` holds the
order of the stages). Every :class:`PortfolioError` becomes a one-line (or one-per-problem)
message on stderr and its exit code; no traceback for user errors.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import click

from portfolio import (
    advice,
    discover,
    livepreview,
    metric_check,
    plan,
    preview,
    process,
    results,
    run,
    site,
    warm,
)
from portfolio import build as pipeline
from portfolio.domain import Project, Workspace
from portfolio.errors import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    BuildLocked,
    InputError,
    PortfolioError,
    ProjectsFailed,
    ResultsError,
    display,
)


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
    pipeline.validate(ws, projects)  # in a folder of its own: a build may be running
    _check_notebooks(projects)
    # Committed results are inputs too (a merge may break them); a fresh project's declared
    # metric must be one its run reported, as a build would find after running nothing.
    decisions = [plan.decide(ws, project) for project in projects]
    metric_check.check([d.state for d in decisions],
                       {d.state.project.slug for d in decisions if not d.must_run})
    click.echo(f"{len(projects)} project(s) OK: {', '.join(p.slug for p in projects) or 'none'}")
    for line in advice.for_portfolio(ws, [d.state for d in decisions]):
        click.echo(f"advice: {line}")


def _check_notebooks(projects: list[Project]) -> None:
    """A notebook script its run would refuse (not a notebook, a shell cell, a line no
    translation makes Python) is reported now, by file and cell, not when it runs."""
    from portfolio import notebook

    wrong = []
    for project in projects:
        if notebook.is_notebook(project.script):
            try:
                notebook.code_cells(project.script)
            except notebook.NotebookError as exc:
                why = str(exc).removeprefix(f"{project.script.name}: ")
                wrong.append(f"{display(project.script)}: {why}")
    if wrong:
        raise InputError("\n".join(wrong))


_LOCKED = False  # a command holding the build lock, which runs projects, has started


@contextlib.contextmanager
def _exclusive(ws: Workspace) -> Iterator[None]:
    """One build at a time per repository. The lock is an flock on a file: the kernel drops
    it when its process dies, so a killed build never leaves a lock that blocks the next."""
    import fcntl

    global _LOCKED
    discover.check_layout(ws)
    lock = ws.build_dir / "build.lock"
    try:
        ws.build_dir.mkdir(parents=True, exist_ok=True)
        fh = lock.open("a+")
    except OSError as exc:  # a full disk, a read-only checkout
        raise _unwritable(lock, exc) from None
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise BuildLocked(f"another portfolio build is running in {ws.root} "
                              f"(pid {holder}); wait for it to finish") from None
        fh.seek(0)
        fh.truncate()
        try:  # unbuffered: a write that fails leaves nothing for close() to fail on again
            os.write(fh.fileno(), str(os.getpid()).encode())
        except OSError as exc:
            raise _unwritable(lock, exc) from None
        _LOCKED = True
        results.tidy(ws)  # what a build killed outright left half-done
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


def _unwritable(path: Path, exc: OSError) -> ResultsError:
    return ResultsError(f"{display(path)}: cannot write the build lock "
                        f"({exc.strerror or exc}); {_room(exc)}")


def _room(exc: OSError) -> str:
    """What to do about a file that cannot be written: room, or permission."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "free some room on that disk and try again"
    return "make the folder writable and try again"


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM and SIGHUP stop a build the way Ctrl-C does: children stopped, results
    untouched."""
    raise KeyboardInterrupt


def _fail_if_any(outcomes: list[run.Outcome]) -> None:
    """Exit 1 when a run did not end ok, each named with its summary (where in the script,
    the log, what to try: ``portfolio.failures``): the last thing the build says."""
    failed = [o for o in outcomes if o.status != "ok"]
    if not failed:
        return
    said = [f"{o.slug} ({o.status}): {o.summary or o.error or o.status}" for o in failed]
    count = f"{len(failed)} project{'s' * (len(failed) > 1)} failed"
    if len(said) == 1:
        raise ProjectsFailed(f"{count}: {said[0]}")
    raise ProjectsFailed(f"error: {count}:\n" + "\n".join(f"  {line}" for line in said))


jobs_option = click.option("-j", "--jobs", type=click.IntRange(min=1),
                           help="Projects to run at once here (default: the number of cores; on a "
                                "Dask cluster, the workers' threads decide).")
force_option = click.option("--force", is_flag=True, help="Re-run even fresh projects.")
smoke_option = click.option("--smoke", is_flag=True, envvar="PORTFOLIO_SMOKE",
                            help="Quick end-to-end check: 1 epoch, a few batches.")
warm_option = click.option("--warm/--no-warm", "use_warm", default=True, show_default=True,
                           help="Fork runs from a warm worker that has scikit-learn, pandas "
                                "and matplotlib imported (PORTFOLIO_WARM=0 also turns it off).")
executor_option = click.option(
    "--executor", type=click.Choice(["local", "dask"]),
    help="Where projects run: here (local, the default), or on a Dask cluster (dask; "
         "also executor: under extra.portfolio in mkdocs.yml).")
engine_option = click.option(
    "--engine", type=click.Choice(["mkdocs", "zensical"]),
    help="The site engine: MkDocs + Material (the default) or Zensical (pip install "
         "'portfolio[zensical]'; also engine: under extra.portfolio in mkdocs.yml).")
scheduler_option = click.option(
    "--scheduler", metavar="tcp://HOST:PORT", envvar="PORTFOLIO_SCHEDULER",
    help="The Dask scheduler for --executor dask (also PORTFOLIO_SCHEDULER, or scheduler: "
         "under extra.portfolio in mkdocs.yml).")


@cli.command(name="run")
@click.argument("slugs", nargs=-1)
@root_option
@jobs_option
@force_option
@smoke_option
@warm_option
@executor_option
@scheduler_option
def run_command(slugs: tuple[str, ...], root: str | None, jobs: int | None, force: bool,
                smoke: bool, use_warm: bool, executor: str | None,
                scheduler: str | None) -> None:
    """Run the stale projects (or SLUGS) without building the site."""
    ws = _workspace(root)
    options = pipeline.Options(slugs, jobs, force, smoke, run=True, warm=use_warm,
                               executor=executor, scheduler=scheduler)
    with _exclusive(ws):
        outcomes = pipeline.run_only(ws, options)
    _smoke_note(ws, smoke)
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
@click.option("--require-fresh", is_flag=True,
              help="Exit 1, naming each one, when a project is stale, never run or failed "
                   "once the site is built (with --no-run, what CI does: judged by the "
                   "committed files, not by this machine's library versions).")
@warm_option
@executor_option
@scheduler_option
@engine_option
def build(slugs: tuple[str, ...], root: str | None, jobs: int | None, force: bool, smoke: bool,
          keep_going: bool, no_run: bool, require_fresh: bool = False,
          use_warm: bool = True, executor: str | None = None,
          scheduler: str | None = None, engine: str | None = None,
          next_steps: bool = True) -> None:
    """Run the stale projects, then build the site into site/.

    Exit status: 0 ok; 1 a project failed, or with --require-fresh is not fresh (the site
    is still built); 2 bad input; 3 the site did not build."""
    started = time.monotonic()
    ws = _workspace(root)
    options = pipeline.Options(slugs, jobs, force, smoke, run=not no_run, warm=use_warm,
                               executor=executor, scheduler=scheduler, engine=engine)
    with _exclusive(ws):
        report = pipeline.build(ws, options)
        behind = pipeline.not_fresh(ws, versions=not no_run) if require_fresh else []
    _smoke_note(ws, smoke)
    from portfolio import nextsteps

    ended = nextsteps.after_build(ws, report.site_built, time.monotonic() - started)
    failed = not keep_going and any(o.status != "ok" for o in report.outcomes)
    # A failed or stale project is what to act on first (the error, said last): the next
    # steps wait for a build that has none. Publish says its own.
    click.echo("\n".join(ended if next_steps and not (behind or failed) else ended[:1]))
    if behind:
        raise ProjectsFailed(
            "--require-fresh: the results of these projects do not match their inputs: "
            f"{'; '.join(behind)}. Run `portfolio build` where the projects can train, "
            "commit results/, and build again")
    if not keep_going:
        _fail_if_any(report.outcomes)


def _smoke_note(ws: Workspace, smoke: bool) -> None:
    if smoke:
        click.echo(f"smoke run: results in {results.scratch_dir(ws)} (never published)", err=True)


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
            project.slug, decision.staleness,
            headline.brief() if headline else "–",
            (latest.run.started or "–").replace("T", " ")[:16] if latest else "–",
            f"{latest.run.duration_s:.1f} s" if latest and latest.run.duration_s is not None
            else "–",
            ", ".join(decision.reasons) or "–")
        written = plan.outputs_to_handle(ws.root, project, latest.run.outputs
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


@cli.group()
def export() -> None:
    """Export the recorded runs to the tools you already use."""


@export.command(name="mlflow")
@click.argument("slugs", nargs=-1)
@root_option
@click.option("--tracking-uri", metavar="URI",
              help="The MLflow tracking store: sqlite:///mlflow.db, http://host:5000 ... "
                   "(default: MLFLOW_TRACKING_URI, else MLflow's own default).")
def export_mlflow(slugs: tuple[str, ...], root: str | None, tracking_uri: str | None) -> None:
    """Replay each project's recorded run (or SLUGS') into MLflow: params, metrics with
    their per-epoch history, tags and artifacts. Exporting again updates the same runs."""
    from portfolio import mlflowexport

    ws = _workspace(root)
    exported = mlflowexport.export(ws, list(slugs), tracking_uri)
    for item in exported:
        if item.restored:
            click.echo(f"{item.slug}: its experiment {mlflowexport.EXPERIMENT_PREFIX}"
                       f"{item.slug} had been deleted in MLflow and was restored (to start "
                       "it afresh, delete it and run `mlflow gc` before exporting)")
        click.echo(f"{item.slug}: {'created' if item.created else 'updated'} MLflow run "
                   f"{item.run_id} ({item.metrics} metric values logged)")
    if not exported:
        click.echo("nothing to export: no project has a successful run in results/")


@cli.command()
@root_option
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address to listen on (0.0.0.0 shows the preview to your network).")
def serve(root: str | None, port: int, host: str) -> None:
    """Render from results/ and serve a live preview that follows your edits (it never
    trains: a changed script marks its project stale until `portfolio build`)."""
    ws = _workspace(root)
    discover.check_layout(ws)
    livepreview.check_port(host, port)  # before the render it would waste
    with _preview_folder(ws) as out:
        before = livepreview.snapshot(ws)
        rendered = livepreview.render_preview(ws, out)
        pipeline.finish_previews(preview.start(rendered.previews, ws.build_dir / "previews"),
                                 rendered.docs)
        livepreview.serve(ws, out, rendered, host, port, since=before)


@contextlib.contextmanager
def _preview_folder(ws: Workspace) -> Iterator[Path]:
    """The preview's own folder in .build/ (beside a build, never in its way), until it is
    stopped. Ctrl-C is how a preview ends, not an error: exit 0, whenever it comes; a
    closed terminal (SIGHUP) and SIGTERM stop it the same way, so the folder is removed
    then too. Once stopping, a second Ctrl-C cannot cut that removal short."""
    stops = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {sig: signal.getsignal(sig) for sig in stops}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _terminate)
    try:
        with pipeline.private_build_dir(ws, "serve") as out:
            try:
                yield out
            except KeyboardInterrupt:
                pass
            finally:
                for sig in stops:
                    signal.signal(sig, signal.SIG_IGN)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@cli.command()
@root_option
@click.option("--no-build", is_flag=True, help="Publish site/ as it is, without building.")
@click.option("--remote", default="origin", show_default=True)
@click.option("--branch", default="gh-pages", show_default=True)
@click.option("--allow-stale", is_flag=True,
              help="Train nothing: publish the committed results as they are, even when a "
                   "project is stale or failed (the build is --no-run). Uncommitted changes "
                   "are refused all the same.")
@click.pass_context
def publish(ctx: click.Context, root: str | None, no_build: bool, remote: str, branch: str,
            allow_stale: bool) -> None:
    """Build, then push site/ to the gh-pages branch; print the URL to share.

    The pushed site always matches a commit: publish refuses (exit 2) when the files the
    site is built from have uncommitted changes, before the build and after it (a build
    that trained leaves new results/ to commit)."""
    from portfolio import publish as pub

    ws = _workspace(root)
    url = pub.remote_url(ws.root, remote)
    pub.custom_domain(ws.root)  # a CNAME GitHub cannot use is refused before the build
    _refuse_uncommitted(ws, "")
    if not no_build:
        ctx.invoke(build, root=root, keep_going=False, no_run=allow_stale, next_steps=False)
        _refuse_uncommitted(ws, "the build changed them (a project ran); ")
    elif (ws.site_dir / "index.html").is_file() and not pipeline.site_is_current(ws):
        raise pub.PublishError(f"{ws.site_dir} was not built from the files as they are now "
                               "(they changed since, or the build did not finish): run "
                               "`portfolio build`, or publish without --no-build")
    if not allow_stale:
        behind = pipeline.not_fresh(ws)
        if behind:
            raise pub.PublishError(f"results are not up to date: {'; '.join(behind)}; run "
                                   "`portfolio build` and commit results/, or pass "
                                   "--allow-stale to publish the committed results")
    for warning in pub.size_warnings(ws.site_dir):
        click.echo(f"warning: {warning}", err=True)
    pushed = pub.publish(ws.root, ws.site_dir, remote, branch,
                         f"Publish the portfolio site from {_head(ws.root)}")
    click.echo(f"pushed {ws.site_dir.name}/ to {pub.redact(remote)} {branch} "
               f"({pushed.commit[:10]})")
    for line in pub.next_steps(ws.root, ws.mkdocs_yml, url, branch, pushed.created):
        click.echo(line)


def _refuse_uncommitted(ws: Workspace, why: str) -> None:
    """The published site must match a commit: nothing it is built from may differ from
    HEAD (publish.SITE_INPUTS)."""
    from portfolio import publish as pub

    changed = pub.uncommitted(ws.root, pub.site_inputs(ws.root, ws.mkdocs_yml))
    if changed:
        shown = ", ".join(changed[:8]) + (f" and {len(changed) - 8} more"
                                          if len(changed) > 8 else "")
        raise pub.PublishError(
            f"uncommitted changes in what the site is built from ({why}the published site "
            f"would not match a commit): {shown}. Commit them (git add "
            f"{' '.join(sorted({c.split('/')[0] for c in changed}))} && git commit), then "
            "publish again")


def _head(root: Path) -> str:
    from portfolio.publish import git

    return git(root, "rev-parse", "--short", "HEAD", check=False) or "an unborn branch"


@cli.command(name="init")
@click.argument("folder", default=".", type=click.Path(file_okay=False))
@click.option("--name", help="Your name, for the site's title and your profile "
              "(default: asked when run in a terminal).")
@click.option("--force", is_flag=True, help="Overwrite the files that exist.")
def init_command(folder: str, name: str | None, force: bool) -> None:
    """Start a portfolio repository in FOLDER (default: here): mkdocs.yml, projects/,
    results/, .gitignore, the publish workflow, a README; git init if needed."""
    from portfolio import scaffold

    if name is None and sys.stdin.isatty():  # a pipe or a script never waits for an answer
        name = click.prompt("Your name, as the site shows it (Enter: fill it in later)",
                            default="", show_default=False)
    owner = scaffold.owner_name(name)
    target = Path(folder).resolve()
    written, git_ran, install = scaffold.init(target, force, owner)
    click.echo(f"wrote {', '.join(written)} in {target}" + (" (git init)" if git_ran else ""))
    if install is not None:
        click.echo(f"the workflow installs portfolio from {install.describe()}")
    where = "" if target == Path.cwd() else f"cd {folder}\n  "
    profile = "your profile" if owner else "your name and profile"
    click.echo(f"next: fill in {profile} under extra.portfolio in mkdocs.yml, then\n  "
               f"{where}portfolio new first --template mlp\n  portfolio build\n  "
               "portfolio serve     # the site at http://127.0.0.1:8000")


@cli.command()
@click.argument("slug", required=False)
@click.option("-t", "--template", default="mlp", show_default=True,
              help="The template to start from (see --list).")
@click.option("--title", help="The project's title (default: the template's).")
@click.option("--list", "list_templates", is_flag=True, help="List the templates and exit.")
@root_option
def new(slug: str | None, template: str, title: str | None, list_templates: bool,
        root: str | None) -> None:
    """Start projects/SLUG/ from a template: project.yaml and a runnable train.py."""
    from portfolio import new as templates

    if list_templates:
        for name, found in templates.templates().items():
            click.echo(f"{name:<12} {found.summary}")
        return
    if not slug:
        raise click.UsageError("give the new project's SLUG (or --list to see the templates)")
    ws = _workspace(root)
    discover.check_layout(ws)
    folder, chosen = templates.create(ws, slug, template, title)
    click.echo(f"wrote {folder}/project.yaml and train.py from template '{template}', "
               f"titled '{chosen}': edit them, then run `portfolio build`")


@cli.command(name="init-ci")
@root_option
@click.option("--force", is_flag=True, help="Overwrite an existing workflow.")
def init_ci(root: str | None, force: bool) -> None:
    """Write .github/workflows/publish.yml: GitHub Actions renders results/ and deploys."""
    from portfolio import scaffold

    ws = _workspace(root)
    written, install = scaffold.init_ci(ws.root, force)
    click.echo(f"wrote {', '.join(written)} in {ws.root}: on GitHub, set Settings → Pages → "
               "Source to 'GitHub Actions' first, then commit them and push to main")
    if install is not None:
        click.echo(f"the workflow installs portfolio from {install.describe()}")


def run_command_line(args: list[str] | None = None) -> int:
    """The command with ``args`` (default: ``sys.argv``): its exit status, every error of
    the user's turned into its message on stderr. ``main`` exits with it; tests call it in
    their own process (click's CliRunner) for commands that start no child."""
    try:
        cli.main(args, standalone_mode=False)
    except PortfolioError as exc:
        click.echo(f"error: {exc}" if "\n" not in str(exc) else str(exc), err=True)
        return exc.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt):
        # What was stopped is worth saying only when projects could have been running.
        click.echo("interrupted: running projects were stopped; results/ is as it was, "
                   "except for projects that had finished" if _LOCKED else "interrupted",
                   err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return 2
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise  # anything else is a bug in portfolio, with its traceback
        # A full disk outside a run (a run's own is in its record): one line, where.
        where = f"{display(Path(exc.filename))}: " if exc.filename else ""
        click.echo(f"error: {where}{exc.strerror}; {_room(exc)}", err=True)
        return EXIT_BAD_INPUT
    return EXIT_OK


def main() -> None:
    status = run_command_line()
    if status != EXIT_OK:
        sys.exit(status)
    process.leave(EXIT_OK)  # skip the teardown of every module a build loaded
