"""Live progress of a build: one line per project, streamed from the children.

In a terminal, a rich table redraws in place (queued, running with epoch k/n and the
latest loss, done with its score and time, failed). Elsewhere (CI, a pipe) plain lines
are printed when a project changes state, and its epochs at most every few seconds.
Both end with the same summary table: time and peak memory per project.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

_PLAIN_EPOCH_EVERY_S = 10.0


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
    capture_warnings: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class Reporter:
    """Collects every project's state; draws it live or as plain lines."""

    def __init__(self, console: Console | None = None, live: bool | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.live_mode = self.console.is_terminal if live is None else live
        self.rows: dict[str, Row] = {}
        self._live: Live | None = None

    # -- events ---------------------------------------------------------------------------
    def fresh(self, slug: str) -> None:
        self.rows[slug] = Row(slug, "fresh", "not re-run")
        self._plain(f"{slug}: fresh, not re-run")

    def queued(self, slug: str, reasons: list[str]) -> None:
        self.rows[slug] = Row(slug, "queued", ", ".join(reasons))
        self._plain(f"{slug}: queued: {', '.join(reasons)}")
        self._refresh()

    def running(self, slug: str, detail: str = "") -> None:
        row = self.rows[slug]
        first = row.state != "running"
        row.state, row.detail = "running", detail or row.detail
        now = time.monotonic()
        if first or now - row.last_plain >= _PLAIN_EPOCH_EVERY_S:
            row.last_plain = now
            self._plain(f"{slug}: running" + (f": {detail}" if detail else ""))
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
            self._live = Live(self._table(), console=self.console, refresh_per_second=4,
                              transient=True)
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
        self.console.print(f"portfolio itself peaked at {parent_peak_mb:.0f} MB")

    def _table(self) -> Table:
        table = Table(box=None, show_header=False, pad_edge=False)
        table.add_column("project", style="bold")
        table.add_column("state")
        table.add_column("detail", overflow="ellipsis", no_wrap=True)
        colours = {"ok": "green", "running": "cyan", "queued": "dim"}
        for row in self.rows.values():
            colour = colours.get(row.state, "red")
            timing = f" ({row.seconds:.1f} s)" if row.seconds is not None else ""
            table.add_row(row.slug, f"[{colour}]{row.state}[/]", row.detail + timing)
        return table

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.update(self._table())

    def _plain(self, line: str) -> None:
        if not self.live_mode:
            print(line, file=sys.stderr, flush=True)
