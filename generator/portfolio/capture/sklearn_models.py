"""scikit-learn estimators: what each was fitted on, what it predicted, what it scored.

scikit-learn has no single ``fit`` to wrap: every estimator class defines its own. So
the ``fit``, ``predict`` and ``score`` each class defines are wrapped where they are
defined: on the classes that exist when ``sklearn.base`` is first imported (all of them,
in a warm worker that preloaded scikit-learn) and on every class defined later, through
``BaseEstimator.__init_subclass__``. Methods scikit-learn exposes conditionally
(``available_if``, as a pipeline's ``predict``) keep their descriptor; only the function
inside is wrapped, so ``hasattr`` answers as before.

Only outermost calls count: a pipeline fitting its steps or a search fitting its
candidates is scikit-learn's business (the depth is shared with the other capturers).
``score`` is a result like ``accuracy_score``; the ledger decides later whether it was
measured on data the estimator was fitted on.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

from portfolio.capture import Capturer, guarded
from portfolio.capture.naming import estimator_name
from portfolio.capture.sklearn_capture import _Nesting
from portfolio.recorder import Recorder, as_float

_WRAPPED = "__portfolio_wrapped__"


class SklearnEstimatorCapture(Capturer):
    name = "scikit-learn estimators"
    trigger = "sklearn.base"

    def install(self, rec: Recorder) -> None:
        from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

        def patch(cls: type) -> None:
            # The class and the mixins it inherits from: LogisticRegression's predict is
            # LinearClassifierMixin's, a class that is no estimator of its own.
            for owner in cls.__mro__[:-1]:
                for method, record in (("fit", _fitted), ("predict", _predicted),
                                       ("predict_proba", _predicted),
                                       ("decision_function", _predicted), ("score", _scored)):
                    _patch(rec, owner, method, record)

        for cls in (*_subclasses(BaseEstimator), ClassifierMixin, RegressorMixin):
            patch(cls)
        inherited = BaseEstimator.__dict__.get("__init_subclass__")

        def __init_subclass__(cls: type, **kwargs: Any) -> None:  # noqa: N807
            if inherited is not None:
                inherited.__func__(cls, **kwargs)
            else:
                super(BaseEstimator, cls).__init_subclass__(**kwargs)
            patch(cls)

        BaseEstimator.__init_subclass__ = classmethod(__init_subclass__)


def _subclasses(cls: type) -> list[type]:
    found, stack = [], [cls]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in found:
                found.append(sub)
                stack.append(sub)
    return [cls, *found]


def _patch(rec: Recorder, cls: type, method: str, record: Any) -> None:
    """Wrap ``cls.<method>`` where ``cls`` defines it (a function, or the function inside
    an ``available_if`` descriptor)."""
    attribute = cls.__dict__.get(method)
    if attribute is None:
        return
    if inspect.isfunction(attribute) and not getattr(attribute, _WRAPPED, False):
        setattr(cls, method, _wrapper(rec, attribute, method, record))
    elif (inspect.isfunction(getattr(attribute, "fn", None))  # available_if's descriptor
          and not getattr(attribute.fn, _WRAPPED, False)):
        attribute.fn = _wrapper(rec, attribute.fn, method, record)


def _wrapper(rec: Recorder, original: Any, method: str, record: Any) -> Any:
    signature = inspect.signature(original)

    @functools.wraps(original)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _Nesting.depth:
            return original(self, *args, **kwargs)
        _Nesting.depth += 1
        try:
            result = original(self, *args, **kwargs)
        finally:
            _Nesting.depth -= 1
        guarded(rec, f"{type(self).__name__}.{method}", lambda: record(
            rec, self, _arguments(signature, self, args, kwargs), result))
        return result

    setattr(wrapper, _WRAPPED, True)
    return wrapper


def _arguments(signature: inspect.Signature, model: Any, args: tuple, kwargs: dict) -> list:
    """The data arguments (X, then y) however they were passed."""
    try:
        bound = signature.bind(model, *args, **kwargs)
    except TypeError:
        return [*args[:2]]
    names = [n for n in signature.parameters if n != "self"]
    return [bound.arguments.get(n) for n in names[:2]]


def _fitted(rec: Recorder, model: Any, data: list, result: Any) -> None:
    x = data[0] if data else None
    y = data[1] if len(data) > 1 else None
    rec.ledger.trained(model, estimator_name(model), "sklearn", x, y)


def _predicted(rec: Recorder, model: Any, data: list, result: Any) -> None:
    rec.ledger.predicted(model, estimator_name(model), "sklearn", data[0] if data else None,
                         result)


def _scored(rec: Recorder, model: Any, data: list, result: Any) -> None:
    """``clf.score(X_test, y_test)``: accuracy for a classifier, R² for a regressor."""
    from sklearn.base import is_classifier, is_regressor

    value = as_float(result)
    if value is None or len(data) < 2:
        return
    metric = "accuracy" if is_classifier(model) else "r2" if is_regressor(model) else "score"
    entry = rec.add_result(metric, value, f"{type(model).__name__}.score")
    rec.ledger.scored([entry], model, estimator_name(model), "sklearn", data[0], data[1])
