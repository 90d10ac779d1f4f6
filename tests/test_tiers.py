"""The guard that keeps ``make test-fast`` fast: an unmarked test that starts a Python
process fails, naming it; a marked one, or one that only calls git, passes."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

SUITE = '''
import subprocess, sys
import pytest

def test_unmarked_starts_python():
    subprocess.run([sys.executable, "-c", "pass"], check=True)

@pytest.mark.cli
def test_marked_starts_python():
    subprocess.run([sys.executable, "-c", "pass"], check=True)

def test_unmarked_calls_git():
    subprocess.run(["git", "--version"], check=True, capture_output=True)
'''


@pytest.mark.cli  # the suite below starts Python, as its tests are meant to
def test_an_unmarked_test_that_starts_python_fails_naming_what_it_started(
        pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=SUITE)
    pytester.makeini("[pytest]\nmarkers =\n    cli: starts a process\n")
    result = pytester.runpytest_inprocess("-p", "tests.tiers")
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(["*a test with no cost marker started '*python* -c pass'*"])
    assert "test_unmarked_starts_python" in result.stdout.str()
