"""The ``project.yaml`` schema: typed, versioned, with errors that point at file:line.

Only ``title`` is required. Every other field has a default a tutorial script can
live with. Validation collects every problem in a file before reporting, and each
problem names the file, the line and column of the key, and the key's dotted path.
"""

from __future__ import annotations

import difflib
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from portfolio import yamlpos
from portfolio.errors import Problem

SCHEMA_VERSION = 1
DEFAULT_TIMEOUT_S = 30 * 60
DEFAULT_SEED = 42
# The live demo's ONNX export and check, timed apart from the script: a model that took
# 14 s to train once failed as "timed out after 30 s" because its export was counted.
DEFAULT_DEMO_TIMEOUT_S = 120
MAX_SEED = 2**32 - 1  # NumPy's legacy seeding takes 0 to 2**32 - 1; more fails in the run


class Task(StrEnum):
    BINARY = "binary-classification"
    MULTICLASS = "multiclass-classification"
    MULTILABEL = "multilabel-classification"
    IMAGE = "image-classification"
    TEXT = "text-classification"
    REGRESSION = "regression"
    FORECASTING = "time-series-forecasting"
    OTHER = "other"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Dataset(_Strict):
    """Where the data comes from, so a reader can judge and cite it."""

    name: StrictStr | None = None
    url: StrictStr | None = None
    license: StrictStr | None = None
    citation: StrictStr | None = None


class Metric(_Strict):
    """The headline metric: the one number the project is judged by."""

    name: StrictStr
    goal: Literal["max", "min"] | None = None


class Baseline(_Strict):
    """A published or reference score the result is compared with."""

    name: StrictStr
    value: float
    source: StrictStr | None = None


class Demo(_Strict):
    """The live demo: ``demo: true`` / ``false``, or ``demo: {timeout: 300}`` to give its
    ONNX export more (or less) than the default 120 s, counted apart from ``timeout``."""

    enabled: bool = True
    timeout: Annotated[float, Field(gt=0)] = DEFAULT_DEMO_TIMEOUT_S

    @model_validator(mode="before")
    @classmethod
    def _from_bool(cls, value: Any) -> Any:
        return {"enabled": value} if isinstance(value, bool) else value

    def __bool__(self) -> bool:  # `if meta.demo` reads as it did when the field was a bool
        return self.enabled


class ProjectMeta(_Strict):
    """Everything ``project.yaml`` may say. Field docs double as the reference."""

    schema_: Annotated[int, Field(alias="schema", ge=1, le=SCHEMA_VERSION)] = SCHEMA_VERSION
    title: StrictStr = Field(min_length=1)
    summary: StrictStr | None = None
    script: StrictStr = "train.py"
    task: Task | None = None
    dataset: Dataset | None = None
    metric: Metric | None = None
    baselines: list[Baseline] = Field(default_factory=list)
    tags: list[StrictStr] = Field(default_factory=list)
    limitations: list[StrictStr] = Field(default_factory=list)
    timeout: Annotated[float, Field(gt=0)] = DEFAULT_TIMEOUT_S
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] = DEFAULT_SEED
    publish_model: bool = True  # false: keep the model off the site (size, licence)
    model_url: StrictStr | None = None  # where the model lives instead, when not published
    # false: no "Try the model" section, and no ONNX export in the run (publish_model: false
    # implies it); {timeout: 300}: the export's own time budget, apart from ``timeout``.
    demo: Demo = Field(default_factory=Demo)
    exclusive: bool = False  # run alone, with every core, never beside another project
    # What a Dask worker must offer to run it (``--executor dask``): ``{GPU: 1}`` places it
    # on a worker started with ``--resources GPU=1``. The local executor ignores it.
    resources: dict[Annotated[StrictStr, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.-]*$")],
                    Annotated[float, Field(gt=0)]] = Field(default_factory=dict)
    data: list[StrictStr] = Field(default_factory=list)  # data files hashed even if git-ignored
    # Environment variables the script needs beyond the default policy (their names only;
    # the values come from the environment portfolio runs in).
    env: list[Annotated[StrictStr, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]] = Field(
        default_factory=list)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("title")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @property
    def demo_wanted(self) -> bool:
        """Whether a run exports its model for the demo: not when the demo is off, nor when
        the model is kept off the site (the demo would publish it)."""
        return self.demo.enabled and self.publish_model

    def training_fields(self) -> dict[str, Any]:
        """The fields that change what a run produces (presentation-only ones excluded)."""
        fields: dict[str, Any] = {"script": self.script, "seed": self.seed,
                                  "data": list(self.data)}
        if self.env:  # only when set: projects without it keep their input hash
            fields["env"] = sorted(self.env)
        return fields


# Where a key is unknown, suggest from the keys allowed at that level.
_KEYS_AT: dict[tuple[str, ...], list[str]] = {
    (): [f.alias or name for name, f in ProjectMeta.model_fields.items()],
    ("dataset",): list(Dataset.model_fields),
    ("metric",): list(Metric.model_fields),
    ("baselines",): list(Baseline.model_fields),
    ("demo",): list(Demo.model_fields),
}


def parse(path: Path, text: str | None = None) -> tuple[ProjectMeta | None, list[Problem]]:
    """Validate one ``project.yaml``; return the metadata or every problem found."""
    try:
        doc = yamlpos.load(yamlpos.read(path) if text is None else text)
    except yamlpos.YAMLSyntaxError as exc:
        pos = exc.position
        return None, [Problem(path, pos.line, pos.column, "", exc.message)]

    problems = [
        Problem(path, pos.line, pos.column, dotted(key_path), "duplicate key")
        for key_path, pos in doc.duplicates
    ]
    data = doc.data
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return None, [*problems, Problem(path, 1, 1, "", "expected a mapping of keys to values")]

    try:
        meta = ProjectMeta.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            pos = doc.where(loc)
            problems.append(Problem(path, pos.line, pos.column, dotted(loc), _message(error)))
        return None, sorted(problems, key=lambda p: (p.line, p.column))
    return (None, problems) if problems else (meta, [])


def dotted(loc: tuple[str | int, ...]) -> str:
    """``("baselines", 0, "value")`` → ``baselines[0].value``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _message(error: dict[str, Any]) -> str:
    kind, ctx, loc = error["type"], error.get("ctx") or {}, error["loc"]
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        level = tuple(p for p in loc[:-1] if isinstance(p, str))
        close = difflib.get_close_matches(str(loc[-1]), _KEYS_AT.get(level, []), n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return f"unknown key{hint}"
    if kind == "model_type" and loc == ("demo",):
        return (f"expected true, false or a mapping such as {{timeout: 300}}, got "
                f"{_type_name(error.get('input'))}")
    if kind in ("greater_than_equal", "less_than_equal") and loc == ("seed",):
        return f"expected a whole number from 0 to {MAX_SEED} (2**32 - 1)"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind == "string_too_short":
        return "must not be blank"
    if kind in ("literal_error", "enum"):
        message = f"expected {ctx.get('expected', 'one of the allowed values')}"
        if kind == "enum" and isinstance(error.get("input"), str):
            close = difflib.get_close_matches(error["input"], [t.value for t in Task], n=1)
            message += f"; did you mean '{close[0]}'?" if close else ""
        return message
    if kind in ("string_type", "model_type", "dict_type", "list_type", "float_type", "int_type",
                "float_parsing", "int_parsing", "int_from_float"):
        wanted = {"string_type": "a string", "model_type": "a mapping", "dict_type": "a mapping",
                  "list_type": "a list"}.get(kind, "a number")
        if kind.startswith("int"):
            wanted = "a whole number"
        return f"expected {wanted}, got {_type_name(error.get('input'))}"
    return str(error["msg"][0].lower() + error["msg"][1:])


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)
