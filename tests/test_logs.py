"""Reading a script's output: a legible log and the results it printed."""

from __future__ import annotations

import pytest
from portfolio import logs


def test_clean_collapses_progress_bar_redraws() -> None:
    raw = ("Epoch 1/2\n 1/13 [>....] - loss: 0.9\r 7/13 [==>..] - loss: 0.6"
           "\r13/13 [=====] - loss: 0.4\nabc\b\bxy\n\x1b[1mbold\x1b[0m\n")
    assert logs.clean(raw).splitlines() == [
        "Epoch 1/2", "13/13 [=====] - loss: 0.4", "axy", "bold"]


@pytest.mark.parametrize(("line", "name", "value", "baseline"), [
    ("Accuracy: 85.20", "accuracy", 0.852, None),
    ("Test RMSE: 0.123 (persistence 0.160)", "rmse", 0.123, ("persistence", 0.16)),
    ("test accuracy = 0.91", "accuracy", 0.91, None),
    ("Test accuracy: 97.5%", "accuracy", 0.975, None),
    ("The F1 score is 0.75", "f1", 0.75, None),
    ("MAE: 3.2 (std 0.4)", "mae", 3.2, None),
])
def test_printed_results_are_read(line: str, name: str, value: float, baseline: tuple | None
                                  ) -> None:
    [printed] = logs.printed_results(f"loading\n{line}\n")
    assert (printed.name, printed.value, printed.line) == (name, pytest.approx(value), 2)
    assert printed.baseline == (None if baseline is None else
                                (baseline[0], pytest.approx(baseline[1])))


@pytest.mark.parametrize("line", [
    "13/13 - 0s - accuracy: 0.97 - loss: 0.1",
    "val_loss: 0.3",
    "validation accuracy: 0.938",
    "train accuracy: 0.99",
    "spot-check persistence: RMSE 32.90",
    "Epoch 3/30",
    "width 16: 0.93",
])
def test_lines_that_are_not_held_out_results_are_ignored(line: str) -> None:
    assert logs.printed_results(line) == []
