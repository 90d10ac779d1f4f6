"""What ``portfolio check`` suggests beyond what is wrong: the gaps a reader of the site
would notice, each with the line that fills it.

None of these is an error: a portfolio without a dataset card still builds. But a site
still named after its folder, a project with no summary, no dataset card or no story, and
a headline no better than always giving the same answer are what a hiring manager sees
first, so ``check`` names them, with the file and the line to add.
"""

from __future__ import annotations

from portfolio import config, notebook, yamlpos
from portfolio.domain import ProjectState, Workspace, trivial_for
from portfolio.errors import display


def for_portfolio(ws: Workspace, states: list[ProjectState]) -> list[str]:
    """One line of advice per gap, the site's first, then each project's in order."""
    lines = _site_name(ws)
    for state in states:
        lines += _project(state)
    return lines


def _site_name(ws: Workspace) -> list[str]:
    name = config.load_mkdocs_yml(ws.mkdocs_yml).get("site_name")
    if str(name).strip() != ws.root.name:
        return []
    pos = yamlpos.position_of(ws.mkdocs_yml, ("site_name",))
    return [f"{display(ws.mkdocs_yml)}:{pos.line}: site_name is still the folder's name "
            f"'{name}': it titles every page and link preview; write your own, e.g. "
            "'site_name: Ada Lovelace, deep-learning portfolio'"]


def _project(state: ProjectState) -> list[str]:
    project, meta = state.project, state.project.meta
    where = display(project.metadata_file)
    lines = []
    if not meta.summary:
        lines.append(f"{where}: no summary, the sentence on the project's card: add a line "
                     "such as 'summary: Predicts <what> from <which data>.'")
    if meta.dataset is None:
        lines.append(f"{where}: no dataset card, so the page cannot say where the data comes "
                     "from: add 'dataset: {name: ..., url: ..., license: ..., citation: ...}'")
    readme = project.folder / "README.md"
    if not readme.is_file() and not notebook.is_notebook(project.script):
        lines.append(f"{display(readme)}: missing, so the page has no story of yours: write "
                     "the question in a sentence, then '## Data' and '## Results' sections "
                     "(they land under the matching steps)")
    headline = state.good.headline(meta) if state.good else None
    trivial = trivial_for(state.good.run, headline) if state.good and headline else None
    if headline and trivial and not headline.beats(trivial.value):
        lines.append(f"{display(project.folder)}: the headline, {headline.brief()}, is no "
                     f"better than its trivial baseline ({trivial.name}: "
                     f"{trivial.value:.4g}); the page says so in red: train longer, scale the "
                     "inputs, or check the labels before sharing it")
    return lines
