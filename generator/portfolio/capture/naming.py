"""Readable names for estimators, the way the script itself names them.

Tutorials label their spot-checks: ``models.append(("LR", LogisticRegression()))`` or
``{"k-NN": KNeighborsClassifier()}`` and loop over them. The label the reader sees in
the script is the one the page should show, so we look for the estimator in the
caller's variables before falling back to its class (a pipeline's last step).
"""

from __future__ import annotations

import sys
from typing import Any

# Variable names that say nothing about which model it is.
_GENERIC = {"model", "estimator", "clf", "reg", "pipe", "pipeline", "m", "est", "candidate",
            "search", "grid", "self"}
_LIBRARY_PREFIXES = ("portfolio", "sklearn", "joblib", "functools", "numpy", "scipy", "runpy")
# Loop variables that hold a label: `for name, model in models.items():`.
_LABELS = ("name", "label", "model_name", "estimator_name", "key", "title")


def _user_frame() -> Any:
    frame = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if not module.startswith(_LIBRARY_PREFIXES):
            return frame
        frame = frame.f_back
    return None


def _from_collections(scope: dict[str, Any], estimator: Any) -> str | None:
    for value in list(scope.values()):
        if isinstance(value, dict) and "__name__" in value:
            continue  # a module's namespace: its keys are variable names, not labels
        if isinstance(value, dict):
            for key, item in value.items():
                if item is estimator and isinstance(key, str):
                    return key
        elif isinstance(value, list | tuple):
            for item in value:
                if (isinstance(item, tuple) and len(item) == 2 and item[1] is estimator
                        and isinstance(item[0], str)):
                    return item[0]
    return None


def class_name(estimator: Any) -> str:
    """The class, or for a pipeline the class of its last step."""
    steps = getattr(estimator, "steps", None)
    if steps:
        return class_name(steps[-1][1])
    return type(estimator).__name__


def describe(estimator: Any) -> str:
    """What the estimator is: its class, or for a pipeline its last step's class and the
    steps before it (``LogisticRegression, after StandardScaler``), never ``Pipeline``."""
    steps = getattr(estimator, "steps", None)
    if not steps:
        return type(estimator).__name__
    before = [describe(step) for _, step in steps[:-1]
              if step is not None and step != "passthrough"]
    last = describe(steps[-1][1])
    return f"{last}, after {_and(before)}" if before else last


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def names(estimator: Any, depth: int = 4) -> dict[str, str]:
    """``name``: the script's label, else the description; ``description``: :func:`describe`.

    Called from a capture wrapper, so the script's frame is found up the stack."""
    description = describe(estimator)
    return {"name": script_label(estimator, depth) or description, "description": description}


def estimator_name(estimator: Any, depth: int = 4) -> str:
    """The script's label for ``estimator``, its variable name, or its class name."""
    return script_label(estimator, depth) or class_name(estimator)


def script_label(estimator: Any, depth: int = 4) -> str | None:
    """The script's label for ``estimator`` or its variable name; None when it has none.

    A pipeline is looked up as itself and as its last step, since scripts often wrap a
    labelled model in ``make_pipeline(StandardScaler(), model)`` at the call.
    """
    steps = getattr(estimator, "steps", None)
    wanted = [estimator] + ([steps[-1][1]] if steps else [])
    frame = _user_frame()
    for _ in range(depth):
        if frame is None or frame.f_globals.get("__name__", "").startswith(_LIBRARY_PREFIXES):
            break
        scopes = [frame.f_locals] + ([frame.f_globals] if frame.f_globals is not frame.f_locals
                                     else [])
        for target in wanted:
            for scope in scopes:
                label = _from_collections(scope, target)
                if label:
                    return label
        for target in wanted:
            for scope in scopes:
                names = [k for k, v in list(scope.items()) if v is target]
                if not names:
                    continue
                specific = [n for n in names if n not in _GENERIC and not n.startswith("_")]
                if specific:
                    return specific[0]
                label = next((scope[k] for k in _LABELS if isinstance(scope.get(k), str)), None)
                if label:  # a loop over an unnamed collection of (label, model) pairs
                    return label
        frame = frame.f_back
    return None


def model_name(rec: Any, model: Any) -> str:
    """A Keras model as the script calls it: its variable (``dnn_model``) or its label in
    a collection, else Keras' own name (``sequential_3``). Looked up once per model: the
    ledger keeps the name it was first given."""
    known = rec.ledger.label_of(model)
    if known is not None:
        return known
    return script_label(model) or str(getattr(model, "name", type(model).__name__))
