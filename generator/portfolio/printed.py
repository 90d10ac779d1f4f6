"""What a script printed: a legible copy of its log, and the results it printed.

Keras progress bars redraw a line with carriage returns and backspaces; a terminal
shows the last drawing, a file keeps them all. :func:`clean` keeps what a terminal
would have shown. :func:`read_printed` reads ``name: number`` pairs such as
``Accuracy: 85.20``, ``Test Score: 55.43 RMSE`` or ``Test RMSE: 0.123 (persistence
0.160)``, the way Guild AI reads scalars from output, so tutorial scripts that only
print their score still get one on their page.

A printed number is never taken for a held-out result on its word alone: it is
``printed`` (read, not verified), ``train`` or ``validation`` when its label says so,
``cv`` when it carries a spread (``± 0.02``, ``(std 0.4)``) or was printed inside or
right after a cross-validation or search, and it takes the split of a hooked result
when it repeats that result's value. A value whose label names no metric
(``Score: 0.93``) is kept as printed text, never as a result, unless it repeats a hooked
result (``model score: 0.744`` printed after ``clf.score``): then it is that result's
printed line. A number that counts or sizes something (``Number of batches in
raw_test_ds: 63``) is not read at all.
"""

from __future__ import annotations

import collections
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from portfolio.metricnames import canonical, is_fraction_metric
from portfolio.results import CLEAN_LOG, LOG

if TYPE_CHECKING:
    from portfolio.record import RunRecord

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
# Words that name a metric, in a label (``Test accuracy:``) or as a unit after the
# number (``55.43 RMSE``); a unit names the metric even when the label says "score".
_METRIC_WORDS = ("accuracy", "acc", "rmse", "mse", "mae", "mape", "loss", "error", "f1",
                 "auc", "r2", "precision", "recall")
_UNIT = "|".join(_METRIC_WORDS)
# ``label: number [%] [unit]``, several on a line; ``loss 0.31 MAE`` (no colon) only
# when a metric unit follows. A word followed by ``:`` is the next label, not a unit.
_PAIR = re.compile(
    rf"(?P<label>[A-Za-z][A-Za-z0-9 _\-./]{{0,40}}?)"
    rf"(?:\s*(?::|=|\bis\b)\s*|\s+(?={_NUMBER}\s*%?\s*(?:{_UNIT})\b))"
    rf"(?P<value>{_NUMBER})(?![\d.])\s*(?P<percent>%)?"
    rf"(?:[ \t]*(?P<unit>{_UNIT})\b(?!\s*[:=(]))?", re.IGNORECASE)
_PAREN = re.compile(rf"\(\s*(?P<name>[A-Za-z][A-Za-z0-9 _\-]{{0,30}}?)\s*[:=]?\s*"
                    rf"(?P<value>{_NUMBER})\s*(?P<percent>%)?\s*\)")
# A spread after the value makes it a mean over folds: ± 0.02, +/- 0.02, (std 0.4), (4.27%).
_SPREAD = re.compile(rf"±|\+/-|\+-\s*\d|\(\s*(?:std|sd|stdev|stddev|sem|se|var)\b|"
                     rf"^\s*\(\s*{_NUMBER}\s*%?\s*\)", re.IGNORECASE)
_SPREAD_NAMES = {"std", "sd", "stdev", "stddev", "var", "n", "ci", "se", "sem"}
# Labels that say a number is some score without saying which: kept as printed text.
_GENERIC = {"score", "scores", "result", "results", "value", "performance", "metric",
            "evaluation", "test", "final"}
_SPLIT_WORDS = {"train": "train", "training": "train", "trained": "train",
                "val": "validation", "valid": "validation", "validation": "validation",
                "cv": "cv", "fold": "cv", "folds": "cv", "spot": "cv", "cross": "cv",
                "crossval": "cv", "kfold": "cv"}
_SUMMARY_WORDS = {"best", "average", "avg", "overall", "model", "our", "my"}
# Words that say a number counts or sizes something ("Number of batches in raw_test_ds:
# 63", "Test samples: 10000", "Test set: 200 rows"): never a score, whatever else the
# label says ("test" alone would offer it as one).
_COUNT_WORDS = {"number", "num", "count", "counts", "size", "sizes", "len", "length", "shape",
                "samples", "sample", "examples", "rows", "records", "instances", "items",
                "observations", "points", "images", "files", "documents", "sentences",
                "words", "tokens", "batches", "batch", "steps", "classes", "labels",
                "features", "columns", "elements", "entries", "epochs", "iterations"}
_COUNT_AFTER = re.compile(r"\s*([A-Za-z]+)")  # the word right after the number
_PROGRESS = re.compile(r"^\s*\d+/\d+\b")  # a Keras progress line: its hooks record it
_TEXT_LINES_KEPT = 20
_LONGEST_LINE = 1000  # longer lines are arrays and tables, not a score someone printed
_REALIGN_LINES = 500  # how far past its count a stamp's line is looked for


def clean(text: str) -> str:
    """The log as a terminal would show it: redraws collapsed, colours stripped.

    A carriage return moves back to column 0 and a backspace one column left; what is
    written next overwrites (Keras 3 writes its bar, backspaces, a carriage return and
    the next bar; Keras 2 only backspaces)."""
    lines = []
    for raw in _ANSI.sub("", text).split("\n"):
        if "\r" not in raw and "\b" not in raw:
            lines.append(raw.rstrip())
            continue
        shown: list[str] = []
        column = 0
        for char in raw:
            if char == "\r":
                column = 0
            elif char == "\b":
                column = max(0, column - 1)
            elif column < len(shown):
                shown[column] = char
                column += 1
            else:
                shown.append(char)
                column += 1
        lines.append("".join(shown).rstrip())
    return "\n".join(lines)


class OutputLines:
    """What went through the child's ``sys.stdout``/``sys.stderr``: the count of lines,
    the last of them, and the text (its first and last few MB), for the printed-results
    finisher to read in the child.

    Text written below Python (TensorFlow's C++ start-up lines, ``sys.stdout.buffer``,
    subprocesses) is not seen, so a count can fall short of the line numbers of the
    parent's ``log.txt``; ``last`` (the tail of the last complete line) is the anchor the
    parent uses to find where a count really lands there (:func:`place_in_log`).
    """

    _KEPT = 2000  # characters of a line kept: a progress bar's last drawing fits
    _HEAD = _TAIL = 4_000_000  # characters of text kept at each end

    def __init__(self) -> None:
        self.count = 0
        self.last = ""
        self._partial = ""
        self._head: list[str] = []
        self._head_size = 0
        self._head_lines = 0
        self._tail: collections.deque[str] = collections.deque()
        self._tail_size = 0
        self._dropped_lines = 0  # newlines in the text dropped between head and tail

    def add(self, text: str) -> None:
        self._keep(text)
        if "\n" not in text:
            self._partial = (self._partial + text)[-self._KEPT:]
            return
        self.count += text.count("\n")
        head, _, tail = text.rpartition("\n")
        _, newline, line = head.rpartition("\n")  # the line the last newline ended
        self.last = (line if newline else self._partial + line)[-self._KEPT:]
        self._partial = tail[-self._KEPT:]

    def _keep(self, text: str) -> None:
        if self._head_size < self._HEAD and not self._tail:
            self._head.append(text)
            self._head_size += len(text)
            self._head_lines += text.count("\n")
            return
        self._tail.append(text)
        self._tail_size += len(text)
        while len(self._tail) > 1 and self._tail_size - len(self._tail[0]) >= self._TAIL:
            dropped = self._tail.popleft()
            self._tail_size -= len(dropped)
            self._dropped_lines += dropped.count("\n")

    def snapshot(self) -> tuple[int, str]:
        return self.count, self.last

    def lines(self) -> list[tuple[int, str]]:
        """The kept lines as a terminal showed them, each with its number (counted as
        :attr:`count` counts). A gap in the numbers is text dropped from the middle."""
        head = "".join(self._head)
        if not self._dropped_lines:
            return list(enumerate(clean(head + "".join(self._tail)).split("\n"), 1))
        # The lines cut by the gap are dropped whole: the head's last, the tail's first.
        kept = clean(head).split("\n")[:self._head_lines]
        tail = "".join(self._tail).partition("\n")[2]
        first = self._head_lines + self._dropped_lines + 2
        return [*enumerate(kept, 1), *enumerate(clean(tail).split("\n"), first)]


@dataclass(frozen=True)
class Printed:
    """One ``name: number`` pair read from the log."""

    name: str  # canonical metric name; "" when the label names no metric (``Score: 0.93``)
    value: float
    line: int
    raw_name: str = ""  # the pair as printed: ``Test Score: 55.43 RMSE``
    split: str = "printed"  # printed, train, validation or cv
    baseline: tuple[str, float] | None = None  # "(persistence 0.160)" after the value
    tolerance: float = 0.0  # half the last printed digit, in the value's own scale
    text: str = ""  # the whole line, as a terminal showed it
    percent: bool = False  # printed with a % sign


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", text.lower()) if w]


def _split_of(words: list[str]) -> str | None:
    return next((_SPLIT_WORDS[w] for w in words if w in _SPLIT_WORDS), None)


def _name_of(label: str, unit: str | None) -> str:
    """The metric a pair names: its unit when that is a metric word, else its label's
    metric words (``Test accuracy`` → accuracy); "" when neither names one."""
    if unit and unit.lower() in _METRIC_WORDS:
        return canonical(unit)
    words = [w for w in _words(label) if w not in _SPLIT_WORDS]
    if "determination" in words:  # scikit-learn's examples: "Coefficient of determination"
        return "r2"
    if len(words) > 5 or not any(w in _METRIC_WORDS for w in words):
        return ""
    name = canonical(" ".join(w for w in words if w not in _SUMMARY_WORDS))
    if name.startswith("mean_"):  # "mean accuracy"; "mean squared error" was already mse
        name = canonical(name.removeprefix("mean_"))
    return name.removesuffix("_score") if name != "score" else ""


def _scaled(name: str, number: str, percent: bool) -> tuple[float, float]:
    """The value and its printed precision; ``Accuracy: 85.20`` is a percentage."""
    value = float(number)
    mantissa, _, exponent = number.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    tolerance = 0.5 * 10.0 ** (int(exponent or 0) - decimals)
    if name and is_fraction_metric(name) and (percent or 1.0 < value <= 100.0):
        return value / 100.0, tolerance / 100.0
    return value, tolerance


def _baseline(name: str, rest: str) -> tuple[str, float] | None:
    paren = _PAREN.search(rest)
    if (not paren or _name_of(paren["name"], None) or _split_of(_words(paren["name"]))
            or paren["name"].lower().strip() in _SPREAD_NAMES):
        return None
    return paren["name"].strip(), _scaled(name, paren["value"], bool(paren["percent"]))[0]


def _read_line(number: int, line: str) -> list[Printed]:
    if len(line) > _LONGEST_LINE or _PROGRESS.match(line) or {"epoch", "epochs"} & set(
            _words(line)):
        return []  # training progress: the fit and evaluate hooks record it
    pairs = list(_PAIR.finditer(line))
    found = []
    for index, pair in enumerate(pairs):
        label, unit = pair["label"], pair["unit"]
        name = _name_of(label, unit)
        end = pairs[index + 1].start() if index + 1 < len(pairs) else len(line)
        rest = line[pair.end():end]
        if not name and (not _GENERIC & set(_words(label)) or _counts(label, rest)):
            continue  # "Number of samples: 150" is no score at all
        value, tolerance = _scaled(name, pair["value"], bool(pair["percent"]))
        split = (_split_of(_words(label)) or _split_of(_words(line[:pairs[0].start()]))
                 or "printed")
        if _SPREAD.search(rest):
            split = "cv"
        found.append(Printed(name, value, number, pair.group().strip(), split,
                             _baseline(name, rest) if name and split != "cv" else None,
                             tolerance, line.strip(), bool(pair["percent"])))
    return found


def _counts(label: str, rest: str) -> bool:
    """A pair that counts or sizes something: its label says so ("Number of batches in
    raw_test_ds"), or the word after its number does ("Test set: 200 samples")."""
    after = _COUNT_AFTER.match(rest)
    return bool(_COUNT_WORDS & set(_words(label))) or bool(
        after and after[1].lower() in _COUNT_WORDS)


def read_printed(text: str) -> list[Printed]:
    """Every ``name: number`` pair that names a metric or a score, in order."""
    return _read_lines(enumerate(clean(text).splitlines(), 1))


def _read_lines(lines: Iterable[tuple[int, str]]) -> list[Printed]:
    found: list[Printed] = []
    for number, line in lines:
        found += _read_line(number, line)
    return found


def printed_results(text: str) -> list[Printed]:
    """The printed pairs that name their metric, in order; later lines repeat."""
    return [p for p in read_printed(text) if p.name]


def _within(value: Any, printed: float, tolerance: float) -> bool:
    return isinstance(value, int | float) and abs(value - printed) <= tolerance * 1.000001 + 1e-12


def _hooked_match(results: list[dict[str, Any]], printed: Printed) -> dict[str, Any] | None:
    """The hooked result this printed pair repeats: same metric and equal to the printed
    precision (or a printed RMSE that is the root of a hooked MSE); the latest one
    recorded before the line was printed, else any. A pair naming no metric ("model
    score: 0.744") repeats a result of any metric, recorded before the line was printed
    (the script printed what it had just measured). A line labelled train or validation
    repeats only a result of that split or of an unknown one."""
    found = [r for r in results if r.get("source") != "output" and (
        printed.split == "printed" or r.get("split") in (printed.split, "unknown"))
        and _repeats(r, printed)]
    before = [r for r in found
              if isinstance(r.get("log_line"), int) and r["log_line"] < printed.line]
    return (before or (found if printed.name else []) or [None])[-1]


def _repeats(result: dict[str, Any], printed: Printed) -> bool:
    """The printed pair is this result's value, to the precision printed, under its name
    (or its raw name: Keras' ``loss`` named by the metric it is) or none."""
    value = result.get("value")
    if not isinstance(value, int | float):
        return False
    if not printed.name:
        return _unnamed_repeats(canonical(str(result.get("name", ""))), value, printed)
    names = {canonical(str(result.get(key) or "")) for key in ("name", "raw_name")}
    if "mse" in names and printed.name == "rmse":
        return _within(math.sqrt(max(value, 0.0)), printed.value, printed.tolerance)
    return printed.name in names and _within(value, printed.value, printed.tolerance)


def _unnamed_repeats(name: str, value: float, printed: Printed) -> bool:
    """"model score: 0.744" or "Score: 74.4%" repeats an accuracy of 0.7441; a whole
    number ("Result: 12") is as likely a count as a score, so it repeats nothing."""
    if printed.tolerance >= 0.5:
        return False
    if _within(value, printed.value, printed.tolerance):
        return True
    as_percent = printed.percent or 1.0 < printed.value <= 100.0
    return is_fraction_metric(name) and as_percent and _within(
        value, printed.value / 100.0, printed.tolerance / 100.0)


def _cv_windows(record: dict[str, Any]) -> list[tuple[int, float]]:
    """The log lines that belong to a cross-validation or a search: printed while it ran,
    or after it and before the next hooked result (lines ``start < n <= stop``)."""
    stops = sorted(e["log_line"] for e in [*record.get("results", []),
                                           *record.get("evaluations", [])]
                   if isinstance(e.get("log_line"), int) and e.get("source") != "output")
    windows = []
    for event in [*record.get("spot_checks", []), *record.get("searches", [])]:
        end = event.get("log_line")
        if isinstance(end, int):
            stop = next((s for s in stops if s >= end), math.inf)
            windows.append((int(event.get("log_line_start", end)), stop))
    return windows


def _add_baseline(record: dict[str, Any], printed: Printed) -> None:
    assert printed.baseline is not None
    name, value = printed.baseline
    if not math.isfinite(value):  # "(persistence inf)": nothing to compare with
        return
    known = {canonical(b["name"]) for b in record.get("baselines", [])}
    if canonical(name) not in known:
        record.setdefault("baselines", []).append(
            {"name": name, "value": value, "source": "printed by the script",
             "line": printed.line, "metric": printed.name})


def read_printed_results(record: dict[str, Any], lines: list[tuple[int, str]]) -> None:
    """Add to a run's ``record`` the results the script printed (``lines``: numbered as
    the child counts them). A finisher, run in the child once the ledger has placed the
    hooked results and before the project's own are chosen, so ``metrics.json`` is
    written once and never rewritten.

    A printed pair that repeats a hooked result marks it (``printed_line``) and takes
    its split (or, labelled train or validation, gives an unknown one that split); the
    others become results with ``source: output`` and the split their line tells (the
    last print of a name and split wins). None reaches ``metrics.json``, which holds
    the held-out results capture verified: a printed score can still be a project's
    headline, labelled "not verified as held-out" (``printed_metrics`` names those
    candidates). Values whose label names no metric are kept as text in ``printed_lines``,
    unless they repeat a hooked result (then they mark it, as a named print does).
    """
    results = record.setdefault("results", [])
    new, texts = _sort_printed(record, _read_lines(lines))
    captured = {canonical(str(r.get("name"))) for r in results if r.get("split") == "test"}
    captured |= {canonical(name) for name in record.get("logged_metrics") or {}}
    added = {}
    for printed in new:
        results.append({"name": printed.name, "raw_name": printed.raw_name,
                        "value": printed.value, "source": "output", "split": printed.split,
                        "line": printed.line})
        if printed.split == "printed":
            if printed.name not in captured:
                added[printed.name] = printed.value
            if printed.baseline:
                _add_baseline(record, printed)
    record["printed_metrics"] = sorted(added)
    record["printed_lines"] = texts[-_TEXT_LINES_KEPT:]


def lines_named(record: dict[str, Any]) -> set[int]:
    """The log lines a record points at (events stamped after a line, printed lines), for
    the child to leave an anchor at each and the parent to find them in ``log.txt``."""
    found: set[int] = set()
    for entry in _numbered(record):
        found |= {entry[key] for key in _LINE_KEYS if isinstance(entry.get(key), int)}
    return found


_LINE_KEYS = ("log_line", "log_line_start", "line", "printed_line")


# The parts of a record whose entries carry log line numbers (in _LINE_KEYS).
_NUMBERED = ("results", "evaluations", "spot_checks", "searches", "baselines", "printed_lines")


def _numbered(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for key in _NUMBERED for e in record.get(key) or [] if isinstance(e, dict)]


def roots_of_printed_mse(results: list[dict[str, Any]]) -> None:
    """``print('Test Score: %.2f RMSE' % math.sqrt(mean_squared_error(...)))``: the hook
    saw an MSE, the reader was shown its root. The root becomes a result of its own, on
    the same data and model, so the page speaks the script's units: a finisher run once
    the project's results are chosen and split, as the root is one of them when the MSE is."""
    for result in list(results):
        if result.get("printed_name") != "rmse" or canonical(str(result.get("name"))) != "mse" \
                or not isinstance(result.get("value"), int | float):
            continue
        root = {**result, "name": "rmse", "raw_name": "rmse",
                "value": math.sqrt(max(result["value"], 0.0)),
                "source": f"square root of {result.get('source')} (printed as RMSE)"}
        root.pop("printed_name", None)
        results.insert(results.index(result) + 1, root)


def _sort_printed(record: dict[str, Any], found: list[Printed]
                  ) -> tuple[list[Printed], list[dict[str, Any]]]:
    """Mark the hooked results the script printed again, under their name or none; return
    the printed results that are new (the last per name and split) and the printed text
    naming no metric that repeats no result (one entry per line)."""
    results = record.setdefault("results", [])
    windows = _cv_windows(record)
    kept: dict[tuple[str, str], Printed] = {}
    texts: dict[int, dict[str, Any]] = {}
    for printed in found:
        hooked = _hooked_match(results, printed) if printed.split != "cv" else None
        if hooked is not None:
            hooked.setdefault("printed_line", printed.line)
            if printed.name == "rmse" and canonical(str(hooked["name"])) == "mse":
                hooked.setdefault("printed_name", printed.name)  # the author reported RMSE
            if printed.split in ("train", "validation") and hooked.get("split") == "unknown":
                hooked["split"] = printed.split  # "Train Score: ..." places an unknown one
            if printed.baseline and hooked.get("split") not in ("train", "validation"):
                _add_baseline(record, printed)
            continue
        if printed.split == "printed" and any(a < printed.line <= b for a, b in windows):
            printed = replace(printed, split="cv")
        if printed.name:
            kept.pop((printed.name, printed.split), None)
            kept[(printed.name, printed.split)] = printed
        elif printed.split != "cv":  # a search's per-candidate "score=" lines are noise
            texts.setdefault(printed.line, {"line": printed.line, "text": printed.text,
                                            "value": printed.value, "split": printed.split})
    return list(kept.values()), list(texts.values())


def place_in_log(record: RunRecord, out: Path) -> None:
    """In the parent, once the child has ended: write ``log-clean.txt`` and move every line
    number of ``record`` (counted by the child through Python) to the log line it really
    is. Lines written below Python (TensorFlow's C++ start-up lines) only push the real
    line further down, so each count's last line (``log_anchors``) is looked for at or
    after it, in order, and the offset found carries over to the next count."""
    anchors = record.log_anchors or {}
    record.log_anchors = None  # used up: not written again
    log = out / LOG
    if not log.is_file():
        return
    text, whole = _read_capped(log)
    cleaned = clean(text)
    (out / CLEAN_LOG).write_text(cleaned, encoding="utf-8")
    if not whole:  # its middle is cut from the clean log: the child's counts stand
        return
    lines = cleaned.split("\n")  # as the child counted: newlines only
    moved, offset = {}, 0
    for count in sorted(int(key) for key in anchors):
        want = str(anchors[str(count)])[-40:]
        start = count + offset
        found = next((n for n in range(max(start, 1), min(len(lines), start + _REALIGN_LINES)
                                       + 1) if lines[n - 1].strip().endswith(want)),
                     None) if count and want else None
        at = start if found is None else found  # not found: the count, as the child saw it
        moved[count], offset = at, max(offset, at - count)
    for entry in (e for name in _NUMBERED for e in getattr(record, name)):
        for key in _LINE_KEYS:
            number = getattr(entry, key, None)
            if number in moved:
                setattr(entry, key, moved[number])


def _read_capped(path: Path, limit: int = 8_000_000) -> tuple[str, bool]:
    """The log's head and tail: enough to read, bounded for a script that printed GBs;
    and whether that is the whole log."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        if size <= limit:
            return fh.read().decode("utf-8", errors="replace"), True
        head = fh.read(limit // 2)
        fh.seek(size - limit // 2)
        return (head + b"\n[...]\n" + fh.read()).decode("utf-8", errors="replace"), False
