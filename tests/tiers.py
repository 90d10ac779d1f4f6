"""The suite's tiers: markers by cost, and the guard that keeps the unmarked tier fast.

``make test-fast`` runs the tests with no cost marker. It stays under a minute only if
none of them starts a Python process (the portfolio command, a run's child, a warm
worker), so this autouse fixture fails one that does, naming what it started. A plugin of
its own, so a test can check the guard on a suite of its own (``-p tests.tiers``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The markers that say a test costs more than an in-process call (pyproject.toml).
COSTS = ("cli", "training", "cluster", "browser", "venv")
_PYTHONS = ("python", "portfolio", "mkdocs", "zensical", "uv", "dask", "pip")


@pytest.fixture(autouse=True)
def unmarked_tests_stay_in_process(request: pytest.FixtureRequest,
                                   monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``make test-fast`` runs the tests with no cost marker; it stays fast only if none of
    them starts a Python process (the portfolio command, a run's child, a warm worker).
    One that does fails, named, to be marked with what it costs."""
    if any(request.node.get_closest_marker(name) for name in COSTS):
        yield
        return
    started: list[str] = []
    real = subprocess.Popen.__init__

    def watched(self: subprocess.Popen, args: object, *rest: object, **kw: object) -> None:
        words = [args] if isinstance(args, str | os.PathLike) else list(args)  # type: ignore[call-overload]
        program = Path(str(words[0])).name if words else ""
        if program.startswith(_PYTHONS) or str(words[0]) == sys.executable:
            started.append(" ".join(map(str, words))[:200])
        real(self, args, *rest, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(subprocess.Popen, "__init__", watched)
    yield
    if started:
        pytest.fail(f"a test with no cost marker started {started[0]!r}: mark it with one "
                    f"of {', '.join(COSTS)} (pyproject.toml says what each costs)")
