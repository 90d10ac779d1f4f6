"""Issue 25, the commands around a build: ``export mlflow`` resumes and says what is wrong in
one line (a server that is down, a deleted experiment, a password it must not repeat);
``publish`` keeps a token to itself and refuses a CNAME that is not one domain; ``new`` and
``init`` take any title or folder; a full disk outside a run, a directory where the warm
worker's socket goes, a symlinked project and Zensical's refusal each get one line or an
honest page, never a traceback."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Built, copy_portfolio, portfolio_cli

# --- export mlflow ----------------------------------------------------------------------


@pytest.fixture
def exported_root(built_tiny: Built, tmp_path: Path) -> Path:
    """A copy of the built tiny portfolio (its tutorial project trained 2 epochs)."""
    pytest.importorskip("mlflow")
    root = tmp_path / "tiny"
    shutil.copytree(built_tiny.root, root)
    return root


def _tutorial_tags(root: Path) -> dict[str, str]:
    import json

    record = json.loads((root / "results" / "tutorial" / "run.json").read_text())
    return {"portfolio.input_hash": record["input_hash"], "portfolio.started": record["started"],
            "portfolio.slug": "tutorial"}


def _epochs(root: Path) -> int:
    import csv

    with (root / "results" / "tutorial" / "history.csv").open() as fh:
        return len(list(csv.DictReader(fh)))


@pytest.mark.training
def test_an_export_stopped_halfway_is_completed_by_the_next(exported_root: Path,
                                                            tmp_path: Path) -> None:
    """What an export stopped between two batches leaves: the run, tagged as it was made,
    with the first epoch of `loss` only. The next export adds the other epochs."""
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    experiment = client.create_experiment(  # its artifacts in tmp, not in the cwd
        "portfolio/tutorial", artifact_location=(tmp_path / "artifacts").as_uri())
    run = client.create_run(experiment, tags=_tutorial_tags(exported_root))
    client.log_batch(run.info.run_id, metrics=[Metric("loss", 0.5, 0, 1)])
    epochs = _epochs(exported_root)
    assert epochs >= 2  # else there is nothing left to complete

    result = portfolio_cli("export", "mlflow", "--tracking-uri", uri, "tutorial",
                           cwd=exported_root)
    assert result.returncode == 0, result.stderr
    assert f"updated MLflow run {run.info.run_id}" in result.stdout
    assert "(0 metric values logged)" not in result.stdout
    for key in ("loss", "val_loss"):
        steps = sorted(m.step for m in client.get_metric_history(run.info.run_id, key))
        assert steps == list(range(1, epochs + 1)), key  # each epoch once, none twice


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections: bound, never listening, so nothing
    else takes it while the test runs."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield holder.getsockname()[1]


@pytest.mark.training
def test_a_tracking_server_that_is_down_is_one_line_at_once(exported_root: Path,
                                                            closed_port: int) -> None:
    uri = f"http://exporter:hunter2secret@127.0.0.1:{closed_port}"
    result = portfolio_cli("export", "mlflow", "--tracking-uri", uri, cwd=exported_root,
                           timeout=580)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"127.0.0.1:{closed_port} cannot be reached" in lines[0]
    assert "hunter2secret" not in result.stderr + result.stdout


@pytest.mark.training
def test_a_password_in_the_tracking_uri_is_never_repeated(exported_root: Path,
                                                          closed_port: int) -> None:
    """A store MLflow cannot open, named by a URI with a password: the error says where,
    without the password."""
    uri = f"mysql://exporter:hunter2secret@127.0.0.1:{closed_port}/runs"
    result = portfolio_cli("export", "mlflow", "--tracking-uri", uri, cwd=exported_root)
    assert result.returncode == 2, result.stderr
    assert "the export to mysql://***@127.0.0.1" in result.stderr
    assert "hunter2secret" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.training
def test_an_experiment_deleted_in_mlflow_does_not_block_the_export(exported_root: Path,
                                                                   tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    first = portfolio_cli("export", "mlflow", "--tracking-uri", uri, cwd=exported_root)
    assert first.returncode == 0, first.stderr
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("portfolio/tutorial")
    client.delete_experiment(experiment.experiment_id)  # what the UI's delete button does

    again = portfolio_cli("export", "mlflow", "--tracking-uri", uri, cwd=exported_root)
    assert again.returncode == 0, again.stderr
    assert "portfolio/tutorial had been deleted in MLflow and was restored" in again.stdout
    back = client.get_experiment_by_name("portfolio/tutorial")
    assert back.lifecycle_stage == "active"
    [run] = client.search_runs([back.experiment_id])
    assert run.info.status == "FINISHED"
    assert len(client.get_metric_history(run.info.run_id, "loss")) == _epochs(exported_root)


@pytest.mark.cli
def test_init_ignores_mlflows_local_stores(tmp_path: Path) -> None:
    """The README says `git add -A`: MLflow's default stores must not be committed."""
    folder = tmp_path / "mine"
    result = portfolio_cli("init", str(folder), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (folder / "mlflow.db").write_text("")
    (folder / "mlruns" / "0").mkdir(parents=True)
    (folder / "mlruns" / "0" / "meta.yaml").write_text("")
    ignored = subprocess.run(["git", "check-ignore", "mlflow.db", "mlruns/0/meta.yaml"],
                             cwd=folder, capture_output=True, text=True, check=False)
    assert ignored.stdout.split() == ["mlflow.db", "mlruns/0/meta.yaml"], ignored.stderr


# --- publish ------------------------------------------------------------------------------

GIT_ENV = {"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
           "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com"}


def git(cwd: Path, *args: str) -> str:
    import os

    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}).stdout.strip()


@pytest.fixture(scope="module")
def committed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny portfolio with its one quick project (no Keras) built and committed."""
    root = copy_portfolio("tiny", tmp_path_factory.mktemp("committed") / "tiny")
    for slug in ("failing", "tutorial"):
        shutil.rmtree(root / "projects" / slug)
    (root / ".gitignore").write_text(".build/\nsite/\n")
    built = portfolio_cli("build", cwd=root)
    assert built.returncode == 0, built.stderr
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "portfolio")
    return root


@pytest.fixture
def repo(committed: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of ``committed`` whose origin is a bare repository of the test's own."""
    root = tmp_path / "tiny"
    shutil.copytree(committed, root, symlinks=True)
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "--bare", "-q", str(bare))
    git(root, "remote", "add", "origin", str(bare))
    return root, bare


@pytest.mark.cli
def test_a_token_in_a_remote_url_is_never_printed(repo: tuple[Path, Path],
                                                  closed_port: int) -> None:
    """`--remote` given as a URL (git push takes one) with a token in it: the push to a
    server that refuses fails in one line, and neither it nor anything else shows the
    token."""
    root, _ = repo
    url = f"https://x-access-token:ghp_hunter2secret@127.0.0.1:{closed_port}/owner/site.git"
    result = portfolio_cli("publish", "--remote", url, cwd=root)
    assert result.returncode == 2, result.stderr
    assert "ghp_hunter2secret" not in result.stderr + result.stdout
    assert "error: git push" in result.stderr  # it got as far as the push, which failed
    assert "Traceback" not in result.stderr


@pytest.mark.cli
def test_a_cname_of_two_lines_is_refused_before_anything_is_pushed(
        repo: tuple[Path, Path]) -> None:
    root, bare = repo
    (root / "CNAME").write_text("portfolio.example.com\nwww.example.com\n")
    git(root, "add", "CNAME")
    git(root, "commit", "-q", "-m", "domain")
    result = portfolio_cli("publish", cwd=root)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: CNAME:2: a second domain ('www.example.com'): GitHub Pages serves a site at "
        "one domain; keep one line"]
    assert "share:" not in result.stdout
    assert git(bare, "branch", "--list") == ""  # nothing pushed


@pytest.mark.cli
def test_a_cname_of_one_domain_is_pushed_and_shared(repo: tuple[Path, Path]) -> None:
    root, bare = repo
    (root / "CNAME").write_text("\n  Portfolio.Example.com  \n\n")
    git(root, "add", "CNAME")
    git(root, "commit", "-q", "-m", "domain")
    result = portfolio_cli("publish", cwd=root)
    assert result.returncode == 0, result.stderr
    assert "share: https://portfolio.example.com/" in result.stdout
    assert git(bare, "show", "gh-pages:CNAME") == "portfolio.example.com"


# --- new and init -------------------------------------------------------------------------


@pytest.mark.cli
@pytest.mark.parametrize("title", [r"C:\temp\new", r"\1 and \g<0>: kept as typed"])
def test_new_takes_a_title_with_backslashes_as_typed(tmp_path: Path, title: str) -> None:
    root = copy_portfolio("tiny", tmp_path / "tiny")
    result = portfolio_cli("new", "first", "--title", title, cwd=root)
    assert result.returncode == 0, result.stderr
    import yaml

    meta = yaml.safe_load((root / "projects" / "first" / "project.yaml").read_text())
    assert meta["title"] == title
    checked = portfolio_cli("check", cwd=root)
    assert checked.returncode == 0, checked.stderr


@pytest.mark.cli
def test_new_when_projects_is_a_file_is_one_line(tmp_path: Path) -> None:
    root = copy_portfolio("tiny", tmp_path / "tiny")
    shutil.rmtree(root / "projects")
    (root / "projects").write_text("not a folder")
    result = portfolio_cli("new", "first", cwd=root)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: projects: is a file, but portfolio keeps the projects in a folder of that "
        "name; move or delete the file"]
    assert (root / "projects").read_text() == "not a folder"


@pytest.mark.cli
def test_init_where_it_cannot_write_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("in the way")
    result = portfolio_cli("init", "a-file/portfolio", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: a-file/portfolio: cannot write the new portfolio there (Not a directory); "
        "give a folder you can write"]
    assert (tmp_path / "a-file").read_text() == "in the way"


# --- a full disk outside a run ------------------------------------------------------------


def _no_space(path: object) -> OSError:
    import errno
    import os

    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))


def _main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
          *args: str) -> tuple[int, str]:
    """``portfolio ARGS`` in this process (so that a fault can be patched in): its exit
    code and what it wrote on stderr."""
    import sys

    from portfolio import cli, process

    monkeypatch.setattr(sys, "argv", ["portfolio", *args])
    monkeypatch.setattr(process, "leave", sys.exit)  # never os._exit the test's process
    with pytest.raises(SystemExit) as stopped:
        cli.main()
    return int(stopped.value.code or 0), capsys.readouterr().err


@pytest.mark.training
def test_a_full_disk_while_the_site_is_built_says_how_much_room_it_needs(
        built_tiny: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import mkdocs.utils

    root = tmp_path / "tiny"
    shutil.copytree(built_tiny.root, root)
    before = (root / "site" / "index.html").read_text()
    yml = root / "mkdocs.yml"  # a new bio: the site must be built again
    yml.write_text(yml.read_text().replace("A portfolio built by", "A portfolio made by"))

    def full(content: bytes, output_path: str) -> None:
        raise _no_space(output_path)

    monkeypatch.setattr(mkdocs.utils, "write_file", full)
    code, err = _main(monkeypatch, capsys, "build", "--no-run", "--root", str(root))
    assert code == 2, err
    [line] = err.strip().splitlines()
    assert "No space left on device: the site is built beside the old one and needs about" \
        in line
    assert " MB free on that disk" in line and "is kept as it was" in line
    assert (root / "site" / "index.html").read_text() == before  # nothing lost
    assert not list(root.glob(".site-new-*"))  # the half-built site is not left to fill it


def test_a_full_disk_at_the_build_lock_is_one_line(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    root = copy_portfolio("tiny", tmp_path / "tiny")
    real = Path.mkdir

    def mkdir(self: Path, *args: object, **kwargs: object) -> None:
        if self.name == ".build":  # a fresh checkout on a full disk
            raise _no_space(self)
        real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    code, err = _main(monkeypatch, capsys, "build", "--no-run", "--root", str(root))
    assert code == 2, err
    assert err.strip().splitlines() == [
        f"error: {root / '.build' / 'build.lock'}: cannot write the build lock (No space "
        "left on device); free some room on that disk and try again"]


# --- the warm worker, a symlinked project, Zensical ----------------------------------------


def test_a_folder_at_the_warm_workers_socket_means_no_worker(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from portfolio import warm

    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("PORTFOLIO_RUNTIME_DIR", str(runtime))
    monkeypatch.setenv("PORTFOLIO_WARM", "1")
    preload = ["json"]
    squatter = runtime / f"warm-{warm.fingerprint(preload)}.sock"
    (squatter / "kept").mkdir(parents=True)
    assert warm.ensure(preload, tmp_path / ".build") is None  # runs use fresh interpreters
    assert f"warning: {squatter} is not a socket" in capsys.readouterr().err
    assert (squatter / "kept").is_dir()  # not ours to delete


@pytest.mark.cli
def test_a_project_folder_symlinked_from_outside_is_refused_where_it_is(tmp_path: Path) -> None:
    """Its script could not be published (a dead link on its page) and git would keep only
    the link."""
    root = copy_portfolio("tiny", tmp_path / "tiny")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.move(root / "projects" / "no-keras", elsewhere / "no-keras")
    (root / "projects" / "no-keras").symlink_to(elsewhere / "no-keras")
    result = portfolio_cli("check", cwd=root)
    assert result.returncode == 2, result.stderr
    [line] = [x for x in result.stderr.splitlines() if "no-keras" in x]
    assert line.endswith(f"projects/no-keras/project.yaml:1:1: the project folder is a "
                         f"symlink to {elsewhere / 'no-keras'}, outside the repository: the "
                         "site publishes nothing from outside it and git keeps only the "
                         "link; move the folder into projects/")


@pytest.mark.cli
def test_zensicals_refusal_is_its_message_where_it_is(tmp_path: Path) -> None:
    pytest.importorskip("zensical")
    root = copy_portfolio("tiny", tmp_path / "tiny")
    for slug in ("failing", "tutorial"):
        shutil.rmtree(root / "projects" / slug)
    (root / "site_templates" / "overrides" / "main.html").write_text(
        '{% extends "base.html" %}\n{% block content %}{{ page.title( }}{% endblock %}\n')
    result = portfolio_cli("build", "--no-run", "--engine", "zensical", cwd=root)
    assert result.returncode == 3, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "error: the site did not build with Zensical: site_templates/overrides/main.html:2: "
        "syntax error: unexpected `}`")
    assert 'File "' not in result.stderr
