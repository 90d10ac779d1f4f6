"""Is the metric a project declares one it measures?

``metric: {name: acuracy}`` used to be read, matched against nothing, and quietly replaced
by the most telling score the run had: the page showed accuracy, the owner believed their
choice was honoured. A declared name that no run reports is an error, located at
``metric.name`` in ``project.yaml``, with a "did you mean" from the names the run reported.

Before a run there is nothing to compare with, so the name is held against the metric
names portfolio knows instead (``accuracy``, ``val_rmse``, ``dice_coef``): a script may
be about to report a metric it has never reported before, and a build must be able to run
it. Once its run is the project's current one, only what the run reported counts.
"""

from __future__ import annotations

import difflib

from portfolio import schema, yamlpos
from portfolio.domain import Project, ProjectState, RunResult
from portfolio.errors import MetadataError, Problem
from portfolio.metricnames import KNOWN_NAMES, canonical, known_metric


def reported(run: RunResult) -> list[str]:
    """Every metric name the run reported, canonical, in the order first met: its results
    on any data, the cross-validated scorers (``neg_`` dropped) and the fit's columns
    (``val_`` dropped)."""
    names = [*run.metrics, *(r.name for r in run.run.results if r.value is not None)]
    names += [str(c.metric).removeprefix("neg_") for c in run.run.spot_checks if c.metric]
    for fit in run.run.fits:
        for row in fit.epochs[-1:]:
            names += [k.removeprefix("val_") for k in row.model_dump() if k != "epoch"]
    return list(dict.fromkeys(canonical(n) for n in names if n))


def problem(project: Project, run: RunResult | None, current: bool) -> Problem | None:
    """The declared metric's problem, if any. ``run`` is the project's last good run;
    ``current``: it is the run of the project's inputs as they are (fresh, or just run),
    so a name it did not report will not appear without a change."""
    if project.meta.metric is None:
        return None
    name = project.meta.metric.name
    keys = ("metric", "name")
    bare = name.removeprefix("val_").removeprefix("neg_")
    if bare != name:  # the headline's data is capture's to tell; its name is the metric's
        pos = yamlpos.position_of(project.metadata_file, keys)
        return Problem(project.metadata_file, pos.line, pos.column, schema.dotted(keys),
                       f"'{name}': name the metric alone, '{bare}' (which data a score was "
                       "measured on, and which way is better, the page says itself)")
    names = reported(run) if run is not None else []
    if name in names or canonical(name) in names:
        return None
    strict = current and run is not None
    if not strict and known_metric(name):
        return None  # the coming run may report it; judged again once it has
    pos = yamlpos.position_of(project.metadata_file, keys)
    if strict:
        why = (f"'{name}' is not a metric the last run reported{_close(name, names)}; it "
               f"reported: {', '.join(names) or 'no metric'}")
    else:
        hint = _close(name, [*names, *KNOWN_NAMES])
        why = (f"'{name}' is not a metric name portfolio knows{hint}; a name the run "
               "reports is accepted once it has run")
    return Problem(project.metadata_file, pos.line, pos.column, schema.dotted(keys), why)


def _close(name: str, names: list[str]) -> str:
    close = difflib.get_close_matches(canonical(name), names, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def check(states: list[ProjectState], current: set[str]) -> None:
    """Raise every project's declared-metric problem at once; ``current``: the slugs whose
    last good run is that of their inputs as they are."""
    found = [p for s in states
             if (p := problem(s.project, s.good, s.project.slug in current)) is not None]
    if found:
        raise MetadataError(found)
