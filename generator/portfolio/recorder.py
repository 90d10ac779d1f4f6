"""The recorder that lives inside a child run and collects what capture sees.

Only the child (``python -m portfolio.child``) creates a :class:`Recorder`; the
public API in ``portfolio/__init__.py`` forwards to it, and does nothing when no
recorder is active, so a script that calls ``portfolio.log_metric`` still runs on
its own. Nothing here imports Keras, TensorFlow or matplotlib.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from portfolio import results
from portfolio.metricnames import canonical
from portfolio.printed import OutputLines, clean, lines_named, read_printed_results
from portfolio.provenance import Ledger

if TYPE_CHECKING:
    from portfolio.record import RunRecord

_active: Recorder | None = None


def active() -> Recorder | None:
    return _active


def activate(recorder: Recorder | None) -> None:
    global _active
    _active = recorder


def as_float(value: Any) -> float | None:
    """A plain float from a Python, NumPy or tensor scalar; ``None`` when it is not one."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number


_ANCHOR_CHARS = 80  # of a stamp's last line, enough to find it again in the log


@dataclass
class Recorder:
    """Everything one run captured; written out by :meth:`write`.

    Results (held-out metrics) are kept in the order they were recorded, each with its
    source, so later ones win for the same name and a script's own ``log_metric`` wins
    over every hook.
    """

    out: Path
    seed: int
    project_dir: Path
    smoke: bool = False  # cap every fit at one short epoch, every search at one candidate
    fits: list[dict[str, Any]] = field(default_factory=list)
    evaluations: list[dict[str, Any]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    logged_metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    splits: list[dict[str, Any]] = field(default_factory=list)
    spot_checks: list[dict[str, Any]] = field(default_factory=list)
    searches: list[dict[str, Any]] = field(default_factory=list)
    confusion_matrices: list[dict[str, Any]] = field(default_factory=list)
    reports: list[dict[str, Any]] = field(default_factory=list)
    baselines: list[dict[str, Any]] = field(default_factory=list)
    trivial_baseline: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    figures: list[dict[str, Any]] = field(default_factory=list)
    saved_models: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    model_file: str | None = None
    diverged: dict[str, Any] | None = None  # where the loss became NaN or infinite
    seen_figures: weakref.WeakSet[Any] = field(default_factory=weakref.WeakSet)  # figures saved
    ledger: Ledger = field(default_factory=Ledger)  # the data each score was measured on
    trivial_baselines: list[dict[str, Any]] = field(default_factory=list)  # one per split
    judged: dict[str, Any] = field(default_factory=dict)  # which results are the project's
    # What the script wrote through Python: log_line() keeps each count's line in
    # log_anchors, for the parent to realign the stamps with the log.
    output: OutputLines | None = None
    log_anchors: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        (self.out / results.FIGURES).mkdir(parents=True, exist_ok=True)

    # -- what capturers and the public API call -------------------------------------------
    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def log_line(self) -> int:
        """How many lines the script has written to its log so far (0 when not counted):
        an event stamped ``n`` happened after line ``n`` of ``log.txt`` and before ``n + 1``
        (once the parent has realigned ``n`` with the lines Python did not see)."""
        if self.output is None:
            return 0
        count, last = self.output.snapshot()
        if count not in self.log_anchors:
            self.log_anchors[count] = clean(last).strip()[-_ANCHOR_CHARS:]
        return count

    def progress(self, **event: Any) -> None:
        """Stream an event to the parent, which shows it live (one JSON object per line)."""
        with (self.out / results.PROGRESS).open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(_finite(event), default=str) + "\n")

    def begin_fit(self, params: dict[str, Any], model_id: int, model_name: str) -> dict[str, Any]:
        segment = {"index": len(self.fits), "model": model_name, "model_id": model_id,
                   "params": params, "epochs": []}
        self.fits.append(segment)
        return segment

    def add_epoch(self, segment: dict[str, Any], epoch: int, logs: dict[str, Any]) -> None:
        row = {"epoch": epoch}
        for key, value in (logs or {}).items():
            number = as_float(value)
            if number is not None:
                row[key] = number
        segment["epochs"].append(row)

    def add_evaluation(self, logs: dict[str, Any]) -> list[dict[str, Any]]:
        """An ``evaluate`` call's metrics; the entries it added, for the ledger to place."""
        metrics = {k: v for k, v in ((k, as_float(v)) for k, v in logs.items()) if v is not None}
        entry = {"index": len(self.evaluations), "metrics": metrics, "split": "unknown",
                 "log_line": self.log_line()}
        self.evaluations.append(entry)
        return [entry, *(self.add_result(name, value, "keras.evaluate")
                         for name, value in metrics.items())]

    def add_result(self, name: str, value: float, source: str,
                   split: str = "unknown") -> dict[str, Any]:
        """A measured score under its canonical name (``sparse_categorical_accuracy`` is
        accuracy), the raw one kept. Its ``split`` stays unknown until the ledger places it:
        test (held out), train, validation, mixed, cv or unknown."""
        entry = {"name": canonical(name) or name, "raw_name": name, "value": value,
                 "source": source, "split": split, "log_line": self.log_line()}
        self.results.append(entry)
        return entry

    def log_baseline(self, name: str, value: Any, source: Any = None) -> None:
        number = as_float(value)
        if number is None or not math.isfinite(number):
            self.warn(f"log_baseline({name!r}): {value!r} is not a finite number")
            return
        self.baselines.append({"name": str(name), "value": number,
                               "source": None if source is None else str(source)})

    def log_metric(self, name: str, value: Any) -> None:
        number = as_float(value)
        if number is None:
            self.warn(f"log_metric({name!r}): {value!r} is not a number")
            return
        self.logged_metrics[str(name)] = number

    def figure_path(self, title: str) -> Path:
        """A unique ``figures/<name>.png`` for a figure titled ``title``."""
        stem = results.slugify(title, f"figure-{len(self.figures) + 1}")
        taken = {f["path"] for f in self.figures}
        name, n = f"figures/{stem}.png", 2
        while name in taken:
            name, n = f"figures/{stem}-{n}.png", n + 1
        return self.out / name

    def add_figure(self, path: Path, caption: str, source: str, kind: str = "figure") -> None:
        self.figures.append({"path": path.relative_to(self.out).as_posix(), "caption": caption,
                             "source": source, "kind": kind})

    def add_output(self, path: Path) -> None:
        """Note a file the script wrote inside its own folder: it is not a training input."""
        try:
            rel = path.resolve().relative_to(self.project_dir.resolve()).as_posix()
        except ValueError:
            return
        if rel not in self.outputs:
            self.outputs.append(rel)

    # -- output ---------------------------------------------------------------------------
    def final_segments(self) -> list[dict[str, Any]]:
        """The fit calls of the last model trained: candidates tried before it are not its
        history, but a freeze-then-fine-tune script's two calls on one model are."""
        if not self.fits:
            return []
        last = self.fits[-1]["model_id"]
        segments: list[dict[str, Any]] = []
        for segment in reversed(self.fits):
            if segment["model_id"] != last:
                break
            segments.insert(0, segment)
        return segments

    def history_rows(self) -> list[dict[str, Any]]:
        """Epoch logs of the final model, as Keras' CSVLogger would have written them."""
        return [row for segment in self.final_segments() for row in segment["epochs"]]

    def read_printed_results(self) -> None:
        """The results the script printed (a finisher: after the ledger placed the hooked
        results, before :meth:`judge`), and an anchor at every log line the record names,
        for the parent to find them in ``log.txt``."""
        if self.output is None:
            return
        lines = self.output.lines()
        view = {"results": self.results, "evaluations": self.evaluations,
                "spot_checks": self.spot_checks, "searches": self.searches,
                "baselines": self.baselines, "logged_metrics": self.logged_metrics}
        read_printed_results(view, lines)
        self.extra.update(printed_metrics=view["printed_metrics"],
                          printed_lines=view["printed_lines"])
        text = dict(lines)
        for number in lines_named(view):
            if number not in self.log_anchors and number in text:
                self.log_anchors[number] = text[number].strip()[-_ANCHOR_CHARS:]

    def judge(self) -> None:
        """Decide which held-out results are the project's own: those of the Keras model
        evaluated last on test data; else of the one model scored on test data. Several
        models scored on test data and no Keras evaluation: no single result is the
        project's, and the page shows the comparison instead of a headline."""
        test = [r for r in self.results if r["split"] == "test"]
        evaluated = [r for r in test if r["source"] == "keras.evaluate"]
        keys = list(dict.fromkeys(r.get("model_key") for r in test))
        named = [k for k in keys if k is not None]
        if evaluated:
            key, why = evaluated[-1].get("model_key"), "the Keras model evaluated on test data"
        elif len(named) == 1:
            key, why = named[0], "the only model scored on test data"
        elif not named and test:
            key, why = None, "scores on test data, from predictions no model could be traced to"
        elif named:
            labels = len({self.ledger.labels.get(k) for k in named})
            self.judged = {"basis": "ambiguous", "models": labels,
                           "why": f"the script scored {labels} models on test data"}
            return
        else:
            self.judged = {"basis": "none", "why": "no score was measured on held-out data"}
            return
        for result in test:
            result["judged"] = result.get("model_key") == key
        self.judged = {"basis": "held-out", "model": self.ledger.labels.get(key)
                       if key is not None else None, "model_key": key, "why": why}

    def test_metrics(self) -> dict[str, float]:
        """The project's held-out results in the order recorded (later wins), then
        ``log_metric`` values."""
        metrics = {r["name"]: r["value"] for r in self.results if r.get("judged")}
        metrics.update(self.logged_metrics)
        return metrics

    def adopt_saved_model(self) -> None:
        """Copy the last ``.keras`` file the script saved, if any, as ``model.keras``."""
        for saved in reversed(self.saved_models):
            source = Path(saved)
            if source.suffix in (".keras", ".h5") and source.is_file():
                target = self.out / f"model{source.suffix}"
                shutil.copyfile(source, target)
                self.model_file = target.name
                return

    def _numbered_fits(self) -> list[dict[str, Any]]:
        """Fits with ``model_index`` (0, 1, ...) in place of the object id: two candidates
        built by one function share a name, never an index."""
        order: dict[int, int] = {}
        fits = []
        for segment in self.fits:
            index = order.setdefault(segment["model_id"], len(order))
            fits.append({**{k: v for k, v in segment.items() if k != "model_id"},
                         "model_index": index})
        return fits

    def write(self, status: str, error: str | None) -> None:
        """Write the run's files once: ``history.csv``, ``metrics.json`` and ``run.json``,
        the last through its typed model (:class:`portfolio.record.RunRecord`)."""
        rows = self.history_rows()
        if rows:
            columns = ["epoch", *sorted({k for row in rows for k in row} - {"epoch"})]
            with (self.out / results.HISTORY).open("w", newline="", encoding="utf-8") as fh:
                writer = csv.DictWriter(fh, fieldnames=columns)
                writer.writeheader()
                writer.writerows(rows)
        metrics = {k: v for k, v in self.test_metrics().items() if math.isfinite(v)}
        _dump(self.out / results.METRICS, metrics)
        self.record(status, error).write(self.out / results.RUN_RECORD)

    def record(self, status: str, error: str | None) -> RunRecord:
        """What capture saw, as a run record. An entry that does not fit the record (a
        capturer's bug, or an odd value from the script) is left out with a capture
        warning, and so is a key no model holds: the run is always kept."""
        from portfolio.record import RunRecord  # pydantic's import: paid at the end only

        fields = json.loads(json.dumps(_finite({
            "status": status,
            "error": error,
            "seed": self.seed,
            "smoke": self.smoke,
            "splits": self.splits,
            "spot_checks": self.spot_checks,
            "searches": self.searches,
            "fits": self._numbered_fits(),
            "evaluations": self.evaluations,
            "results": self.results,
            "logged_metrics": self.logged_metrics,
            "confusion_matrices": self.confusion_matrices,
            "reports": self.reports,
            "trivial_baseline": self.trivial_baseline,
            "trivial_baselines": self.trivial_baselines,
            "judged": self.judged,
            "params": self.params,
            "baselines": self.baselines,
            "notes": self.notes,
            "figures": self.figures,
            "model": self.model_file,
            "saved_models": self.saved_models,
            "outputs": self.outputs,
            "capture_warnings": self.warnings,
            "diverged": self.diverged,
            "log_anchors": {str(count): line for count, line in self.log_anchors.items()},
            **{k: v for k, v in self.extra.items() if not k.startswith("_")},
        }), default=str))
        for _ in range(_REPAIRS):
            try:
                record = RunRecord.model_validate(fields)
            except ValueError as exc:  # pydantic's ValidationError: drop what is wrong
                if not self._drop_invalid(fields, exc):
                    break
                fields["capture_warnings"] = list(self.warnings)
                continue
            lost = unmodelled(fields, json.loads(record.to_json()))
            if lost:  # a capturer wrote what the record has no field for: say so
                self.warn(f"run record: not modelled, not kept: {', '.join(lost[:10])}")
                record.capture_warnings = list(self.warnings)
            return record
        return RunRecord(status=status, error=error, seed=self.seed,  # type: ignore[arg-type]
                         capture_warnings=[*self.warnings, "run record: capture's fields "
                                           "could not be recorded"])

    def _drop_invalid(self, fields: dict[str, Any], exc: Exception) -> bool:
        """Drop each entry (``results.3``) or field (``judged``) the error names, with a
        warning and the details in ``capture-errors.txt``; False when none can be."""
        dropped = []
        for error in sorted(getattr(exc, "errors", list)(), key=lambda e: e.get("loc", ()),
                            reverse=True):  # the last entry of a list first: indexes hold
            loc = tuple(error.get("loc", ()))
            if not loc or loc[0] in ("status", "capture_warnings"):
                continue
            holder = fields.get(loc[0])
            if len(loc) > 1 and isinstance(holder, list) and isinstance(loc[1], int) \
                    and loc[1] < len(holder):
                del holder[loc[1]]
                dropped.append(f"{loc[0]}.{loc[1]}")
            elif loc[0] in fields:
                del fields[loc[0]]
                dropped.append(str(loc[0]))
        if dropped:
            self.warn(f"run record: left out {', '.join(dict.fromkeys(dropped))}, which "
                      f"capture filled wrongly (details in {results.CAPTURE_ERRORS})")
            with (self.out / results.CAPTURE_ERRORS).open("a", encoding="utf-8") as fh:
                fh.write(f"run record\n{exc}\n\n")
        return bool(dropped)


_REPAIRS = 5  # rounds of dropping what is invalid before a minimal record is written


def unmodelled(given: Any, kept: Any, path: str = "") -> list[str]:
    """The dotted paths of keys in ``given`` that are not in ``kept`` (the record as the
    model wrote it): what the model would silently leave out."""
    if isinstance(given, dict) and isinstance(kept, dict):
        lost = []
        for key, value in given.items():
            here = f"{path}.{key}" if path else str(key)
            if key not in kept:
                if value not in (None, [], {}):  # an empty value is no loss
                    lost.append(here)
            else:
                lost += unmodelled(value, kept[key], here)
        return lost
    if isinstance(given, list) and isinstance(kept, list):
        return [lost for index, (g, k) in enumerate(zip(given, kept, strict=False))
                for lost in unmodelled(g, k, f"{path}.{index}")]
    return []


def _finite(data: Any) -> Any:
    """JSON has no NaN or infinity: a diverged loss is written as null."""
    if isinstance(data, float) and not math.isfinite(data):
        return None
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(v) for v in data]
    return data


def _dump(path: Path, data: Any) -> None:
    path.write_text(json.dumps(_finite(data), indent=2, default=str) + "\n", encoding="utf-8")
