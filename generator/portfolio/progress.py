"""Live progress of a build: one line per project, streamed from the children.

In a terminal, a rich table redraws in place (queued; running, for how long, in which
phase: a fit's epoch k/n and the latest loss, a cross-validation's fold k/n, a search's
candidate k/n; done with its score and time; failed), under the build's elapsed time.
Elsewhere (CI, a pipe) plain lines are printed when a project changes state or enters
another phase, and its progress at most every few seconds. Both end with the same
summary table: time and peak memory per project, and the runs' total time.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

_PLAIN_EVERY_S = 10.0  # between two plain lines of one project's progress, in one phase


def describe(event: dict[str, Any]) -> str:
    """A child's progress event as the live line says it: 'epoch 3/30 loss 0.412',
    'cross-validation fold 2/5', 'search candidate 3/12, fold 2/5'; '' for an event of
    a kind this version does not know."""
    kind = event.get("event")
    if kind == "epoch":
        return describe_epoch(event)
    if kind == "fold":
        return f"cross-validation fold {_k_of_n(event, 'fold', 'folds')}"
    if kind == "candidate":
        fold = f", fold {_k_of_n(event, 'fold', 'folds')}" if event.get("fold") else ""
        return f"search candidate {_k_of_n(event, 'candidate', 'candidates')}{fold}"
    return ""


def phases(lines: list[str]) -> list[tuple[str, str]]:
    """What to report of a child's new progress lines (JSON events), in order: (detail,
    phase) for the last event of each phase they went through. Lines that are not events
    are skipped."""
    shown: list[tuple[str, str]] = []
    for line in lines:
        try:
            event = json.loads(line)
            detail, phase = describe(event), str(event.get("event", ""))
        except (ValueError, AttributeError):  # not JSON, or not an object
            continue
        if detail and shown and shown[-1][1] == phase:
            shown[-1] = (detail, phase)
        elif detail:
            shown.append((detail, phase))
    return shown


def _k_of_n(event: dict[str, Any], k: str, n: str) -> str:
    return f"{event.get(k, '?')}" + (f"/{event[n]}" if event.get(n) else "")


def elapsed(seconds: float) -> str:
    """'8 s', '2 min 05 s', '1 h 02 min': how long something has been going."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def describe_epoch(event: dict[str, Any]) -> str:
    """'epoch 3/30 loss 0.412 accuracy 0.871' from a child's progress event."""
    total = f"/{event['epochs']}" if event.get("epochs") else ""
    shown = [f"{k} {v:.4g}" for k, v in event.items()
             if k not in ("event", "epoch", "epochs") and isinstance(v, int | float)]
    return " ".join([f"epoch {event.get('epoch', '?')}{total}", *shown])


@dataclass
class Row:
    slug: str
    state: str = "queued"
    detail: str = ""
    seconds: float | None = None
    peak_mb: float | None = None
    score: str = ""
    last_plain: float = field(default=0.0)
    started: float | None = None  # time.monotonic() when it was first seen running
    phase: str = ""  # the kind of its latest progress event: epoch, fold, candidate
    capture_warnings: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class Reporter:
    """Collects every project's state; draws it live or as plain lines."""

    def __init__(self, console: Console | None = None, live: bool | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.live_mode = self.console.is_terminal if live is None else live
        self.rows: dict[str, Row] = {}
        self._live: Live | None = None
        self._started = time.monotonic()  # the runs' start, for the build's elapsed time

    # -- events ---------------------------------------------------------------------------
    def fresh(self, slug: str) -> None:
        self.rows[slug] = Row(slug, "fresh", "not re-run")
        self._plain(f"{slug}: fresh, not re-run")

    def queued(self, slug: str, reasons: list[str]) -> None:
        self.rows[slug] = Row(slug, "queued", ", ".join(reasons))
        self._plain(f"{slug}: queued: {', '.join(reasons)}")
        self._refresh()

    def running(self, slug: str, detail: str = "", phase: str = "") -> None:
        """``slug`` runs; ``detail`` says how far (:func:`describe`), ``phase`` is the kind
        of the event it came from. A plain line is printed when it starts, when it enters
        another phase, and otherwise at most every few seconds."""
        row = self.rows[slug]
        now = time.monotonic()
        first = row.state != "running"
        if first:
            row.started = now
        moved_on = bool(phase) and phase != row.phase
        row.state, row.detail, row.phase = "running", detail or row.detail, phase or row.phase
        if first or moved_on or now - row.last_plain >= _PLAIN_EVERY_S:
            row.last_plain = now
            took = "" if first else f" ({elapsed(now - (row.started or now))})"
            self._plain(f"{slug}: running{took}" + (f": {detail}" if detail else ""))
        self._refresh()

    def finished(self, slug: str, status: str, seconds: float, peak_mb: float | None,
                 score: str, error: str | None) -> None:
        row = self.rows[slug]
        row.state, row.seconds, row.peak_mb, row.score = status, seconds, peak_mb, score
        row.detail = error or score
        detail = f": {error}" if error else (f", {score}" if score else "")
        self._plain(f"{slug}: {status} in {seconds:.1f} s{detail}")
        self._refresh()

    def captured_with_warnings(self, slug: str, warnings: list[str]) -> None:
        """Remember what capture could not record; the summary lists it."""
        self.rows[slug].capture_warnings = list(warnings)

    def warned(self, slug: str, message: str) -> None:
        """A run did something harmful that is not a failure: said at once and again in the
        summary."""
        self.rows[slug].warnings.append(message)
        self._plain(f"{slug}: warning: {message}")

    # -- drawing --------------------------------------------------------------------------
    def __enter__(self) -> Reporter:
        if self.live_mode:
            # Drawn afresh at every refresh, so the elapsed times tick between events.
            self._live = Live(get_renderable=self._table, console=self.console,
                              refresh_per_second=4, transient=True)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
            self._live = None

    def summary(self, parent_peak_mb: float) -> None:
        if not self.rows:
            return
        table = Table(title="Runs", title_justify="left")
        for column in ("project", "status", "score", "time", "peak memory"):
            table.add_column(column, justify="right" if column in ("time", "peak memory")
                             else "left")
        for row in self.rows.values():
            table.add_row(row.slug, row.state, row.score or "–",
                          f"{row.seconds:.1f} s" if row.seconds is not None else "–",
                          f"{row.peak_mb:.0f} MB" if row.peak_mb else "–")
        self.console.print(table)
        for row in self.rows.values():
            for message in row.warnings:
                self.console.print(f"{row.slug}: warning: {message}", markup=False,
                                   highlight=False, soft_wrap=True)
            if row.capture_warnings:
                count = len(row.capture_warnings)
                self.console.print(f"{row.slug}: {count} capture warning{'s' * (count > 1)}: "
                                   + "; ".join(row.capture_warnings), markup=False,
                                   highlight=False, soft_wrap=True)
        ran = [row for row in self.rows.values() if row.seconds is not None]
        took = (f"{len(ran)} run{'s' * (len(ran) != 1)} in "
                f"{elapsed(time.monotonic() - self._started)}; " if ran else "")
        self.console.print(f"{took}portfolio itself peaked at {parent_peak_mb:.0f} MB")

    def _table(self) -> Table:
        now = time.monotonic()
        # rich's refresh thread draws this while the runs' thread adds rows: a copy, once.
        rows = list(self.rows.values())
        done = sum(row.seconds is not None for row in rows)
        queued = sum(row.state in ("queued", "running") for row in rows)
        # The detail takes the width the names and states leave (expand, ratio): a long
        # one (a failure's line) is cut short, instead of squeezing the names out.
        table = Table(box=None, show_header=False, pad_edge=False, expand=True,
                      caption_justify="left",
                      caption=f"{elapsed(now - self._started)} so far; {done} of "
                              f"{done + queued} run{'s' * (done + queued != 1)} done")
        table.add_column("project", style="bold", no_wrap=True)
        table.add_column("state", no_wrap=True)
        table.add_column("detail", overflow="ellipsis", no_wrap=True, ratio=1)
        colours = {"ok": "green", "running": "cyan", "queued": "dim"}
        for row in rows:
            colour = colours.get(row.state, "red")
            timing = (f" ({row.seconds:.1f} s)" if row.seconds is not None else
                      f" ({elapsed(now - row.started)})" if row.started is not None
                      and row.state == "running" else "")
            table.add_row(row.slug, f"[{colour}]{row.state}[/]",
                          escape(row.detail) + timing)
        return table

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.refresh()

    def _plain(self, line: str) -> None:
        if not self.live_mode:
            print(line, file=sys.stderr, flush=True)
