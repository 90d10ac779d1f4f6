"""The typed run record (``portfolio.record``): its schema, old records, files, errors."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from portfolio.domain import RunResult
from portfolio.errors import CorruptRecord, ResultsError
from portfolio.record import (
    RESULTS_FORMAT,
    EpochRow,
    Fit,
    Result,
    RunRecord,
    TrivialBaseline,
    schema_text,
)
from portfolio.recorder import Recorder

from tests.conftest import REPO, run_child

SCHEMA_FILE = REPO / "generator" / "portfolio" / "run.schema.json"
REGENERATE = "PYTHONPATH=generator python -m portfolio.record > generator/portfolio/run.schema.json"
# Keys of format 8 records that format 9 no longer has: the one version is schema_version.
RETIRED = {"format"}


def dropped_keys(raw: object, written: object, path: str = "") -> set[str]:
    """Dotted paths of the keys in ``raw`` that ``written`` lacks."""
    if isinstance(raw, dict) and isinstance(written, dict):
        found = set()
        for key, value in raw.items():
            where = f"{path}.{key}" if path else key
            found |= ({where} if key not in written else dropped_keys(value, written[key], where))
        return found
    if isinstance(raw, list) and isinstance(written, list):
        return set().union(*(dropped_keys(a, b, f"{path}[]") for a, b in zip(raw, written,
                                                                          strict=False)))
    return set()


# -- (a) the committed schema is the generated one ----------------------------------------
def test_committed_schema_is_generated_from_the_model() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), (
        f"run.schema.json is out of date with portfolio/record.py; regenerate it: {REGENERATE}")


@pytest.mark.cli
def test_the_regenerate_command_prints_the_schema() -> None:
    printed = subprocess.run([sys.executable, "-m", "portfolio.record"], capture_output=True,
                             text=True, check=True, timeout=60).stdout
    assert printed == schema_text()
    schema = json.loads(printed)
    assert schema["$schema"].endswith("2020-12/schema") and schema["$id"]
    assert schema["required"] == ["status"]
    assert schema["properties"]["schema_version"]["default"] == RESULTS_FORMAT


# -- (b) the records committed in results/ load ------------------------------------------
COMMITTED = sorted((REPO / "results").glob("*/run.json"))


@pytest.mark.parametrize("path", COMMITTED, ids=[p.parent.name for p in COMMITTED])
def test_committed_records_load_and_lose_no_key(path: Path) -> None:
    record = RunRecord.read(path)
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert record.status == raw["status"]
    assert record.schema_version == raw["schema_version"]  # an older format keeps its number
    assert {r.name for r in record.results} == {r["name"] for r in raw["results"]}
    assert dropped_keys(raw, json.loads(record.to_json())) <= RETIRED


def test_there_are_committed_records() -> None:
    assert len(COMMITTED) >= 3


# -- (c) writing and reading back ---------------------------------------------------------
def sample() -> RunRecord:
    nan, inf = float("nan"), float("inf")
    return RunRecord(
        status="diverged", error="the loss became nan", seed=7,
        fits=[Fit(index=0, model="m", params={"epochs": 3, "lr": nan},
                  epochs=[EpochRow(epoch=0, loss=1.5, val_loss=inf),
                          EpochRow(epoch=1, loss=nan)])],
        results=[Result(name="rmse", value=nan, source="keras.evaluate", split="test",
                        judged=True),
                 Result(name="mae", value=2.5, source="output", split="printed", line=4)],
        trivial_baselines=[TrivialBaseline(kind="mean", name="Always the mean",
                                           estimator="mean", metrics={"r2": -inf, "mae": 3.0},
                                           split_index=0)],
        params={"window": 12, "note": "text"},
    )


def test_round_trip_keeps_values_and_writes_nan_as_null(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    sample().write(path)
    text = path.read_text(encoding="utf-8")
    assert "NaN" not in text and "Infinity" not in text
    raw = json.loads(text)
    assert raw["results"][0]["value"] is None
    assert raw["fits"][0]["epochs"] == [{"epoch": 0, "loss": 1.5, "val_loss": None},
                                       {"epoch": 1, "loss": None}]
    assert raw["fits"][0]["params"] == {"epochs": 3, "lr": None}
    assert raw["trivial_baselines"][0]["metrics"] == {"r2": None, "mae": 3.0}

    back = RunRecord.read(path)
    assert back.status == "diverged" and back.seed == 7 and back.error == "the loss became nan"
    assert back.results[0].value is None and back.results[0].judged is True
    assert back.results[1].model_dump(exclude_unset=True) == {
        "name": "mae", "value": 2.5, "source": "output", "split": "printed", "line": 4}
    assert back.fits[0].epochs[0].model_extra == {"loss": 1.5, "val_loss": None}
    assert back.params == {"window": 12, "note": "text"}
    assert back.to_json() == text  # a second write is the same text


def test_only_fields_that_were_set_are_written_in_a_stable_order(tmp_path: Path) -> None:
    path = tmp_path / "out" / "run.json"
    record = RunRecord(status="ok", seed=1)
    record.duration_s = 2.5  # assigned later, as the parent does
    record.write(path)
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert list(raw) == ["schema_version", "status", "seed", "duration_s"]
    assert raw["schema_version"] == RESULTS_FORMAT
    assert [p.name for p in path.parent.iterdir()] == ["run.json"]  # no temporary left
    assert path.read_text(encoding="utf-8").startswith('{\n  "schema_version": ')


def test_unknown_keys_are_read_without_error_and_never_written(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"status": "ok", "from_the_future": {"a": 1}, "format": 8,
                                "results": [{"name": "f1", "value": 0.5, "source": "x",
                                             "colour": "blue"}]}))
    record = RunRecord.read(path)
    assert record.results[0].split == "unknown"  # the default of a field left out
    written = json.loads(record.to_json())
    assert "from_the_future" not in written and "format" not in written
    assert written["results"] == [{"name": "f1", "value": 0.5, "source": "x"}]


def test_a_child_judgement_that_failed_reads_as_none(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_text('{"status": "ok", "judged": {}}')
    assert RunRecord.read(path).judged is None


# -- (d) a broken file is a portfolio error naming the file --------------------------------
def read_error(tmp_path: Path, text: str) -> CorruptRecord:
    path = tmp_path / "slug" / "run.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CorruptRecord) as caught:
        RunRecord.read(path)
    assert isinstance(caught.value, ResultsError) and caught.value.exit_code == 2
    assert caught.value.path == path
    assert "slug/run.json" in str(caught.value)
    return caught.value


def test_bad_json_names_the_file_line_and_column(tmp_path: Path) -> None:
    error = read_error(tmp_path, '{\n  "status": "ok",\n  "seed": ,\n}\n')
    assert "run.json:3:11: not valid JSON: Expecting value" in str(error)


def test_a_merge_conflict_is_named_as_one(tmp_path: Path) -> None:
    error = read_error(tmp_path, '{\n<<<<<<< HEAD\n  "status": "ok"\n=======\n'
                                 '  "status": "failed"\n>>>>>>> theirs\n}\n')
    assert "run.json:2:1: an unresolved merge conflict" in str(error)


def test_a_record_that_is_no_object_is_refused(tmp_path: Path) -> None:
    assert "expected a JSON object (a run record), found an array" in str(
        read_error(tmp_path, "[1, 2]"))


def test_fields_of_the_wrong_type_are_named_by_their_dotted_path(tmp_path: Path) -> None:
    record = {"status": "finished", "seed": 1,
              "results": [{"name": "acc", "value": 0.9, "source": "x"},
                          {"name": "acc", "value": "high", "source": "x"}],
              "splits": [{"index": 0, "test_fraction": "a fifth"}],
              "fits": [{"index": 0, "epochs": [{"epoch": 0, "loss": "low"}]}],
              "figures": [{"caption": "no path"}]}
    error = read_error(tmp_path, json.dumps(record))
    assert error.problems == [
        "status: input should be 'ok', 'failed', 'timeout', 'killed' or 'diverged' "
        '(got "finished")',
        "splits.0.test_fraction: input should be a valid integer or a valid number "
        '(got "a fifth")',
        "fits.0.epochs.0.loss: input should be a valid number, unable to parse string as a "
        'number (got "low")',
        "results.1.value: input should be a valid number, unable to parse string as a "
        'number (got "high")',
        "figures.0.path: missing",
    ]
    lines = str(error).splitlines()
    assert all("slug/run.json: " in line for line in lines)
    assert "to run the project again" in lines[-1]


def test_an_unreadable_record_is_a_results_error(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match=r"run\.json: cannot be read"):
        RunRecord.read(tmp_path / "run.json")
    (tmp_path / "run.json").write_bytes(b'{"status": "\xff"}')
    with pytest.raises(CorruptRecord, match="not UTF-8"):
        RunRecord.read(tmp_path / "run.json")


# -- (e) what capture really writes loads, whole -------------------------------------------
SKLEARN_SCRIPT = textwrap.dedent('''
    import portfolio
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, classification_report, confusion_matrix
    from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split

    x, y = load_iris(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, random_state=0,
                                                        stratify=y)
    scores = cross_val_score(LogisticRegression(max_iter=200), x_train, y_train, cv=3)
    search = GridSearchCV(LogisticRegression(max_iter=200), {"C": [0.1, 1.0]}, cv=3,
                          scoring=["accuracy", "f1_macro"], refit="accuracy")
    search.fit(x_train, y_train)
    predicted = search.predict(x_test)
    print("Test accuracy:", accuracy_score(y_test, predicted))
    print(classification_report(y_test, predicted))
    confusion_matrix(y_test, predicted)
    print("Score: 0.5")
    portfolio.log_param("C", search.best_params_["C"])
    portfolio.log_baseline("chance", 1 / 3, source="three balanced classes")
    portfolio.note("A *note*.")
''')


@pytest.mark.training
def test_a_record_written_by_capture_loads_whole(tmp_path: Path) -> None:
    out = run_child(SKLEARN_SCRIPT, tmp_path / "project")
    path = out / "run.json"
    record = RunRecord.read(path)
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert json.loads(record.to_json()) == raw  # nothing dropped, nothing changed
    assert record.splits[0].kind == "train_test_split" and record.splits[0].stratified
    assert record.spot_checks[0].metric == "accuracy" and len(record.spot_checks[0].scores) == 3
    [search] = record.searches
    assert search.refit == "accuracy" and [s.name for s in search.scorers] == ["accuracy",
                                                                              "f1_macro"]
    assert record.confusion_matrices[0].split == "test" and record.reports[0].text
    assert any(r.judged and r.name == "accuracy" for r in record.results)
    assert record.judged is not None and record.judged.basis == "held-out"
    assert record.trivial_baseline is not None and record.trivial_baseline.kind == "majority"
    assert record.baselines[0].name == "chance" and record.notes == ["A *note*."]
    assert record.log_anchors  # the child's, for the parent to realign the stamps
    assert record.slug is None and record.input_hash is None  # the parent's, not yet there
    assert math.isclose(record.params["C"], search.best_params["C"])


# -- the child writes it: what does not fit is left out, never the whole run ---------------

def recorder_with(tmp_path: Path) -> Recorder:
    rec = Recorder(out=tmp_path, seed=1, project_dir=tmp_path)
    rec.results.append({"name": "accuracy", "raw_name": "accuracy", "value": 0.9,
                        "source": "keras.evaluate", "split": "test", "judged": True})
    return rec


def test_an_entry_that_does_not_fit_the_record_is_left_out_with_a_warning(
        tmp_path: Path) -> None:
    rec = recorder_with(tmp_path)
    rec.baselines += [{"name": "good", "value": 0.5}, {"name": "bad", "value": "high"}]
    record = rec.record("ok", None)
    assert [b.name for b in record.baselines] == ["good"]  # the other entries stay
    assert [r.name for r in record.results] == ["accuracy"]
    assert any("left out baselines.1" in w for w in record.capture_warnings)
    assert "baselines.1" in (tmp_path / "capture-errors.txt").read_text()


def test_a_key_the_record_does_not_model_is_named_in_a_warning(tmp_path: Path) -> None:
    rec = recorder_with(tmp_path)
    rec.extra["mystery"] = {"a": 1}
    rec.results[0]["unexpected"] = 3
    record = rec.record("ok", None)
    [warning] = [w for w in record.capture_warnings if "not modelled" in w]
    assert "mystery" in warning and "results.0.unexpected" in warning


def test_log_baseline_refuses_a_value_that_is_not_finite(tmp_path: Path) -> None:
    import portfolio
    from portfolio import recorder

    rec = recorder_with(tmp_path)
    recorder.activate(rec)
    try:
        portfolio.log_baseline("persistence", float("nan"))
        portfolio.log_baseline("mean", 2.5, source=2019)
    finally:
        recorder.activate(None)
    record = rec.record("ok", None)
    assert [(b.name, b.source) for b in record.baselines] == [("mean", "2019")]
    assert any("persistence" in w and "not a finite number" in w
               for w in record.capture_warnings)


def test_a_record_of_an_older_format_it_cannot_read_makes_the_project_run_again(
        tmp_path: Path) -> None:
    (tmp_path / "run.json").write_text(json.dumps(
        {"schema_version": 2, "status": "ok", "spot_checks": [{"mean": 0.9}]}))
    assert RunResult.load(tmp_path) is None
    (tmp_path / "run.json").write_text(json.dumps(
        {"schema_version": RESULTS_FORMAT, "status": "ok", "spot_checks": [{"mean": 0.9}]}))
    with pytest.raises(CorruptRecord, match=r"spot_checks\.0\.name"):
        RunResult.load(tmp_path)
