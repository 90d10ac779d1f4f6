"""Figure captions that tell figures apart: a helper that shows every figure of a script
from one line of its own is captioned by the line that called it (issue 24)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.conftest import run_child, run_record

HELPER_SCRIPT = textwrap.dedent('''
    import matplotlib.pyplot as plt
    import numpy as np


    def plot_history(values):
        plt.plot(values)
        plt.show()


    def plot_loss(values):
        plt.plot(values)
        plt.title("Loss")
        plt.show()


    plot_history(np.arange(4))
    plot_history(np.arange(4) ** 2)
    plot_history(np.ones(4))
    plot_loss(np.arange(4))
    plot_loss(np.ones(4))
''')


@pytest.fixture(scope="module")
def helped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_child(HELPER_SCRIPT, tmp_path_factory.mktemp("helped") / "project")


def line_of(code: str) -> int:
    return HELPER_SCRIPT.splitlines().index(code) + 1


@pytest.mark.training
def test_untitled_figures_shown_by_one_helper_name_the_line_that_called_it(
        helped: Path) -> None:
    captions = [f["caption"] for f in run_record(helped)["figures"]][:3]
    show = line_of("    plt.show()")
    assert captions == [
        f"Figure shown at train.py:{show} in plot_history(), called from "
        f"train.py:{line_of(call)} ({call})"
        for call in ("plot_history(np.arange(4))", "plot_history(np.arange(4) ** 2)",
                     "plot_history(np.ones(4))")]


@pytest.mark.training
def test_figures_with_one_title_are_told_apart_by_their_call_sites(helped: Path) -> None:
    captions = [f["caption"] for f in run_record(helped)["figures"]][3:]
    call = "plot_loss(np.ones(4))"
    assert captions == ["Loss", f"Loss, shown from train.py:{line_of(call)} ({call})"]
