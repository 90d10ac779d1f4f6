"""A project's own ``README.md`` (and a notebook's Markdown cells), split into its
sections and placed under the five steps.

The narrative is the owner's Markdown and is passed through as written (it may hold
HTML); every other field on a page is escaped. A ``## Data`` section in the README lands
under the page's Data step, a ``## Tuning`` one under Improve results, and a section
that matches no step is kept, after the results, under its own heading. The README's
``###`` sub-headings stay ``###``: under the page's ``##`` steps they keep their level.
Headings are found by a CommonMark parser (markdown-it-py), so setext headings
(``Data`` over ``----``) count and nothing inside a code fence, however nested, does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from markdown_it import MarkdownIt

from portfolio import notebook, yamlpos
from portfolio.errors import MetadataError, Problem

STEPS = ("problem", "data", "evaluate", "improve", "results", "limitations")
_KEYWORDS = {
    "problem": ("problem", "define", "goal", "motivation", "task", "objective", "why"),
    "data": ("data", "dataset", "prepare", "preparation", "preprocessing", "features"),
    "evaluate": ("evaluate", "spot", "algorithm", "baseline", "compare", "comparison"),
    "improve": ("improve", "tuning", "tune", "hyper", "search", "ensemble"),
    "results": ("result", "present", "conclusion", "discussion", "finding", "performance"),
    "limitations": ("limitation", "caveat", "risk", "bias", "future"),
}


@dataclass
class Narrative:
    intro: str = ""
    steps: dict[str, str] = field(default_factory=lambda: dict.fromkeys(STEPS, ""))
    other: list[tuple[str, str]] = field(default_factory=list)  # (heading, body)


def step_of(heading: str) -> str | None:
    words = re.findall(r"[a-z]+", heading.lower())
    for step in STEPS:
        if any(word.startswith(keyword) for word in words for keyword in _KEYWORDS[step]):
            return step
    return None


def read(folder: Path, script: Path | None = None) -> Narrative:
    """Split ``folder/README.md``: the first ``# Title`` is dropped (the page has one), a
    section that matches no step is kept under its own heading. A notebook ``script``'s
    Markdown cells are split the same way and added: their sections that match a step go
    to it, the rest (a notebook's "Imports", "Train the model") to the introduction, in
    the order a reader of the notebook met them. The notebook's licence and copyright
    notices come last, under their own heading: attribution, not the story, and never
    before the Problem."""
    path = folder / "README.md"
    narrative = _split(_text(path, folder.parent.parent)) if path.is_file() else Narrative()
    if script is not None and notebook.is_notebook(script) and script.is_file():
        prose = notebook.prose(script)
        cells = _split(prose.narrative)
        parts = [narrative.intro, cells.intro,
                 *(f"### {heading}\n\n{body}" for heading, body in cells.other)]
        narrative.intro = "\n\n".join(part for part in parts if part.strip())
        for step, body in cells.steps.items():
            if body:
                narrative.steps[step] = "\n\n".join(
                    part for part in (narrative.steps[step], body) if part)
        if prose.licence:
            narrative.other.append(("Licence", prose.licence))
    return narrative


def _split(text: str) -> Narrative:
    narrative = Narrative()
    if not text.strip():
        return narrative
    lines = text.splitlines()
    # Top-level h1 and h2 headings (not in a quote or a list): (first line, line after, text).
    tokens = MarkdownIt("commonmark").parse(text)
    headings = [(token.map[0], token.map[1], tokens[index + 1].content, token.tag)
                for index, token in enumerate(tokens)
                if token.type == "heading_open" and token.level == 0 and token.map
                and token.tag in ("h1", "h2")]
    intro = 0
    if headings and headings[0][3] == "h1" and not "\n".join(lines[:headings[0][0]]).strip():
        intro = headings.pop(0)[1]  # the README's own title
    starts = [start for start, *_ in headings] + [len(lines)]
    narrative.intro = "\n".join(lines[intro:starts[0]]).strip()
    for (_, after, heading, _), end in zip(headings, starts[1:], strict=True):
        body = "\n".join(lines[after:end]).strip()
        step = step_of(heading)
        if step and not narrative.steps[step]:
            narrative.steps[step] = body
        elif step:
            narrative.steps[step] += f"\n\n### {heading}\n\n{body}"
        else:
            narrative.other.append((heading, body))
    return narrative


def _text(path: Path, root: Path) -> str:
    """The README's text; one located problem if it is not UTF-8 or is too big to be one, or
    if it is a link to a file outside the repository ``root``: its text would be published,
    and a clone of the repository (CI's) has only the link."""
    target = path.resolve()
    if not target.is_relative_to(root.resolve()):
        raise MetadataError([Problem(path, 1, 1, "", (
            f"a link to {target}, outside the repository: the site publishes nothing from "
            "outside it; copy the file into the repository instead of linking to it"))])
    try:
        # Windows editors save UTF-8 with a byte-order mark; left in, it is a character
        # before the "#" and the README's title is read as a paragraph.
        return yamlpos.read(path).removeprefix("\ufeff")
    except yamlpos.YAMLSyntaxError as exc:
        pos = exc.position
        raise MetadataError([Problem(path, pos.line, pos.column, "", exc.message)]) from None
