"""Issue 25, second pass of hardening: odd inputs to the Dask executor, the child's
environment, symlinked data, notebooks and the parcel each get one located line (exit 2)
or an honest result, never a hang or a traceback."""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import FIXTURES, REPO, make_project, portfolio_cli

PLAIN = "print('hello')\n"


def _portfolio_with(tmp_path: Path, slug: str = "plain", script: str = PLAIN,
                    extra: str = "") -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copyfile(FIXTURES / "tiny" / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(REPO / "site_templates", root / "site_templates")
    make_project(root, slug, script, extra)
    return root


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    return lines[0]


# -- 4: a --scheduler address that is not a Dask scheduler --------------------------------
@contextlib.contextmanager
def _silent_server() -> Iterator[str]:
    """A TCP server on 127.0.0.1 that accepts connections and never says a word."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                held.append(server.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        server.close()
        for conn in held:
            conn.close()


@contextlib.contextmanager
def _web_server() -> Iterator[str]:
    """A plain HTTP server on 127.0.0.1 (what a scheduler's dashboard port is)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             http.server.BaseHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"tcp://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.cli
@pytest.mark.parametrize("server", [_silent_server, _web_server], ids=["silent", "http"])
def test_a_scheduler_address_that_is_not_dask_is_one_line(tmp_path: Path, server) -> None:
    pytest.importorskip("distributed")
    root = _portfolio_with(tmp_path)
    with server() as address:
        # Generous: the build gives up by itself in seconds; this only keeps a hang from
        # hanging the suite.
        result = portfolio_cli("build", "--executor", "dask", "--scheduler", address,
                               cwd=root, timeout=120)
    assert result.returncode == 2, result.stderr
    line = _one_line(result.stderr)
    assert "cannot reach the Dask scheduler at" in line and address in line, line
    assert not (root / "results").exists()


@pytest.mark.cli
def test_a_malformed_scheduler_address_is_one_line(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    root = _portfolio_with(tmp_path)
    result = portfolio_cli("build", "--executor", "dask", "--scheduler",
                           "tcp://127.0.0.1:notaport", cwd=root, timeout=120)
    assert result.returncode == 2, result.stderr
    line = _one_line(result.stderr)
    assert "tcp://127.0.0.1:notaport" in line, line


# -- 5: the child's environment -------------------------------------------------------------
SECRETS = {
    "TF_VAR_db_password": "tf-secret", "TF_VAR_region": "eu-west-1",
    "PYTHON_DB_PASS": "pass-secret", "KERAS_ADMIN_PWD": "pwd-secret",
    "PORTFOLIO_SENTRY_DSN": "dsn-secret", "CUDA_DB_CONN": "conn-secret",
    "PYTHONSTARTUP_URL": "postgres://me:url-secret@db.internal/x",
    "KERAS_CACHE": "redis://:redis-secret@cache.internal:6379/0",
    "PORTFOLIO_MIRROR": "https://ops:mirror-secret@mirror.internal/simple",
}
NETWORK = {
    "HTTPS_PROXY": "http://me:proxy-secret@proxy.internal:3128",
    "HTTP_PROXY": "http://proxy.internal:3128", "NO_PROXY": "localhost,127.0.0.1",
    "https_proxy": "http://me:proxy-secret@proxy.internal:3128",
    "REQUESTS_CA_BUNDLE": "/etc/ssl/corporate.pem",
}
HARMLESS = {"KERAS_HOME": "/tmp/keras", "PORTFOLIO_URL": "http://host.internal:8080/x",
            "KERAS_PASSTHROUGH": "1"}


def test_secret_names_and_urls_with_passwords_stay_out_and_the_proxy_passes() -> None:
    from portfolio import childenv

    env = childenv.child_environment(source={**SECRETS, **NETWORK, **HARMLESS})
    assert not set(SECRETS) & set(env), sorted(set(SECRETS) & set(env))
    assert {k: env.get(k) for k in NETWORK} == NETWORK
    assert {k: env.get(k) for k in HARMLESS} == HARMLESS
    # A name the project asks for under env: is its owner's choice, whatever it holds.
    assert childenv.child_environment(["PYTHON_DB_PASS"], source=SECRETS) == {
        "PYTHON_DB_PASS": "pass-secret"}


# The proxy's value compared by digest: its password is in no file of the test's.
WHAT_IT_SEES = """\
import hashlib, os
print("seen:", sorted(name for name in {names!r} if name in os.environ))
print("proxy as set:",
      hashlib.sha256(os.environ.get("HTTPS_PROXY", "").encode()).hexdigest() == {digest!r})
"""


@pytest.mark.cli
def test_a_run_sees_the_proxy_but_no_secret(tmp_path: Path) -> None:
    names = sorted({*SECRETS, *NETWORK})
    digest = hashlib.sha256(NETWORK["HTTPS_PROXY"].encode()).hexdigest()
    root = _portfolio_with(tmp_path, script=WHAT_IT_SEES.format(names=names, digest=digest))
    env = {**os.environ, **SECRETS, **NETWORK}
    result = subprocess.run([sys.executable, "-m", "portfolio", "build", "--no-warm"],
                            cwd=root, env=env, capture_output=True, text=True, timeout=600,
                            check=False)
    assert result.returncode == 0, result.stderr
    log = (root / "results" / "plain" / "log.txt").read_text()
    assert f"seen: {sorted(NETWORK)}" in log, log
    assert "proxy as set: True" in log, log
    # The proxy's password reached the run, and nothing of portfolio's printed it.
    printed = result.stdout + result.stderr + "".join(
        p.read_text(errors="replace") for p in (root / "results").rglob("*") if p.is_file())
    assert "proxy-secret" not in printed


# -- 6: a symlinked data folder ----------------------------------------------------------------
READS_DATA = "print('rows:', open('data/rows.csv').read().count('\\n'))\n"


def _linked_data(tmp_path: Path, extra: str = "") -> tuple[Path, Path]:
    """A portfolio whose project's ``data`` is a symlink to a folder outside it; returns
    the repository and the linked folder."""
    outside = tmp_path / "datasets" / "rows"
    outside.mkdir(parents=True)
    (outside / "rows.csv").write_text("a,b\n1,2\n")
    root = _portfolio_with(tmp_path, script=READS_DATA, extra=extra)
    (root / "projects" / "plain" / "data").symlink_to(outside, target_is_directory=True)
    return root, outside


def _staleness(root: Path) -> str:
    from portfolio import discover, plan
    from portfolio.domain import Workspace

    ws = Workspace(root)
    (project,) = discover.discover(ws)
    return plan.decide(ws, project).staleness


@pytest.mark.cli
def test_an_edit_in_a_symlinked_data_folder_makes_the_project_stale(tmp_path: Path) -> None:
    root, outside = _linked_data(tmp_path)
    ran = portfolio_cli("run", "--no-warm", cwd=root)
    assert ran.returncode == 0, ran.stderr
    assert "rows: 2" in (root / "results" / "plain" / "log.txt").read_text()
    assert _staleness(root) == "fresh"
    (outside / "rows.csv").write_text("a,b\n1,2\n3,4\n")
    assert _staleness(root) != "fresh"


@pytest.mark.cli
def test_a_symlinked_data_folder_can_be_declared(tmp_path: Path) -> None:
    root, _ = _linked_data(tmp_path, "data: [data]\n")
    checked = portfolio_cli("check", cwd=root)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # As written, a path out of the folder is still refused, by its line.
    meta = root / "projects" / "plain" / "project.yaml"
    meta.write_text("title: plain\ndata: [../elsewhere]\n")
    refused = portfolio_cli("check", cwd=root)
    assert refused.returncode == 2, refused.stderr
    assert "project.yaml:2" in refused.stderr and "outside the project folder" in refused.stderr


def test_a_symlinked_data_folder_travels_to_a_dask_worker(tmp_path: Path) -> None:
    from portfolio import parcel

    root, _ = _linked_data(tmp_path, "data: [data]\n")
    project = root / "projects" / "plain"
    copy = tmp_path / "worker"
    parcel.unpack(parcel.pack_project(root, project, ["data"], []), copy)
    arrived = copy / "projects" / "plain" / "data" / "rows.csv"
    assert arrived.read_text() == "a,b\n1,2\n"
    assert not arrived.parent.is_symlink()


def test_a_symlink_back_up_is_not_walked(tmp_path: Path) -> None:
    from portfolio import plan

    root, _ = _linked_data(tmp_path)
    project = root / "projects" / "plain"
    make_project(root, "sibling", PLAIN)
    (project / "up").symlink_to(project.parent, target_is_directory=True)
    (project / "again").symlink_to(project, target_is_directory=True)
    (project / "data" / "back").symlink_to(project / "data", target_is_directory=True)
    found = sorted(p.relative_to(project).as_posix() for p in plan.source_files(project, root))
    assert found == ["data/rows.csv", "project.yaml", "train.py"]


# -- 7: notebooks -------------------------------------------------------------------------------
def _notebook(cells: list[str], outputs: dict[int, list[dict]] | None = None) -> str:
    """A notebook (nbformat 4) of code cells; ``outputs``: saved outputs by cell index."""
    import json

    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "id": f"c{i}", "metadata": {}, "execution_count": i + 1,
         "source": source, "outputs": (outputs or {}).get(i, [])}
        for i, source in enumerate(cells)]})


def _notebook_project(tmp_path: Path, cells: list[str], slug: str = "book",
                      outputs: dict[int, list[dict]] | None = None) -> Path:
    root = tmp_path / "repo"
    if not root.exists():
        root.mkdir()
        shutil.copyfile(FIXTURES / "tiny" / "mkdocs.yml", root / "mkdocs.yml")
        shutil.copytree(REPO / "site_templates", root / "site_templates")
    folder = root / "projects" / slug
    folder.mkdir(parents=True)
    (folder / "project.yaml").write_text(f"title: {slug}\nscript: train.ipynb\n")
    (folder / "train.ipynb").write_text(_notebook(cells, outputs))
    return root


@pytest.mark.parametrize("line", ["%time !ls", "%timeit %sx ls", "%time -n 1 !!ls"])
def test_a_timed_shell_escape_is_refused_before_any_cell_runs(tmp_path: Path,
                                                             line: str) -> None:
    from portfolio import notebook

    marker = tmp_path / "first-cell-ran"
    book = tmp_path / "train.ipynb"
    book.write_text(_notebook([f"open({str(marker)!r}, 'w').close()", line]))
    with pytest.raises(notebook.NotebookError, match=r"cell 2: .* runs a shell command"):
        notebook.run(book)
    assert not marker.exists()


def test_help_on_an_object_is_skipped_and_the_notebook_runs(tmp_path: Path) -> None:
    from portfolio import notebook

    book = tmp_path / "train.ipynb"
    book.write_text(_notebook(["value = 41", "value?", "print?? ", "value += 1"]))
    assert notebook.run(book)["value"] == 42


def test_a_line_no_rule_makes_python_is_refused_before_any_cell_runs(tmp_path: Path) -> None:
    from portfolio import notebook

    marker = tmp_path / "first-cell-ran"
    book = tmp_path / "train.ipynb"
    book.write_text(_notebook([f"open({str(marker)!r}, 'w').close()", "x = 1\n%time y = = 2"]))
    with pytest.raises(notebook.NotebookError, match=r"cell 2, line 2: `%time y = = 2`"):
        notebook.run(book)
    assert not marker.exists()


@pytest.mark.cli
def test_a_file_run_with_percent_run_is_an_input(tmp_path: Path) -> None:
    from portfolio import parcel

    root = _notebook_project(tmp_path, ["%run ../../shared/prepare.py", "print(ROWS)"])
    shared = root / "shared" / "prepare.py"
    shared.parent.mkdir()
    shared.write_text("ROWS = 3\n")
    ran = portfolio_cli("run", "--no-warm", cwd=root)
    assert ran.returncode == 0, ran.stderr
    assert _staleness(root) == "fresh"
    shared.write_text("ROWS = 4\n")
    assert _staleness(root) != "fresh"
    # It travels to a Dask worker with the project, whatever a run recorded.
    assert "shared/prepare.py" in parcel.local_modules(root, root / "projects" / "book")


@pytest.mark.cli
def test_check_reports_an_unreadable_notebook(tmp_path: Path) -> None:
    root = _notebook_project(tmp_path, ["print(1)"])
    (root / "projects" / "book" / "train.ipynb").write_text("{ this is not json")
    result = portfolio_cli("check", cwd=root)
    assert result.returncode == 2, result.stdout + result.stderr
    line = _one_line(result.stderr)
    assert "projects/book/train.ipynb" in line and "not a Jupyter notebook" in line, line


@pytest.mark.cli
def test_check_reports_a_notebook_that_needs_a_shell(tmp_path: Path) -> None:
    root = _notebook_project(tmp_path, ["print(1)", "!curl https://example.org/x"])
    result = portfolio_cli("check", cwd=root)
    assert result.returncode == 2, result.stdout + result.stderr
    line = _one_line(result.stderr)
    assert "projects/book/train.ipynb" in line and "cell 2" in line, line


@pytest.mark.cli
def test_a_notebook_nested_100000_deep_is_one_line_and_spares_the_others(
        tmp_path: Path) -> None:
    root = _notebook_project(tmp_path, ["print('fine')"], slug="fine")
    deep = _notebook_project(tmp_path, ["print(1)"], slug="deep") / "projects" / "deep"
    (deep / "train.ipynb").write_text('{"cells": ' + "[" * 100_000 + "]" * 100_000 + "}")
    checked = portfolio_cli("check", cwd=root)
    assert checked.returncode == 2, checked.stdout + checked.stderr
    assert "projects/deep/train.ipynb" in _one_line(checked.stderr)
    built = portfolio_cli("build", "--no-warm", "--keep-going", cwd=root)
    assert built.returncode == 0, built.stderr
    assert "Traceback" not in built.stderr, built.stderr
    assert "fine" in (root / "results" / "fine" / "log.txt").read_text()


@pytest.mark.cli
def test_a_notebooks_saved_outputs_are_not_published(tmp_path: Path) -> None:
    saved = {0: [{"output_type": "stream", "name": "stdout",
                  "text": "connected as admin with token OUTPUT-LEAK\n"}]}
    root = _notebook_project(tmp_path, ["print('trained')"], outputs=saved)
    built = portfolio_cli("build", "--no-warm", cwd=root)
    assert built.returncode == 0, built.stderr
    copies = list((root / "site").rglob("train.ipynb"))
    assert copies, sorted(p.relative_to(root).as_posix() for p in (root / "site").rglob("*"))
    for copy in copies:
        text = copy.read_text()
        assert "print('trained')" in text
        assert "OUTPUT-LEAK" not in text


# -- 12: the Dask parcel is never held whole in memory -------------------------------------
class _Recording:
    """Dask's client as :func:`cluster.send_project` uses it: each scattered chunk is
    written to a file (as the cluster keeps it, not this process) and its size noted."""

    def __init__(self, spool: Path) -> None:
        self.spool, self.sizes = spool, []

    def scatter(self, chunk: bytes, hash: bool = True) -> int:
        assert hash is False
        self.sizes.append(len(chunk))
        with self.spool.open("ab") as fh:
            fh.write(chunk)
        return len(self.sizes) - 1


def test_a_projects_data_goes_to_the_cluster_in_chunks(tmp_path: Path) -> None:
    import tracemalloc

    from portfolio import cluster, parcel

    size = 4 * parcel.CHUNK_BYTES  # random bytes: gzip cannot make them smaller
    root = _portfolio_with(tmp_path, extra="data: [data.bin]\n")
    project = root / "projects" / "plain"
    with (project / "data.bin").open("wb") as fh:
        for _ in range(size // (1 << 20)):
            fh.write(os.urandom(1 << 20))
    client = _Recording(tmp_path / "sent.tar.gz")
    tracemalloc.start()
    try:
        sent = cluster.send_project(client, root, project, ["data.bin"], [])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sent == list(range(len(client.sizes)))
    assert len(client.sizes) >= 4 and max(client.sizes) <= parcel.CHUNK_BYTES
    assert peak < parcel.CHUNK_BYTES + (4 << 20), peak  # one chunk at a time, not 32 MB
    # What the worker unpacks from those chunks is the project, data and all.
    data = client.spool.read_bytes()
    chunked = [data[i:i + parcel.CHUNK_BYTES] for i in range(0, len(data), parcel.CHUNK_BYTES)]
    parcel.unpack(chunked, tmp_path / "worker")
    arrived = tmp_path / "worker" / "projects" / "plain" / "data.bin"
    assert arrived.read_bytes() == (project / "data.bin").read_bytes()
