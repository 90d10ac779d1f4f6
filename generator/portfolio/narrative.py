"""A project's own ``README.md``, split into its sections and placed under the five steps.

The narrative is the owner's Markdown and is passed through as written (it may hold
HTML); every other field on a page is escaped. A ``## Data`` section in the README lands
under the page's Data step, a ``## Tuning`` one under Improve results, and a section
that matches no step is kept, after the results, under its own heading. The README's
``###`` sub-headings stay ``###``: under the page's ``##`` steps they keep their level.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

STEPS = ("problem", "data", "evaluate", "improve", "results", "limitations")
_KEYWORDS = {
    "problem": ("problem", "define", "goal", "motivation", "task", "objective", "why"),
    "data": ("data", "dataset", "prepare", "preparation", "preprocessing", "features"),
    "evaluate": ("evaluate", "spot", "algorithm", "baseline", "compare", "comparison"),
    "improve": ("improve", "tuning", "tune", "hyper", "search", "ensemble"),
    "results": ("result", "present", "conclusion", "discussion", "finding", "performance"),
    "limitations": ("limitation", "caveat", "risk", "bias", "future"),
}
_HEADING = re.compile(r"^(#{1,2})\s+(.+?)\s*#*\s*$")


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


def read(folder: Path) -> Narrative:
    """Split ``folder/README.md``; the first ``# Title`` is dropped (the page has one)."""
    path = folder / "README.md"
    narrative = Narrative()
    if not path.is_file():
        return narrative
    current: str | None = None
    chunks: dict[str | None, list[str]] = {None: []}
    order: list[str] = []
    fenced = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        match = None if fenced else _HEADING.match(line)
        if match and match[1] == "#" and current is None and not "".join(chunks[None]).strip():
            continue  # the README's own title
        if match:
            current = match[2]
            order.append(current)
            chunks[current] = []
            continue
        chunks[current].append(line)
    narrative.intro = "\n".join(chunks[None]).strip()
    for heading in order:
        body = "\n".join(chunks[heading]).strip()
        step = step_of(heading)
        if step and not narrative.steps[step]:
            narrative.steps[step] = body
        elif step:
            narrative.steps[step] += f"\n\n### {heading}\n\n{body}"
        else:
            narrative.other.append((heading, body))
    return narrative
