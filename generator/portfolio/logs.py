"""What a script printed: a legible copy of its log, and the results it printed.

Keras progress bars redraw a line with carriage returns and backspaces; a terminal
shows the last drawing, a file keeps them all. :func:`clean` keeps what a terminal
would have shown. :func:`printed_results` reads lines such as ``Accuracy: 85.20`` or
``Test RMSE: 0.123 (persistence 0.160)``, the way Guild AI reads scalars from output,
so tutorial scripts that only print their score still get one on their page.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portfolio.metricnames import canonical, is_fraction_metric

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_LINE = re.compile(
    rf"^\s*(?P<name>[A-Za-z][A-Za-z0-9 _\-./]{{0,40}}?)\s*(?::|=|\bis\b)\s*"
    rf"(?P<value>{_NUMBER})\s*(?P<percent>%)?(?P<rest>.*)$")
_PAREN = re.compile(rf"\(\s*(?P<name>[A-Za-z][A-Za-z0-9 _\-]{{0,30}}?)\s*[:=]?\s*"
                    rf"(?P<value>{_NUMBER})\s*(?P<percent>%)?\s*\)")
_METRIC_WORDS = ("accuracy", "acc", "rmse", "mse", "mae", "mape", "loss", "error", "f1",
                 "auc", "r2", "precision", "recall", "score")
# Numbers measured on anything but held-out data are not results.
_NOT_TEST = ("val", "validation", "train", "training", "cv", "fold", "epoch", "spot")
_SPREAD = {"std", "sd", "stdev", "stddev", "var", "n", "ci", "se", "sem"}


def clean(text: str) -> str:
    """The log as a terminal would show it: redraws collapsed, colours stripped."""
    lines = []
    for raw in _ANSI.sub("", text).split("\n"):
        shown: list[str] = []
        for part_index, part in enumerate(raw.split("\r")):
            if part_index and part:  # a carriage return: the next text overwrites from column 0
                shown = list(part) + shown[len(part):]
                continue
            for char in part:
                if char == "\b":
                    if shown:
                        shown.pop()
                else:
                    shown.append(char)
        lines.append("".join(shown).rstrip())
    return "\n".join(lines)


@dataclass(frozen=True)
class Printed:
    name: str  # canonical metric name
    value: float
    line: int
    baseline: tuple[str, float] | None = None  # "(persistence 0.160)" on the same line


def _value(name: str, number: str, percent: bool) -> float:
    value = float(number)
    if is_fraction_metric(name) and (percent or 1.0 < value <= 100.0):
        value /= 100.0  # "Accuracy: 85.20" is a percentage
    return value


def _is_metric(label: str) -> bool:
    words = re.split(r"[^a-z0-9]+", label.lower())
    if any(w in _NOT_TEST for w in words) or len(words) > 5:
        return False
    return any(w in _METRIC_WORDS for w in words)


def printed_results(text: str) -> list[Printed]:
    """Every ``name: number`` line that names a metric, in order; later lines repeat."""
    found = []
    for number, line in enumerate(clean(text).splitlines(), 1):
        match = _LINE.match(line)
        if not match or not _is_metric(match["name"]):
            continue
        name = canonical(match["name"])
        baseline = None
        paren = _PAREN.search(match["rest"])
        if paren and not _is_metric(paren["name"]) and paren["name"].lower() not in _SPREAD:
            baseline = (paren["name"].strip(), _value(name, paren["value"], bool(paren["percent"])))
        found.append(Printed(name, _value(name, match["value"], bool(match["percent"])), number,
                             baseline))
    return found


def absorb(record: dict[str, Any], out: Path) -> None:
    """Write ``log-clean.txt``; add printed results that no hook recorded to ``run.json``
    (``record``) and ``metrics.json``, marked as from output. Never overrides a hook."""
    log = out / "log.txt"
    if not log.is_file():
        return
    text = _read_capped(log)
    (out / "log-clean.txt").write_text(clean(text), encoding="utf-8")
    metrics_file = out / "metrics.json"
    metrics = json.loads(metrics_file.read_text(encoding="utf-8")) if metrics_file.is_file() else {}
    captured = {canonical(name) for name in metrics}
    latest = {p.name: p for p in printed_results(text)}  # the last print of a name wins
    added = {}
    for printed in latest.values():
        if printed.name in captured:
            continue
        added[printed.name] = printed.value
        record.setdefault("results", []).append({
            "name": printed.name, "value": printed.value, "source": "output",
            "split": "test", "line": printed.line})
        if printed.baseline:
            name, value = printed.baseline
            known = {canonical(b["name"]) for b in record.get("baselines", [])}
            if canonical(name) not in known:
                record.setdefault("baselines", []).append(
                    {"name": name, "value": value, "source": f"printed by the script, line "
                     f"{printed.line} of the log", "metric": printed.name})
    if added:
        metrics.update(added)
        metrics_file.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    record["printed_metrics"] = sorted(added)


def _read_capped(path: Path, limit: int = 8_000_000) -> str:
    """The log's head and tail: enough for results, bounded for a script that printed GBs."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        if size <= limit:
            return fh.read().decode("utf-8", errors="replace")
        head = fh.read(limit // 2)
        fh.seek(size - limit // 2)
        return (head + b"\n[...]\n" + fh.read()).decode("utf-8", errors="replace")
