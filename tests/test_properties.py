"""Property tests: validation never fails in any way but its own, and the input hash
changes exactly when a training input changes."""

from __future__ import annotations

import string
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from portfolio import plan, schema
from portfolio.discover import discover
from portfolio.domain import Workspace
from portfolio.errors import MetadataError

KEYS = ["schema", "title", "summary", "script", "task", "dataset", "metric", "baselines",
        "tags", "limitations", "timeout", "seed", "exclusive", "data", "titel", "metrik"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=True), st.text(max_size=20))
NESTED_KEYS = [*KEYS, "name", "value", "goal", "url"]
FIXTURE_OK = [HealthCheck.function_scoped_fixture]  # each example writes its own files
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(NESTED_KEYS), inner, max_size=3)), max_leaves=8)
valid = st.fixed_dictionaries(
    {"title": st.text(min_size=1, max_size=30).filter(str.strip)},  # a blank title is refused
    optional={"summary": st.text(max_size=40), "seed": st.integers(0, 2**31),
              "timeout": st.floats(1, 1e5), "tags": st.lists(st.text(max_size=10), max_size=3),
              "task": st.sampled_from([t.value for t in schema.Task]),
              "metric": st.fixed_dictionaries({"name": st.text(min_size=1, max_size=10)},
                                              optional={"goal": st.sampled_from(["max", "min"])}),
              "baselines": st.lists(st.fixed_dictionaries(
                  {"name": st.text(min_size=1, max_size=10), "value": st.floats(-1e6, 1e6)}),
                  max_size=2)})


def check(tmp_path: Path, text: str) -> None:
    """parse() returns metadata or located problems: never raises anything else."""
    path = tmp_path / "project.yaml"
    meta, problems = schema.parse(path, text)
    assert (meta is None) == bool(problems)
    for problem in problems:
        assert problem.file == path and problem.line >= 1 and problem.column >= 1
        assert str(problem).startswith(f"{path}:{problem.line}:{problem.column}: ")


@settings(max_examples=150, deadline=None, suppress_health_check=FIXTURE_OK)
@given(doc=valid)
def test_valid_documents_are_accepted(tmp_path: Path, doc: dict) -> None:
    meta, problems = schema.parse(tmp_path / "project.yaml", yaml.safe_dump(doc))
    assert problems == [] and meta is not None and meta.title == doc["title"]


@settings(max_examples=300, deadline=None, suppress_health_check=FIXTURE_OK)
@given(doc=st.dictionaries(st.sampled_from(KEYS), values, max_size=6))
def test_mutated_documents_give_located_problems(tmp_path: Path, doc: dict) -> None:
    check(tmp_path, yaml.safe_dump(doc, allow_unicode=True))


@settings(max_examples=300, deadline=None, suppress_health_check=FIXTURE_OK)
@given(text=st.text(alphabet=string.printable + "äé—\t", max_size=120))
def test_random_text_gives_located_problems(tmp_path: Path, text: str) -> None:
    check(tmp_path, text)


@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURE_OK)
@given(text=st.text(max_size=60))
def test_discover_raises_only_its_own_error(tmp_path: Path, text: str) -> None:
    folder = tmp_path / "projects" / "p"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.py").write_text("")
    (folder / "project.yaml").write_text(text, encoding="utf-8")
    try:
        discover(Workspace(tmp_path))
    except MetadataError as exc:
        assert all(p.file == folder / "project.yaml" for p in exc.problems)


edits = st.lists(st.tuples(
    st.sampled_from(["train.py", "data.csv", "README.md", "project.yaml:summary",
                     "project.yaml:seed", "project.yaml:tags", ".hidden", "__pycache__/x.pyc"]),
    st.binary(max_size=8)), min_size=1, max_size=6)
TRAINING = {"train.py", "data.csv", "project.yaml:seed"}


def seed_of(content: bytes) -> int:
    """A valid seed (0 to 2**32 - 1) from up to four bytes."""
    return int.from_bytes(content[:4] or b"\0", "big")


@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURE_OK)
@given(changes=edits)
def test_hash_changes_exactly_when_a_training_input_changes(tmp_path: Path,
                                                             changes: list) -> None:
    root = tmp_path / "ws"
    folder = root / "projects" / "p"
    (folder / "__pycache__").mkdir(parents=True, exist_ok=True)
    state = {"train.py": b"print(1)", "data.csv": b"a", "README.md": b"# p", ".hidden": b"",
             "__pycache__/x.pyc": b"", "project.yaml:summary": b"s",
             "project.yaml:seed": b"1", "project.yaml:tags": b"t"}

    def write() -> str:
        for name, content in state.items():
            if not name.startswith("project.yaml"):
                (folder / name).write_bytes(content)
        seed = seed_of(state["project.yaml:seed"])
        (folder / "project.yaml").write_text(
            f"title: p\nsummary: {state['project.yaml:summary'].hex()!r}\nseed: {seed}\n"
            f"tags: [{state['project.yaml:tags'].hex()!r}]\n")
        [project] = discover(Workspace(root))
        return plan.inputs_of(project, root).digest

    before = write()
    changed_training = False
    for name, content in changes:
        if name == "project.yaml:seed":
            changed_training |= seed_of(content) != seed_of(state[name])
        elif name in TRAINING:
            changed_training |= content != state[name]
        state[name] = content
    assert (write() != before) == changed_training
