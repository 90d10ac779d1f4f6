"""The warm worker: a process that has already imported the heavy libraries and forks a
fresh child for each run.

Importing scikit-learn, SciPy, pandas and matplotlib takes about 3 s on the machines this
was measured on, more than many scikit-learn scripts take to train (BENCHMARKS.md). A
build used to pay it once per project, and a rebuild after a one-line edit paid it again.
The worker pays it once: it imports the fork-safe libraries the scripts import, then waits
on a Unix socket. Each run is a ``fork()`` of it, so every run still gets its own process
(its own memory, globals, process group, timeout and kill), as in Android's zygote or
Python's ``multiprocessing`` forkserver. Runs started from it behave as fresh ones:
same environment, working folder, ``sys.path``, output pipe and thread-pool sizes.

Only libraries that start no threads at import are preloaded: forking a process that
has threads can leave a lock held forever in the child. TensorFlow, PyTorch and JAX
start thread pools when imported, so the worker never imports them; a Keras script
imports TensorFlow after the fork, in its own child, exactly as before.

The worker is shared by every portfolio that uses the same Python and the same preloaded
libraries, and leaves by itself after ``PORTFOLIO_WARM_IDLE`` seconds without work (15
minutes by default). ``PORTFOLIO_WARM=0`` (or ``--no-warm``) runs every script in a
fresh interpreter instead; ``portfolio stop`` stops the workers.

Protocol, one ``SOCK_SEQPACKET`` connection per run: the client sends a JSON request
with the write end of the run's output pipe attached; the worker answers ``{"pid": N}``
when the child is forked and ``{"status": S, "maxrss_kb": K}`` when it has reaped it.
A client that hangs up first takes its run with it: the worker kills the child's group.
"""

from __future__ import annotations

import ast
import contextlib
import gc
import hashlib
import importlib
import json
import os
import runpy
import select
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portfolio import childenv, notebook

# Import-time thread-free libraries worth preloading; a script's imports of anything else
# happen in its own child, after the fork.
PRELOADABLE = frozenset({"numpy", "scipy", "pandas", "sklearn", "matplotlib", "statsmodels",
                         "seaborn", "joblib", "PIL"})
_DISTRIBUTIONS = {"sklearn": "scikit-learn", "PIL": "pillow"}
IDLE_S = 900.0
_MESSAGE = 1 << 20  # largest request (the environment is most of it)
_MAX_ADDRESS = 107  # a Unix socket's path, in bytes (Linux)
# The worker's own settings, so that importing the libraries starts no thread. pyarrow,
# which pandas imports whenever it is installed (MLflow brings it), starts jemalloc's
# background purging thread at import unless told not to.
_SINGLE_THREADED = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                    "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1", "PYTHONHASHSEED": "0",
                    "JE_ARROW_MALLOC_CONF": "background_thread:false"}


def enabled() -> bool:
    """Linux only: other systems' libraries (macOS's Accelerate, Objective-C runtime) are
    not safe to use after fork, and Windows has no fork."""
    return (os.environ.get("PORTFOLIO_WARM", "1") != "0" and sys.platform.startswith("linux")
            and hasattr(socket, "send_fds"))


def preloads(scripts: Iterable[Path]) -> list[str]:
    """The preloadable modules the scripts import, as written (``sklearn.ensemble``,
    ``matplotlib.pyplot``): importing exactly those in the worker leaves each child with
    nothing of them to import."""
    found: set[str] = set()
    for script in scripts:
        try:
            tree = ast.parse(notebook.python_source(script) if notebook.is_notebook(script)
                             else script.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            else:
                continue
            found.update(n for n in names if n.split(".")[0] in PRELOADABLE)
    return sorted(found)


def runtime_dir() -> Path | None:
    """A folder only this user can enter: whoever can connect to a worker can run code as
    its owner. None (no warm worker) when that cannot be had."""
    base = os.environ.get("PORTFOLIO_RUNTIME_DIR")
    if base:
        folder = Path(base)
    elif os.environ.get("XDG_RUNTIME_DIR"):
        folder = Path(os.environ["XDG_RUNTIME_DIR"]) / "portfolio"
    else:
        folder = Path("/tmp") / f"portfolio-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.stat()
    except OSError:
        return None
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        return None
    return folder


# Variables read when the interpreter starts or a preloaded library is imported: a forked
# child keeps the worker's reading of them, so they are part of what makes a worker.
_STARTUP_ENV = ("PYTHON", "NPY_", "NUMPY_", "SCIPY_", "SKLEARN_", "PANDAS_", "MPL",
                "JOBLIB_", "LOKY_", "KMP_", "GOMP_")


def startup_env() -> dict[str, str]:
    return {k: v for k, v in sorted(os.environ.items())
            if k.startswith(_STARTUP_ENV) and k not in _SINGLE_THREADED}


def fingerprint(preload: list[str]) -> str:
    """What a worker's preloaded state depends on: the interpreter and the variables it
    and the libraries read at start-up, the preloaded modules and their versions, and this
    package's own code (an edited capturer must not be served from memory). A different
    fingerprint is a different worker."""
    from importlib import metadata

    versions = {}
    for top in sorted({name.split(".")[0] for name in preload}):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[top] = metadata.version(_DISTRIBUTIONS.get(top, top))
    blob = json.dumps([code_stamp(), startup_env(), preload, versions])
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def code_stamp() -> str:
    """The interpreter and this package's code: a worker whose stamp differs from ours runs
    older code that no build of this code will use again."""
    own = Path(__file__).resolve().parent
    code = sorted((str(p.relative_to(own)), p.stat().st_mtime_ns, p.stat().st_size)
                  for p in own.rglob("*.py"))
    blob = json.dumps([sys.executable, sys.version, code])
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Worker:
    """A worker's address; it may still be importing when a run is sent to it."""

    socket: Path

    def start(self, module: str, argv: list[str], cwd: Path, env: dict[str, str],
              threads: int, output_fd: int, give_up: Callable[[], bool] = lambda: False,
              ) -> Run | None:
        """Fork the equivalent of ``python -m MODULE ARGV...`` started in ``cwd`` with
        ``env``, its stdout and stderr on ``output_fd``. None when the worker cannot be
        reached or ``give_up`` says so while it is still importing: the caller then starts
        a fresh interpreter, or nothing (a run forked after we hung up is killed)."""
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            conn.connect(str(self.socket))
            request = {"module": module, "argv": argv, "cwd": str(cwd), "env": env,
                       "threads": threads}
            socket.send_fds(conn, [json.dumps(request).encode()], [output_fd])
            while True:
                with contextlib.suppress(TimeoutError):
                    reply = _receive(conn, 0.1)
                    break
                if give_up():
                    raise ConnectionAbortedError
        except (OSError, ValueError):
            conn.close()
            return None
        if "pid" not in reply:
            conn.close()
            return None
        return Run(conn, int(reply["pid"]), int(reply["worker"]))


class Run:
    """A run forked by the worker: its pid (also its process group) and its end."""

    def __init__(self, conn: socket.socket, pid: int, worker_pid: int) -> None:
        self._conn = conn
        self.pid = pid
        self.worker_pid = worker_pid
        self.worker_lost = False  # the worker went away before it reported the run's end

    def wait(self, timeout: float | None) -> tuple[int, float | None] | None:
        """(returncode, peak MB) once the worker has reaped the child; None on timeout.
        A worker that vanished (``worker_lost``) cannot report the child's end: the child
        is killed and reported as such."""
        try:
            reply = _receive(self._conn, timeout)
        except TimeoutError:
            return None
        except OSError:
            reply = {}
        self._conn.close()
        if not reply or "status" not in reply:
            self.worker_lost = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
            return -signal.SIGKILL, None
        return os.waitstatus_to_exitcode(reply["status"]), reply["maxrss_kb"] / 1024


def _receive(conn: socket.socket, timeout: float | None) -> dict[str, Any]:
    if timeout is not None and not select.select([conn], [], [], timeout)[0]:
        raise TimeoutError
    data = conn.recv(_MESSAGE)
    return json.loads(data) if data else {}


def ensure(preload: list[str], build_dir: Path) -> Worker | None:
    """The worker for ``preload``, started if none answers, for the portfolio whose build
    folder is ``build_dir`` (the worker's log and the key of the worker it uses are kept
    there). Never waits for its imports: runs sent early queue on the socket while it
    loads, as the parent validates."""
    folder = runtime_dir() if enabled() else None
    if folder is None:
        return None
    key = fingerprint(preload)
    address = folder / f"warm-{key}.sock"
    if len(os.fsencode(address)) > _MAX_ADDRESS:  # bind() would refuse it
        return None
    if (address.exists() or address.is_symlink()) and not address.is_socket():
        # Not ours to delete (a folder, a file someone made): runs go without a worker.
        print(f"warning: {address} is not a socket, so no warm worker can listen there: "
              "every script starts a fresh interpreter (remove it to have the worker back)",
              file=sys.stderr, flush=True)
        return None
    build_dir.mkdir(parents=True, exist_ok=True)
    previous = _use(folder, build_dir, key)
    _retire(folder, keep=key, replaced=previous)
    if _answers(address):
        return Worker(address)
    log = build_dir / "warm.log"
    env = childenv.child_environment()
    env.update(_SINGLE_THREADED)
    with log.open("ab") as out:
        server = subprocess.Popen([sys.executable, "-m", "portfolio.warm", str(address),
                                   *preload], cwd="/", env=env, stdin=subprocess.DEVNULL,
                                  stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline and server.poll() is None:
        if address.exists():  # bound before any import
            return Worker(address)
        time.sleep(0.01)
    return None  # it failed to start (its log says why): runs use fresh interpreters


def _answers(address: Path) -> bool:
    if not address.exists():
        return False
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        probe.connect(str(address))
        probe.send(b'{"ping": true}')
        return _receive(probe, 10.0).get("pong") is True
    except (ConnectionRefusedError, FileNotFoundError):
        with contextlib.suppress(OSError):  # made a folder since: ensure() will see it
            address.unlink(missing_ok=True)  # a worker that died without cleaning up
        return False
    except (OSError, ValueError):  # busy for 10 s, or leaving: a new worker takes over
        return False
    finally:
        probe.close()


def workers(folder: Path | None = None) -> list[dict[str, Any]]:
    """The running workers this user started with this Python."""
    folder = folder or runtime_dir()
    found = []
    for info in sorted(folder.glob("warm-*.json")) if folder else []:
        with contextlib.suppress(OSError, ValueError):
            record = json.loads(info.read_text(encoding="utf-8"))
            if record.get("python") == sys.executable and _is_worker(record.get("pid", 0)):
                found.append(record)
    return found


def _is_worker(pid: int) -> bool:
    try:
        return b"portfolio.warm" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _use(folder: Path, build_dir: Path, key: str) -> str | None:
    """Record that the portfolio of ``build_dir`` now uses the worker ``key``: in its build
    folder (``warm.key``) and among the worker's users in the runtime folder. Returns the
    key it used before, if another."""
    mine = build_dir / "warm.key"
    try:
        previous = mine.read_text(encoding="utf-8").strip() or None
    except OSError:
        previous = None
    me = hashlib.sha256(os.fsencode(build_dir.resolve())).hexdigest()[:16]
    with contextlib.suppress(OSError):
        users = folder / f"warm-{key}.users"
        users.mkdir(mode=0o700, exist_ok=True)
        (users / me).write_text(str(build_dir.resolve()), encoding="utf-8")
        mine.write_text(key, encoding="utf-8")
    if previous in (None, key):
        return None
    (folder / f"warm-{previous}.users" / me).unlink(missing_ok=True)
    return previous


def _users(folder: Path, key: str) -> list[Path]:
    """The build folders of the portfolios that still use the worker ``key``: each listed
    among its users, and its own ``warm.key`` naming it (a portfolio deleted, or moved on
    to another worker, is not a user)."""
    found = []
    for entry in (folder / f"warm-{key}.users").glob("*"):
        with contextlib.suppress(OSError):
            build_dir = Path(entry.read_text(encoding="utf-8"))
            if (build_dir / "warm.key").read_text(encoding="utf-8").strip() == key:
                found.append(build_dir)
    return found


def _retire(folder: Path, keep: str, replaced: str | None) -> None:
    """Ask the workers the one for ``keep`` replaces to leave once their runs end: the one
    this portfolio used before (``replaced``, another preload set) when no other portfolio
    uses it, and those running older code, which no build will use again. Workers other
    portfolios use (other imports, other start-up variables) are left alone."""
    stamp = code_stamp()
    for record in workers(folder):
        fingerprint = record.get("fingerprint")
        if fingerprint == keep:
            continue
        if record.get("code") != stamp or (fingerprint == replaced
                                           and not _users(folder, fingerprint)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(record["pid"], signal.SIGTERM)


def stop() -> list[int]:
    """Stop every worker of this Python; returns their pids."""
    pids = [record["pid"] for record in workers()]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    return pids


# --- the worker itself ----------------------------------------------------------------


class _Server:
    def __init__(self, address: Path, preload: list[str], idle: float) -> None:
        self.address = address
        self.info = address.with_suffix(".json")
        self.idle = idle
        self.preload = preload
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.selector = selectors.PollSelector()  # poll keeps no kernel object a fork shares
        self.children: dict[int, tuple[socket.socket, int]] = {}  # pid → (conn, pidfd)
        self.draining = False
        self.last_work = time.monotonic()

    def run(self) -> None:
        self.address.unlink(missing_ok=True)
        self.listener.bind(str(self.address))
        bound = self.address.stat().st_ino
        self.listener.listen(64)
        signal.signal(signal.SIGTERM, self._drain)
        self.info.write_text(json.dumps({
            "pid": os.getpid(), "python": sys.executable, "preload": self.preload,
            "fingerprint": self.address.stem.removeprefix("warm-"), "code": code_stamp(),
            "started": time.time()}), encoding="utf-8")
        try:
            self._preload()
            # Idle from now: runs sent while it imported are waiting on the socket, and a
            # slow import (a loaded machine) must not end it before it serves them.
            self.last_work = time.monotonic()
            self.selector.register(self.listener, selectors.EVENT_READ, "accept")
            while not self._finished():
                for key, _ in self.selector.select(timeout=1.0):
                    self._handle(key)
        finally:
            for pid in list(self.children):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
            # Remove our address and record, not those of a worker that has taken our place.
            with contextlib.suppress(OSError):
                if self.address.stat().st_ino == bound:
                    self.address.unlink()
                    shutil.rmtree(self.address.with_suffix(".users"), ignore_errors=True)
            with contextlib.suppress(OSError, ValueError):
                if json.loads(self.info.read_text(encoding="utf-8"))["pid"] == os.getpid():
                    self.info.unlink()

    def _preload(self) -> None:
        started = time.monotonic()
        # portfolio.record too: every run writes its record through pydantic's models.
        for name in ["threadpoolctl", "portfolio.record", *self.preload]:
            try:
                importlib.import_module(name)
            except Exception as exc:  # the script will meet the same error, in its own log
                print(f"preload {name}: {type(exc).__name__}: {exc}", flush=True)
        threads = sum(1 for _ in Path("/proc/self/task").iterdir())
        print(f"preloaded {len(self.preload)} modules in {time.monotonic() - started:.1f} s; "
              f"{threads} thread(s)", flush=True)
        if threads > 1:  # a library started a thread: forking is no longer safe
            raise SystemExit("a preloaded library started threads; not serving")
        # Move everything loaded so far out of the collector's sight: a child's collections
        # then skip it (and do not dirty its copy-on-write pages), as in prefork servers.
        gc.freeze()

    def _finished(self) -> bool:
        if self.children:
            return False
        return self.draining or time.monotonic() - self.last_work > self.idle

    def _drain(self, signum: int, frame: object) -> None:
        self.draining = True  # leave once the runs in progress end

    def _handle(self, key: selectors.SelectorKey) -> None:
        self.last_work = time.monotonic()
        if key.data == "accept":
            conn, _ = self.listener.accept()
            self._serve(conn)
        elif key.data[0] == "exited":
            self._reap(key.data[1])
        else:  # the client hung up while its run goes on: it gave up on it
            with contextlib.suppress(OSError):
                if key.fileobj.recv(_MESSAGE):
                    return  # clients send nothing after the request; ignore chatter
            self.selector.unregister(key.fileobj)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(key.data[1], signal.SIGKILL)

    def _serve(self, conn: socket.socket) -> None:
        try:
            data, fds, _, _ = socket.recv_fds(conn, _MESSAGE, 1)
            request = json.loads(data)
        except (OSError, ValueError):
            conn.close()
            return
        if request.get("ping"):
            with contextlib.suppress(OSError):
                conn.send(json.dumps({"pong": not self.draining}).encode())
            conn.close()
            return
        if self.draining or len(fds) != 1:
            conn.close()  # the client falls back to a fresh interpreter
            for fd in fds:
                os.close(fd)
            return
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            self._become_child(request, fds[0], conn)
        os.close(fds[0])
        pidfd = os.pidfd_open(pid)
        self.children[pid] = (conn, pidfd)
        self.selector.register(pidfd, selectors.EVENT_READ, ("exited", pid))
        self.selector.register(conn, selectors.EVENT_READ, ("client", pid))
        with contextlib.suppress(OSError):
            conn.send(json.dumps({"pid": pid, "worker": os.getpid()}).encode())

    def _reap(self, pid: int) -> None:
        conn, pidfd = self.children.pop(pid)
        _, status, usage = os.wait4(pid, 0)
        self.selector.unregister(pidfd)
        with contextlib.suppress(KeyError, ValueError):  # gone if the client hung up
            self.selector.unregister(conn)
        os.close(pidfd)
        with contextlib.suppress(OSError):
            conn.send(json.dumps({"status": status, "maxrss_kb": usage.ru_maxrss}).encode())
        conn.close()

    def _become_child(self, request: dict[str, Any], output: int, conn: socket.socket) -> None:
        """In the forked child: become what ``python -m MODULE ARGV`` started in the
        requested folder would be, run it, and never return to the loop."""
        code: int | None = 1
        try:
            os.setsid()  # its own process group: a timeout kills it and what it started
            for fd in [self.listener.fileno(), conn.fileno(),
                       *(pidfd for _, pidfd in self.children.values()),
                       *(c.fileno() for c, _ in self.children.values())]:
                os.close(fd)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.dup2(output, 1)
            os.dup2(output, 2)
            os.close(null)
            os.close(output)
            os.chdir(request["cwd"])
            os.environ.clear()
            os.environ.update(request["env"])
            sys.path[0] = request["cwd"]  # as `python -m` started there would have it
            _matplotlib_settings_read_here()
            _size_thread_pools(int(request["threads"]))
            sys.argv = [request["module"], *request["argv"]]
            try:
                runpy.run_module(request["module"], run_name="__main__", alter_sys=True)
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
            from portfolio.process import leave

            leave(code)
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code if code is not None else 1)


def _matplotlib_settings_read_here() -> None:
    """Read matplotlib's settings again, as its import in this folder and environment would:
    the worker imported it before the run's folder existed, so a project's
    ``./matplotlibrc`` (or ``$MATPLOTLIBRC``, ``$MPLBACKEND``) went unread. The file's values
    also become what ``matplotlib.rc_file_defaults()`` restores."""
    mpl = sys.modules.get("matplotlib")
    if mpl is None or not hasattr(mpl, "rc_params_from_file"):
        return
    import locale
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the import warned already, in the worker
            settings = mpl.rc_params_from_file(mpl.matplotlib_fname(),
                                               use_default_template=True)
            mpl.rcParamsOrig.update(settings)
            mpl.rcParams.update(settings)  # "backend": kept unless this file names one
            if os.environ.get("MPLBACKEND"):
                mpl.rcParams["backend"] = os.environ["MPLBACKEND"]
        if mpl.rcParams["axes.formatter.use_locale"]:
            locale.setlocale(locale.LC_ALL, "")
    except Exception as exc:  # a broken file: the script meets matplotlib's own error
        print(f"matplotlibrc: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)


def _size_thread_pools(threads: int) -> None:
    """The worker loaded OpenBLAS and OpenMP with one thread (no threads at fork); the
    child gets its share of the cores, as a fresh one would through its environment."""
    with contextlib.suppress(ImportError):
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=threads)


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m portfolio.warm SOCKET [MODULE ...]", file=sys.stderr)
        return 2
    idle = float(os.environ.get("PORTFOLIO_WARM_IDLE", IDLE_S))
    _Server(Path(argv[0]), argv[1:], idle).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
