"""One exception hierarchy for everything portfolio reports to its user.

The CLI catches :class:`PortfolioError` and prints ``str(error)`` with no
traceback, exiting with ``error.exit_code``: 0 all good, 1 a project failed, 2 bad input
(or another build holds the lock), 3 the site did not build. Anything else escaping the CLI is a
bug in portfolio, and deserves its traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

EXIT_OK = 0
EXIT_PROJECT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_SITE_FAILED = 3  # the runs were kept, but the site engine could not build the pages


class PortfolioError(Exception):
    """Base class: a problem the user can act on."""

    exit_code = EXIT_BAD_INPUT


@dataclass(frozen=True)
class Problem:
    """One located problem in a user's file: ``file:line:col: key: message``."""

    file: Path
    line: int
    column: int
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{display(self.file)}:{self.line}:{self.column}"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


def display(path: Path) -> str:
    """Show paths relative to the working directory when they are inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class InputError(PortfolioError):
    """Bad input (metadata, configuration, arguments): exit code 2."""

    exit_code = EXIT_BAD_INPUT


class MetadataError(InputError):
    """One or more problems in ``project.yaml`` files, all reported at once."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class ConfigError(InputError):
    """A problem with ``mkdocs.yml`` or the repository layout."""


class ResultsError(InputError):
    """A ``results/`` (or ``.build/``, ``site/``) path that cannot be read or written as it
    is: named, with what to do, before anything runs, so the last good results stay."""


class CorruptRecord(ResultsError):
    """A run record (``run.json``) that is not one: not JSON, or a field of the wrong type.
    The message names the file and where (line:column, or each field's dotted path);
    ``problems`` lists the fields (``results.3.value: input should be a valid number``)."""

    def __init__(self, path: Path, problems: list[str], message: str) -> None:
        self.path = path
        self.problems = problems
        super().__init__(message)


class ProjectNotFound(InputError):
    """A slug given on the command line names no project."""


class BuildLocked(PortfolioError):
    """Another build is running in the same repository."""

    exit_code = EXIT_BAD_INPUT


class ProjectsFailed(PortfolioError):
    """One or more projects' scripts failed: exit code 1."""

    exit_code = EXIT_PROJECT_FAILED


class SiteBuildError(PortfolioError):
    """The site engine refused to build the rendered pages (a warning in strict mode, an
    error in a theme override): exit code 3. Results are kept; ``site/`` is as it was."""

    exit_code = EXIT_SITE_FAILED
