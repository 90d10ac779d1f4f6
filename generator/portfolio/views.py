"""What the page templates see: projects and runs turned into display-ready values.

Formatting rules live here, once: which metrics read as percentages, how a score is
compared with a baseline, what a failure notice says, every sentence and table cell.
Templates only lay them out. A value the page shows is escaped by :func:`text`, as every
template value is; a sentence that carries its own HTML or Markdown (``<code>``, a link)
is built by :func:`markup`, which escapes each value in it the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from portfolio import caches, narrative, notebook, publiclog
from portfolio.demopage import DemoView, demo_view
from portfolio.domain import Headline, Project, ProjectState, RunResult, trivial_for
from portfolio.metricnames import canonical, is_fraction_metric, lower_is_better
from portfolio.printed import clean
from portfolio.record import (
    Architecture,
    Baseline,
    Fit,
    Hardware,
    Judged,
    Result,
    RunRecord,
    Search,
    Split,
    SpotCheck,
)
from portfolio.results import SCRIPT_COPY, slugify
from portfolio.schema import Dataset

_LOG_TAIL_LINES = 40
_ON_PAR_POINTS = 0.5  # percentage points within which two fractions are "on par"
_ON_PAR_RELATIVE = 0.02  # relative difference within which two other scores are


# Characters that mean something to Markdown (or to HTML). A value from project.yaml, a
# log or a metric name is written with these as numeric entities: it reads the same in
# Markdown text, in a table cell, inside raw HTML and in an attribute, and can never open a
# link, an image, a tag or a table column.
_ENTITIES = {c: f"&#{ord(c)};" for c in "&<>\"'\\`*_{}[]()#+!|~:="}
_ESCAPES = str.maketrans(_ENTITIES)  # str.translate: every page value goes through it
_LINE_START = "-+=>#0123456789"  # a list, heading or quote when they start a line


def text(value: object) -> Markup:
    """Any value as inert text, for both the Markdown and the HTML that carry it."""
    if isinstance(value, Markup):
        return value
    raw = "" if value is None else str(value)
    escaped = raw.translate(_ESCAPES)
    if raw and raw[0] in _LINE_START and raw[0] not in _ENTITIES:
        escaped = f"&#{ord(raw[0])};{escaped[1:]}"
    return Markup(escaped)


def markup(words: str, *values: object) -> Markup:
    """A sentence whose own words may be HTML or Markdown, each ``{}`` a value escaped by
    :func:`text` (a value that is already markup is kept): ``markup("<code>{}</code>
    over {}", kind, count)``."""
    return Markup(words.format(*(text(value) for value in values)))


def joined(items: list[Markup], separator: str = ", ") -> Markup:
    """Pieces of markup, one after the other: ``a, b, c``."""
    return Markup(separator).join(items)


def counted(number: int, noun: str, plural: str = "") -> str:
    """'1 configuration', '6 configurations'; '3 processes' with ``plural``."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


def three_places(value: float | None) -> str:
    """A cross-validated score as scikit-learn users read it: '0.912'; '–' when missing."""
    return "–" if value is None else f"{value:.3f}"


def direction(goal: str) -> str:
    """'higher' (is better) for a metric to maximise, else 'lower'."""
    return "higher" if goal == "max" else "lower"


def is_fraction(name: str, value: float) -> bool:
    return 0.0 <= value <= 1.0 and is_fraction_metric(name)


def fmt(name: str, value: float | None) -> str:
    if value is None:
        return "–"
    if is_fraction(name, value):
        return f"{value * 100:.1f}%"
    return f"{value:.4g}"


def compare(name: str, score: float, baseline: float, goal: str) -> tuple[str, bool]:
    """``("+2.1 pts", True)``: the difference as a reader says it, and whether it is better."""
    better = score > baseline if goal == "max" else score < baseline
    if abs(score - baseline) < 1e-12:
        return "on par", True
    if is_fraction(name, score) and is_fraction(name, baseline):
        return f"{(score - baseline) * 100:+.1f} pts", better
    if baseline:
        relative = abs(score - baseline) / abs(baseline) * 100
        word = "lower" if score < baseline else "higher"
        return f"{score - baseline:+.4g} ({relative:.0f}% {word})", better
    return f"{score - baseline:+.4g}", better


def on_par(name: str, score: float, baseline: float) -> bool:
    if is_fraction(name, score) and is_fraction(name, baseline):
        return abs(score - baseline) * 100 < _ON_PAR_POINTS
    return abs(score - baseline) <= _ON_PAR_RELATIVE * max(abs(baseline), 1e-12)


@dataclass
class BaselineView:
    name: str
    value: str
    source: str | None
    difference: str
    better: bool
    raw: float
    trivial: bool = False
    on_par: bool = False

    @property
    def standing(self) -> str:
        """How the model stands against this baseline: 'on par', 'better' or 'worse'."""
        return "on par" if self.on_par else "better" if self.better else "worse"

    @property
    def verdict(self) -> Markup:
        """'+31.6 pts, better': the difference and what it means."""
        return markup("{}, {}", self.difference, self.standing)


@dataclass
class FigureView:
    path: str
    caption: str
    kind: str
    full_path: str | None = None  # a large figure's full-size image, linked from the page
    width: int | None = None  # the image's own size: the page reserves its box before it
    height: int | None = None  # loads (no layout shift), and CSS scales it down

    @property
    def size_attributes(self) -> Markup:
        if not self.width or not self.height:
            return Markup("")
        return Markup(f' width="{int(self.width)}" height="{int(self.height)}"')


CARD_IMAGE = "card.png"  # beside a project's page: its thumbnail, card-sized
CARD_WIDTH = 480  # pixels: twice a card's width on a phone, for sharp screens


# The most pixels a figure may have to be drawn for the site or shown on a page: Pillow's
# own limit for an image it trusts (its Image.MAX_IMAGE_PIXELS; twice this it refuses to
# open one, which crashed the build). Capture saves none over 4,000 × 4,000 pixels, so a
# larger one in results/ was made by hand, or by an older portfolio.
MAX_FIGURE_PIXELS = 89_478_485


def oversized(path: Path) -> str | None:
    """Why the PNG ``path`` is left off the page (its header names more pixels than
    MAX_FIGURE_PIXELS: drawing it would take gigabytes, and so would a visitor's
    browser), else None."""
    width, height = image_size(path)
    if not width or not height or width * height <= MAX_FIGURE_PIXELS:
        return None
    return (f"{path.parent.name}/{path.name} is {width:,} × {height:,} pixels "
            f"({width * height / 1e6:,.0f} MP), over the {MAX_FIGURE_PIXELS / 1e6:.0f} MP "
            "a page shows: left off the page")


def _figures(good: RunResult) -> tuple[list[FigureView], list[str]]:
    """The run's figures for the page, with their sizes, and why any was left off."""
    shown, notes = [], []
    for f in good.figures:
        why = oversized(good.folder / f.path)
        if why is not None:
            notes.append(why)
            continue
        full_path = f.full_path
        if full_path and (why := oversized(good.folder / full_path)) is not None:
            notes.append(why)
            full_path = None
        shown.append(FigureView(f.path, f.caption, f.kind, full_path,
                                *image_size(good.folder / f.path)))
    return shown, notes


def image_size(path: Path) -> tuple[int | None, int | None]:
    """A PNG's width and height from its header (no image library in the parent); (None,
    None) for another format or a file that cannot be read."""
    try:
        with path.open("rb") as fh:
            head = fh.read(24)
    except OSError:
        return None, None
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None, None
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


@dataclass
class ComparisonTable:
    """Every model the script scored on test data, side by side: rows are models,
    columns are splits (one metric) or metrics (one split)."""

    caption: str
    columns: list[str]
    rows: list[tuple[str, list[str]]]  # (label, cells)


@dataclass
class Row:
    """One labelled row of a two-column table (Reproduce): the value is plain text, or
    markup whose values are already escaped."""

    label: str
    value: str


@dataclass
class BaselineRow:
    """A row of the baselines table: the baseline, its score, how this model compares."""

    name: str
    score: str
    versus: str
    source: str


@dataclass
class SpotCheckRow:
    """A row of the spot-check table: 'logistic regression — LogisticRegression (best)'."""

    algorithm: str
    mean: str
    std: str
    folds: str
    scoring: str


@dataclass
class SearchRow:
    """A configuration a hyperparameter search ranked: 'C=1, kernel=rbf'."""

    rank: str
    configuration: str
    mean: str
    std: str


@dataclass
class SearchView:
    """One hyperparameter search as the page tells it: what was searched and the best
    found, each scorer's best (a multi-metric search), its top configurations and the
    space it searched (as JSON)."""

    sentence: str
    scorers_sentence: str
    rows: list[SearchRow]
    space: str


@dataclass
class ResultsPageRow:
    """A project's row on the results page: each cell, and the number a column sorts by."""

    dataset: str
    metric: str
    score: str
    score_value: str
    trivial: str
    trivial_value: str
    reference: str
    reference_value: str
    difference: str
    difference_value: str


@dataclass
class ProjectView:
    slug: str
    title: str
    summary: str
    tags: list[str]
    task: str | None
    dataset: Dataset | None
    status: str
    headline: Headline | None
    score_text: str
    headline_text: str
    metrics: list[tuple[str, str]]
    baselines: list[BaselineView]
    figures: list[FigureView]
    model_file: str | None
    model_url: str | None
    model_size: str | None
    architecture: Architecture | None
    run: RunRecord | None  # the good run's record; None when there is none
    failure: dict[str, Any] | None
    script: str
    script_href: str  # the copy of the script that ran, beside the page (else the project's)
    story: narrative.Narrative = field(default_factory=narrative.Narrative)
    # Why the results shown are not of the files as they are now (the live preview's
    # banner: "train.py changed"); empty when they are, and in a built site.
    stale: str = ""
    limitations: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    raw_metrics: dict[str, float] = field(default_factory=dict)
    libraries: list[str] = field(default_factory=list)
    judged: Judged | None = None
    capture_warnings: list[str] = field(default_factory=list)
    printed_lines: list[str] = field(default_factory=list)  # printed values naming no metric
    left_running: list[str] = field(default_factory=list)  # "command (pid N)", stopped
    demo: DemoView | None = None  # the "Try the model" section

    @property
    def description(self) -> str:
        """One sentence for search engines and link previews: the summary, or the score."""
        if self.summary:
            return self.summary
        if self.headline:
            return f"{self.title}: {self.score_sentence}"
        return self.title

    @property
    def score_sentence(self) -> str:
        """The headline as a sentence that says what it was measured on: '98.1% accuracy
        on held-out data: +88.1 pts over …'; '76.8% training accuracy; no held-out data
        was set aside.'"""
        return f"{self.score_text} {self.score_rest}" if self.headline else ""

    @property
    def score_rest(self) -> str:
        """The score sentence after the number, which the page sets in bold."""
        headline = self.headline
        if headline is None:
            return ""
        if headline.basis == "train":
            return f"training {headline.name}; no held-out data was set aside."
        tail = f": {self.comparison}" if self.comparison else ""
        return f"{headline.name} on {headline.measured_on}{tail}."

    @property
    def card_text(self) -> str:
        """What a home card says about the result: the headline, or why there is none."""
        if self.headline:
            return self.headline_text
        if self.ambiguous and self.run:
            tested = [r for r in self.run.results if r.split == "test"]
            models = len({r.model for r in tested})
            splits = len({r.split_index for r in tested})
            where = f" on {splits} splits" if splits > 1 else ""
            return f"{models} models compared{where}; no single headline"
        compared = self._compared_on_training
        if compared:
            return f"{compared} models compared on their training data; no single headline"
        return ""

    @property
    def _compared_on_training(self) -> int:
        """How many models the script scored on their training data, when it scored
        several and none on held-out data (0 otherwise)."""
        if self.headline or not self.run or self.ambiguous:
            return 0
        models = len({r.model or r.where for r in self.run.results
                      if r.split == "train" and r.value is not None})
        return models if models > 1 else 0

    @property
    def card_rest(self) -> str:
        """What follows the card's bold headline: ', +31.6 pts over majority class'."""
        return markup(", {}", self.comparison) if self.card_text and self.comparison else ""

    @property
    def preview_text(self) -> tuple[str, str]:
        """The link preview's big line and the smaller one under it: short enough for
        a 1200-pixel image, with what the number was measured on."""
        if self.headline and self.headline.basis == "train":
            return (f"{self.score_text} training {self.headline.name}",
                    "no held-out data was set aside")
        if self.headline:
            return self.headline_text, self.comparison
        first, _, rest = self.card_text.partition(";")
        return first, rest.strip()

    @property
    def key_facts(self) -> str:
        """'Image classification · Optical digits · CNN · 28,714 parameters'."""
        parts = [self.task_name.capitalize(),
                 self.dataset.name if self.dataset and self.dataset.name else "",
                 ", ".join(self.architectures),
                 f"{self.architecture.parameters:,} parameters"
                 if self.architecture and self.architecture.parameters is not None
                 else ""]
        return " · ".join(part for part in parts if part)

    @property
    def ambiguous(self) -> bool:
        """Several models were scored on test data and none is the project's."""
        return self.judged is not None and self.judged.basis == "ambiguous"

    @property
    def no_held_out_title(self) -> str:
        return "No single headline" if self.ambiguous or self._compared_on_training \
            else "No held-out result"

    @property
    def no_held_out(self) -> str | None:
        """Why the page has no held-out result, when it has none (None when it has one)."""
        if self.headline and self.headline.basis == "held-out":
            return None
        if self.ambiguous and self.judged:
            return (f"No single result is this project's: {self.judged.why}, and none "
                    "of them is the final model. They are compared in the Results section.")
        if self.headline and self.headline.basis == "train":
            return ("This project has no held-out result: the script scored its model on the "
                    "data it was trained on, which says how well it fits, not how well it "
                    "predicts data it has not seen. Set aside a test split (for example with "
                    "train_test_split) and evaluate on it.")
        if self._compared_on_training:
            return (f"The script scored {self._compared_on_training} models on the data they "
                    "were trained on, which says how well each fits, not how well it predicts "
                    "data it has not seen; none was scored on held-out data. They are ranked "
                    "in the Results section.")
        if self.headline and self.headline.basis == "validation":
            return ("This project's score was measured on validation data: data the model "
                    f"did not train on, but which steered its training ({self._steered}), "
                    "so it is a little optimistic. Set aside a test split that nothing "
                    "but the final evaluation touches.")
        if self.headline and self.headline.basis == "unverified":
            return (f"This project's score could not be verified as held-out: "
                    f"{self._unverified_why}.")
        return None

    @property
    def _steered(self) -> str:
        loaded = self.run.loaded_checkpoint if self.run else None
        if loaded and loaded.save_best_only and loaded.monitor:
            return f"the checkpoint reloaded was the one with the best {loaded.monitor}"
        return "it is what fit reported after each epoch, and what a script tunes against"

    @property
    def _unverified_why(self) -> str:
        """The reason capture gave for the headline's own result, never a generic one."""
        headline = self.headline
        found = [r for r in (self.run.results if self.run else [])
                 if headline and r.name == headline.name and r.split in ("unknown", "printed")
                 and r.value == headline.value]
        result = found[-1] if found else None
        if result is None or result.split == "printed" or result.source == "output":
            return "the script printed it, and capture could not match it to a measured score"
        return result.evidence or "capture could not tell which data it was measured on"

    @property
    def no_metrics(self) -> str:
        """Why a page of a run that ended well shows no result, when it has neither a
        headline nor a comparison of models ('' otherwise)."""
        if not self.run or self.headline or self.comparison_table:
            return ""
        return markup("The last run (on {}) finished without an error but recorded no held-out "
                      "metric and no cross-validated score: the script never called "
                      "<code>evaluate</code>, a scikit-learn score, <code>cross_val_score</code> "
                      "or <code>portfolio.log_metric</code>, and printed no score.",
                      self.run_date)

    @property
    def run_date(self) -> str:
        """The day the shown run started: '2026-11-28'."""
        return (self.run.started or "")[:10] if self.run else ""

    @property
    def task_name(self) -> str:
        """'binary classification' for ``binary-classification``."""
        return self.task.replace("-", " ") if self.task else ""

    @property
    def judged_by(self) -> str:
        """'accuracy on held-out data, higher is better'."""
        if self.headline is None:
            return ""
        return markup("{} on {}, {} is better", self.headline.name, self.headline.measured_on,
                      direction(self.headline.goal))

    @property
    def dataset_name(self) -> str:
        return self.dataset.name if self.dataset and self.dataset.name else "–"

    # -- figures --------------------------------------------------------------------------
    def figures_of(self, kind: str) -> list[FigureView]:
        return [f for f in self.figures if f.kind == kind]

    @property
    def learning_curve(self) -> FigureView | None:
        return next(iter(self.figures_of("learning-curve")), None)

    @property
    def spot_check_figures(self) -> list[FigureView]:
        return self.figures_of("spot-check")

    @property
    def own_figures(self) -> list[FigureView]:
        return self.figures_of("figure")

    @property
    def architecture_figures(self) -> list[FigureView]:
        """The pictures ``keras.utils.plot_model`` drew, shown above the summary."""
        return self.figures_of("architecture")

    @property
    def thumbnail(self) -> FigureView | None:
        """The project's own first figure (a forecast, a confusion matrix) says more on a
        card than a learning curve, which is the fallback."""
        return next(iter(self.own_figures), None) or self.learning_curve

    @property
    def card(self) -> FigureView | None:
        """The thumbnail as the home page's card shows it: a copy at most CARD_WIDTH
        pixels wide (render.py draws it as card.png) for a PNG whose size is known."""
        figure = self.thumbnail
        if figure is None or not figure.width or not figure.height \
                or not figure.path.endswith(".png"):
            return figure
        width = min(CARD_WIDTH, figure.width)
        return FigureView(CARD_IMAGE, figure.caption, figure.kind, None, width,
                          max(1, round(figure.height * width / figure.width)))

    @property
    def thumbnail_alt(self) -> str:
        return (self.thumbnail.caption if self.thumbnail else "") or self.title

    def figure_alt(self, figure: FigureView) -> str:
        """A figure's text for those who cannot see it: its caption, else whose it is."""
        return figure.caption or f"Figure from {self.title}"

    # -- baselines ------------------------------------------------------------------------
    @property
    def trivial_baseline(self) -> BaselineView | None:
        return next((b for b in self.baselines if b.trivial), None)

    @property
    def reference(self) -> BaselineView | None:
        """The strongest declared or logged baseline: the one a result must be measured by."""
        others = [b for b in self.baselines if not b.trivial]
        if not others or self.headline is None:
            return None
        pick = max if self.headline.goal == "max" else min
        return pick(others, key=lambda b: b.raw)

    @property
    def best_baseline(self) -> BaselineView | None:
        if not self.baselines or self.headline is None:
            return None
        pick = max if self.headline.goal == "max" else min
        return pick(self.baselines, key=lambda b: b.raw)

    @property
    def baselines_caption(self) -> str:
        """'Compared with its baselines on accuracy:'."""
        words = "Compared with its baseline" + ("" if len(self.baselines) == 1 else "s")
        if self.headline is None:
            return Markup(f"{words}:")
        return markup(words + " on {}:", self.headline.name)

    @property
    def baseline_rows(self) -> list[BaselineRow]:
        """The baselines table; with no headline there is nothing to compare them with."""
        return [BaselineRow(markup("{} (trivial)", b.name) if b.trivial else b.name, b.value,
                            b.verdict if self.headline else "–", b.source or "–")
                for b in self.baselines]

    @property
    def no_trivial(self) -> str:
        """Why the headline has no trivial baseline beside it, when it has none: a result
        means something next to one, so its absence is said, never left silent."""
        headline, run = self.headline, self.run
        if headline is None or run is None or self.trivial_baseline is not None:
            return ""
        metric = canonical(headline.name)
        scored = [b for b in run.trivial_baselines if b.metrics]
        if scored and not any(metric in b.metrics for b in scored):
            why = f"a constant prediction has no meaningful {headline.name}"
        elif headline.basis == "cv":
            why = "the cross-validation's folds could not be drawn again for it"
        else:
            why = ("capture could not score a constant prediction on this score's targets "
                   "(they have several values per sample, or the script never passed them)")
        return (f"No trivial baseline is shown for this {headline.name}: {why}. Compare it "
                "with the published references instead, or log one with "
                "portfolio.log_baseline.")

    @property
    def trivial_beats(self) -> str:
        """The warning when the trivial baseline scores better than the model ('' when it
        does not)."""
        baseline, headline = self.trivial_baseline, self.headline
        if baseline is None or headline is None or headline.beats(baseline.raw):
            return ""
        where = ("the test part of the same split" if headline.basis == "held-out"
                 else f"the same data ({headline.measured_on})")
        return markup("{} scores {} {} on {}; this model scores {}.", baseline.name,
                      baseline.value, headline.name, where, self.score_text)

    @property
    def results_page_row(self) -> ResultsPageRow:
        """This project on the results page: its score beside the trivial baseline and
        the reference, each cell with the raw number the column sorts by."""
        headline, trivial, reference = self.headline, self.trivial_baseline, self.reference
        score = self.score_text
        if headline:  # the data it was measured on, in words, held-out data included
            score = markup("{} <small>({})</small>", score, headline.measured_on)
        return ResultsPageRow(
            dataset=self.dataset_name,
            metric=markup("{} ({} is better)", headline.name, direction(headline.goal))
            if headline else "–",
            score=score,
            score_value=str(headline.value) if headline else "",
            trivial=markup("{} ({})", trivial.value, trivial.name) if trivial else "–",
            trivial_value=str(trivial.raw) if trivial else "",
            reference=markup("{} ({})", reference.value, reference.name) if reference else "–",
            reference_value=str(reference.raw) if reference else "",
            difference=reference.verdict if reference else "–",
            difference_value=str(headline.value - reference.raw)
            if reference and headline else "")

    @property
    def comparison(self) -> str:
        """'+31.6 pts over majority class, on par with the UCI reference'."""
        phrases = []
        for baseline in (self.trivial_baseline, self.reference):
            if baseline is None:
                continue
            name = baseline.name
            if baseline.on_par:
                phrases.append(f"on par with {name}")
            elif baseline.better:
                phrases.append(f"{baseline.difference} over {name}")
            else:
                phrases.append(f"{baseline.difference} vs {name}")
        return ", ".join(phrases)

    # -- the five steps -------------------------------------------------------------------
    @property
    def split(self) -> Split | None:
        """The split the project's results were measured on; else the script's first."""
        if not self.run:
            return None
        judged = [r.split_index for r in self.run.results if r.judged]
        index = judged[-1] if judged and judged[-1] is not None else 0
        return next((s for s in self.run.splits if s.index == index), None)

    @property
    def split_sentence(self) -> str:
        """How the data was split, in one sentence built from what capture saw."""
        split = self.split
        if not split:
            return ""
        features = split.shapes[0].train if split.shapes else None
        shape = f" (inputs {'×'.join(str(n) for n in features)})" if features else ""
        if split.kind == "directory":
            return self._folders_sentence
        if split.kind == "validation":
            if split.validation_split:
                total = (split.train_size or 0) + (split.validation_size or 0)
                kept = (f"fit kept the last {split.validation_split:.0%} of the {total} "
                        f"training samples ({split.validation_size}) apart for validation")
            else:
                kept = (f"fit was given {split.validation_size} validation samples beside "
                        f"its {split.train_size} training samples")
            return (f"No test data was set aside: {kept}{shape}, and the scores below were "
                    "measured on them.")
        if split.kind == "arrays":
            text = (f"The script split the data itself (by index, by file or by time): "
                    f"{split.train_size} training and {split.test_size} test "
                    f"samples were given to fit and evaluate{shape}.")
        else:
            stratified = ", stratified by class" if split.stratified else ""
            text = (f"Split with train_test_split: {split.train_size} training and "
                    f"{split.test_size} test samples{stratified}{shape}.")
        splits = self.run.splits if self.run else []
        if len(splits) > 1 and self.ambiguous:
            text = (f"The script split its data {len(splits)} times; the comparison under "
                    f"Results has a column for each. The first: {text[0].lower()}{text[1:]}")
        if split.validation_split:
            size = split.validation_size
            count = f" ({size} samples)" if size else ""
            text += (f" fit kept the last {split.validation_split:.0%} of the training "
                     f"samples{count} apart for validation.")
        return text

    @property
    def _folders_sentence(self) -> str:
        """'Read from folders: aclImdb/train/, 2,000 files in 2 classes (neg, pos), the
        80% for training; …' — every ``*_dataset_from_directory`` call, in order."""
        parts = []
        for split in (s for s in (self.run.splits if self.run else [])
                      if s.kind == "directory"):
            files = f"{split.files:,} files" if split.files else "files"
            classes = (f" in {len(split.classes)} classes ({', '.join(split.classes[:6])}"
                       f"{', …' if len(split.classes) > 6 else ''})" if split.classes else "")
            share = split.validation_split
            subset = ""
            if split.subset in ("training", "validation") and share:
                kept = 1 - share if split.subset == "training" else share
                subset = f", the {kept:.0%} kept for {split.subset}"
            parts.append(f"{split.directory}/ ({files}{classes}{subset})")
        return "Read from folders, one per class: " + "; ".join(parts) + "."

    @property
    def class_balance(self) -> list[tuple[str, str, str]]:
        balance = self.split.class_balance if self.split else None
        if not balance:
            return []
        rows = []
        for part, counts in (("train", balance.train), ("test", balance.test)):
            total = sum(counts.values()) or 1
            rows.append((part, ", ".join(f"{label}: {count} ({count / total:.0%})"
                                         for label, count in counts.items()), str(total)))
        return rows

    @property
    def spot_checks(self) -> list[SpotCheck]:
        """Spot-checks, best mean first (scikit-learn scorers are all higher-is-better)."""
        checks = [c for c in (self.run.spot_checks if self.run else []) if c.mean is not None]
        return sorted(checks, key=lambda c: -(c.mean or 0.0))

    @property
    def spot_check_rows(self) -> list[SpotCheckRow]:
        """The algorithms, best first, then the trivial estimator on the same folds (once
        per distinct one: checks of one dataset share it)."""
        rows = [spot_check_row(check, best=i == 0) for i, check in enumerate(self.spot_checks)]
        shown: set[tuple[Any, ...]] = set()
        for check in self.spot_checks:
            dummy = check.baseline
            key = (dummy.name, dummy.mean, check.scoring) if dummy else None
            if dummy is None or key in shown:
                continue
            shown.add(key)
            rows.append(SpotCheckRow(markup("{} (trivial, on the same folds)", dummy.name),
                                     three_places(dummy.mean), three_places(dummy.std),
                                     str(len(dummy.scores)), check.scoring or ""))
        return rows

    @property
    def searches(self) -> list[Search]:
        return list(self.run.searches) if self.run else []

    @property
    def search_views(self) -> list[SearchView]:
        return [search_view(search) for search in self.searches]

    @property
    def final_fits(self) -> list[Fit]:
        fits = self.run.fits if self.run else []
        return [f for f in fits if f.model_index == fits[-1].model_index]

    @property
    def training_sentences(self) -> list[str]:
        """One sentence per fit of the final model: 'Training: 40 of 40 epochs, batch
        size 32, Adam (learning rate 0.001), 28,714 trainable parameters. Early stopping
        on val_loss (patience 5) stopped at epoch 31; the weights of epoch 26 were kept.'"""
        return [training_sentence(f, first=i == 0) for i, f in enumerate(self.final_fits)]

    @property
    def confusion(self) -> dict[str, Any] | None:
        """The last confusion matrix on held-out data, else the last one, with a caption
        that says which data it was drawn on."""
        matrices = self.run.confusion_matrices if self.run else []
        held_out = [m for m in matrices if m.split == "test"]
        matrix = (held_out or matrices or [None])[-1]
        if matrix is None:
            return None
        where = _SPLIT_WORDS.get(matrix.split, "data not verified as held-out")
        return {"labels": matrix.labels,
                "caption": f"Confusion matrix on {where} (rows: true class, columns: predicted)",
                "rows": list(zip(matrix.labels, matrix.matrix, strict=False))}

    @property
    def report(self) -> str | None:
        reports = self.run.reports if self.run else []
        held_out = [r for r in reports if r.split == "test"]
        report = (held_out or reports or [None])[-1]
        if report is None or not report.text:
            return None
        where = _SPLIT_WORDS.get(report.split, "data not verified as held-out")
        return f"On {where}:\n\n{report.text}"

    @property
    def result_caption(self) -> str:
        if self.raw_metrics:
            return "Held-out test metrics:"
        basis = self.headline.basis if self.headline else None
        return {"train": "Scores on the training data (not held out):",
                "validation": "Scores on the validation data (not held out):",
                "unverified": "Scores not verified as held-out:"}.get(basis, "")

    @property
    def result_rows(self) -> list[tuple[str, str, str]]:
        """(metric, score, how it was measured) for the results table: the project's
        held-out results, else its training or unverified ones; printed values say so."""
        results = self.run.results if self.run else []
        if self.raw_metrics:
            sources = {r.name: r for r in results if r.judged}
            return [(name, fmt(name, value), _how(sources.get(name)))
                    for name, value in self.raw_metrics.items()]
        basis = self.headline.basis if self.headline else None
        splits = {"train": ("train",), "validation": ("validation",),
                  "unverified": ("unknown", "printed")}.get(basis, ())
        latest = {r.name: r for r in results if r.split in splits and r.value is not None}
        if not latest and basis == "validation" and self.final_fits:  # fit's own scores
            last = self.final_fits[-1].epochs[-1].model_dump()
            return [(canonical(k.removeprefix("val_")), fmt(canonical(k.removeprefix("val_")),
                                                           float(v)),
                     f"fit's validation pass after epoch {len(self.final_fits[-1].epochs)}")
                    for k, v in last.items() if k.startswith("val_") and v is not None]
        return [(name, fmt(name, float(r.value or 0.0)), _how(r)) for name, r in latest.items()]

    @property
    def overlap_note(self) -> str:
        """'62% of the test rows also appear in the training data: …' when the headline's
        held-out rows equal training rows by value (never their lineage); '' otherwise."""
        judged = [r for r in (self.run.results if self.run else [])
                  if r.judged and r.overlap is not None]
        if not judged or not self.headline or self.headline.basis != "held-out":
            return ""
        share = max(r.overlap or 0.0 for r in judged)
        return (f"{share:.0%} of the test rows also appear in the training data, value for "
                "value. The data repeats its rows (few distinct values), so these are "
                "other samples that happen to look alike, and the score stays a test score; "
                "capture could not see where the rows came from to be sure.")

    @property
    def comparison_table(self) -> ComparisonTable | None:
        return comparison_table(self.run) if self.run else None

    @property
    def reloaded_checkpoint(self) -> str:
        """Which checkpoint the published (and evaluated) model is, as a sentence; '' when
        the script evaluated the model it had just trained."""
        loaded = self.run.loaded_checkpoint if self.run else None
        if not loaded or not loaded.published:
            return ""
        if loaded.epoch is None:
            return (f"The published model is {loaded.path}, reloaded before evaluation "
                    f"(with {loaded.how or 'load_model'}).")
        why = f" (best {loaded.monitor})" if loaded.save_best_only and loaded.monitor else ""
        return (f"The published model is the checkpoint of epoch {loaded.epoch + 1}{why}, "
                f"reloaded before evaluation.")

    @property
    def printed_text(self) -> str:
        """The printed lines that name no metric, as they were printed."""
        return "\n".join(self.printed_lines)

    @property
    def architecture_line(self) -> str:
        """'Sequential, 641 parameters'."""
        architecture = self.architecture
        if architecture is None:
            return ""
        if architecture.parameters is None:
            return architecture.class_ or ""
        return markup("{}, {} parameters", architecture.class_, f"{architecture.parameters:,}")

    @property
    def reproduce_rows(self) -> list[Row]:
        """What the run was, under the Reproduce heading: seed, when, how long, the library
        versions, the machine, the inputs' hash and the files beside the page."""
        run = self.run
        if run is None:
            return []
        hardware = run.hardware or Hardware()
        files = [Markup("[log](log.txt)")]
        if self.model_file:
            files.append(markup("[model ({})]({})", self.model_size, self.model_file))
        files += [Markup("[metrics.json](metrics.json)"),
                  Markup("[model-index.yaml](model-index.yaml)")]
        return [
            Row("Seed", text(run.seed)),
            Row("Started", text(run.started)),
            Row("Duration", "–" if run.duration_s is None else f"{run.duration_s:.1f} s"),
            Row("Versions", joined([markup("{} {}", library, version)
                                    for library, version in run.versions.items()])),
            Row("Hardware", "–" if run.hardware is None else markup(
                "{} × {} ({})", hardware.cpus, hardware.processor, hardware.system)),
            *self._placement_rows(),
            Row("Input hash", markup("<code>{}</code>", (run.input_hash or "")[:16])),
            Row("Files", joined(files, " · ")),
        ]

    def _placement_rows(self) -> list[Row]:
        """Where it trained, when that was a Dask worker: its GPUs say what it ran on (the
        worker's address stays in run.json; the page has no use for it)."""
        placement = self.run.placement if self.run else None
        if placement is None or placement.executor != "dask":
            return []
        gpus = joined([text(g) for g in placement.gpus]) if placement.gpus else "none"
        return [Row("Trained on", markup("a Dask worker; GPUs: {}", gpus))]

    @property
    def left_running_sentence(self) -> str:
        """'The script left 2 processes running when it ended, stopped by portfolio: …'."""
        if not self.left_running:
            return ""
        return markup("The script left {} running when it ended, stopped by portfolio: {}.",
                      counted(len(self.left_running), "process", "processes"),
                      joined([markup("<code>{}</code>", p) for p in self.left_running]))

    @property
    def hosted_model_url(self) -> str | None:
        """The owner's link to the trained model, when the site does not carry it."""
        return self.model_url if not self.model_file else None

    @property
    def architectures(self) -> list[str]:
        return architecture_labels(self.architecture.layers if self.architecture else [])

    def model_index(self) -> dict[str, Any]:
        """A Hugging Face style ``model-index`` block for machines that read model cards."""
        metrics = [{"type": canonical(name), "value": value, "name": f"Test {name}"}
                   for name, value in self.raw_metrics.items()]
        result: dict[str, Any] = {"metrics": metrics}
        if self.task:
            result["task"] = {"type": self.task, "name": self.task.replace("-", " ")}
        if self.dataset and self.dataset.name:
            result["dataset"] = {"name": self.dataset.name,
                                 "type": slugify(self.dataset.name, "dataset")}
        return {"model-index": [{"name": self.slug, "results": [result]}]}


# Libraries a reader would list on a CV, by the top-level module a script imports.
_LIBRARIES = {"keras": "Keras", "tensorflow": "TensorFlow", "sklearn": "scikit-learn",
              "pandas": "pandas", "statsmodels": "statsmodels", "seaborn": "seaborn",
              "xgboost": "XGBoost", "lightgbm": "LightGBM", "torch": "PyTorch", "jax": "JAX",
              "scipy": "SciPy", "transformers": "Transformers"}


def libraries_of(folder: Path, root: Path | None = None,
                 imports: caches.Imports | None = None) -> list[str]:
    """The libraries a project's own code imports (read from its source, not from what
    happened to be loaded: scikit-learn loads SciPy, which no reader would credit). Its own
    code is what its inputs hash covers: never a ``.venv`` or git-ignored folder in it."""
    from portfolio.plan import source_files

    imports = imports or caches.Imports()
    found: list[str] = []
    root = folder.parent.parent if root is None else root  # <root>/projects/<slug>
    for path in (p for p in source_files(folder, root) if p.suffix in (".py", ".ipynb")):
        try:
            source = notebook.python_source(path).encode() if notebook.is_notebook(path) \
                else path.read_bytes()
        except OSError:
            continue
        names = imports.of(source)
        for name in names:
            label = _LIBRARIES.get(name.split(".")[0])
            if label and label not in found:
                found.append(label)
    return found


def architecture_labels(layers: list[str]) -> list[str]:
    """Layer classes to the names a CV uses: Conv2D → CNN, LSTM, Dense only → MLP."""
    labels = []
    rules = (("Conv", "CNN"), ("LSTM", "LSTM"), ("GRU", "GRU"), ("SimpleRNN", "RNN"),
             ("MultiHeadAttention", "Transformer"), ("Embedding", "Embeddings"))
    for token, label in rules:
        if any(token in layer for layer in layers) and label not in labels:
            labels.append(label)
    if not labels and "Dense" in layers:
        labels.append("MLP")
    return labels


_SPLIT_WORDS = {"test": "the test data", "train": "the training data",
                "validation": "the validation data", "mixed": "data that is partly training data",
                "cv": "cross-validation folds"}


def _how(result: Result | None) -> str:
    """How a result was measured, as the results table says it."""
    if result is None:
        return "logged with portfolio.log_metric"
    if result.source == "output":
        return f"from output (line {result.line} of the log)" if result.line else "from output"
    where = f"; printed on line {result.printed_line} of the log" if result.printed_line else ""
    return f"{result.source}{where}"


def _headline_text(headline: Headline | None) -> str:
    """'98.1% accuracy'; a cross-validated score says so: '97.2% accuracy (5-fold
    cross-validation)'; a training score is called one: '76.8% training accuracy; no
    held-out data was set aside'."""
    if headline is None:
        return ""
    if headline.basis == "train":
        return (f"{fmt(headline.name, headline.value)} training {headline.name}; no held-out "
                "data was set aside")
    text = f"{fmt(headline.name, headline.value)} {headline.name}"
    if headline.basis == "cv":
        return f"{text} ({headline.measured_on})"
    return f"{text} on {headline.measured_on}"


def training_sentence(fit: Fit, first: bool = True) -> str:
    """How one ``fit`` call trained, as a reader says it."""
    params = fit.params
    planned = params.get("epochs", "?")
    parts = [f"{len(fit.epochs)} of {planned} epochs"]
    if params.get("batch_size"):
        parts.append(f"batch size {params['batch_size']}")
    optimizer = fit.optimizer
    if optimizer:
        rate = optimizer.config.get("learning_rate")
        rate_text = f" (learning rate {rate:.3g})" if isinstance(rate, int | float) \
            and not isinstance(rate, bool) else ""
        parts.append(f"{optimizer.class_}{rate_text}")
    if fit.trainable_parameters is not None:
        parts.append(f"{fit.trainable_parameters:,} trainable parameters")
    sentence = f"{'Training' if first else 'Fine-tuning'}: {', '.join(parts)}."
    stopping = fit.early_stopping
    if stopping:
        sentence += f" Early stopping on {stopping.monitor} (patience {stopping.patience})"
        stopped = stopping.stopped_epoch
        sentence += f" stopped at epoch {stopped + 1}" if stopped is not None \
            else " never triggered"
        best = stopping.best_epoch
        if stopping.restore_best_weights and best is not None:
            sentence += f"; the weights of epoch {best + 1} were kept"
        sentence += "."
    return sentence


def spot_check_row(check: SpotCheck, best: bool = False) -> SpotCheckRow:
    """A spot-check as the table shows it: the script's label, the class it names when
    that says more, '(best)' on the first row; mean and spread to three places."""
    algorithm = text(check.name)
    if check.description is not None and check.description != check.name:
        algorithm = markup("{} — {}", algorithm, check.description)
    if best:
        algorithm = markup("{} (best)", algorithm)
    return SpotCheckRow(algorithm, three_places(check.mean), three_places(check.std),
                        str(len(check.scores)), check.scoring or "")


def search_view(search: Search) -> SearchView:
    """A hyperparameter search as the page tells it: '<code>GridSearchCV</code> over 12
    configurations of SVC, scored by f1. Best: <code>C=1</code>, <code>gamma=0.1</code>
    (0.912).', and for a multi-metric search which scorer chose the final model."""
    sentence = markup("<code>{}</code> over {} of {}", search.kind,
                      counted(search.candidates, "configuration"), search.estimator) \
        if search.candidates is not None else \
        markup("<code>{}</code> over configurations of {}", search.kind, search.estimator)
    if search.scoring not in ("default", None):
        sentence = markup("{}, scored by {}", sentence, search.scoring)
    sentence = markup("{}.", sentence)
    params, score = search.best_params, search.best_score
    if params or score is not None:  # a search with no refit has no best configuration
        best = _configuration(params, code=True)
        if score is not None:
            best = markup("{} ({})", best, three_places(score))
        sentence = markup("{} Best: {}.", sentence, best)
    scorers = ""
    if search.scorers is not None:
        chosen = markup("by {}", search.refit) if search.refit \
            else Markup("by none (no refit)")
        scorers = markup("Best mean per scorer: {}. The final model was chosen {}; the table "
                         "ranks by {}.",
                         joined([markup("{} {}", s.name, three_places(s.best_mean))
                                 for s in search.scorers]),
                         chosen, search.ranked_by)
    rows = [SearchRow(str(t.rank), _configuration(t.params), three_places(t.mean),
                      three_places(t.std))
            for t in search.top]
    space = htmlsafe_json_dumps(search.space, indent=2, sort_keys=True)
    return SearchView(sentence, scorers, rows, space)


def _configuration(params: dict[str, Any], code: bool = False) -> Markup:
    """'C=1, kernel=rbf'; each setting as code in a sentence."""
    return joined([markup("<code>{}={}</code>" if code else "{}={}", k, v)
                   for k, v in params.items()])


def comparison_table(run: RunRecord) -> ComparisonTable | None:
    """Every (model, split) scored on test data, when there is more than one: the
    script compared them, and the page shows the comparison it made. Each split's
    trivial baseline is a row of its own, so a score is only set beside the baseline of
    its own split. With no such comparison, several models scored on the same training
    or validation data are ranked instead, named for the data they were scored on."""
    return _test_comparison(run) or _other_comparison(run, "train") \
        or _other_comparison(run, "validation")


_COMPARED_ON = {"train": "Every model the script scored on its training data (training "
                         "scores: how well each fits, not how well it predicts), best first",
                "validation": "Every model the script scored on validation data, best first"}


def _other_comparison(run: RunRecord, split: str) -> ComparisonTable | None:
    """Models scored on one kind of data that is not held out, ranked on the first metric
    (the direction it is better in), with the trivial baseline of that data last."""
    groups: dict[str, dict[str, float]] = {}
    for result in run.results:
        if result.split == split and result.value is not None and result.name != "loss":
            label = result.model or result.where or "unnamed predictions"
            groups.setdefault(label, {})[result.name] = float(result.value)
    if len(groups) < 2:
        return None
    metrics = list(dict.fromkeys(name for scores in groups.values() for name in scores))
    first = metrics[0]
    ranked = sorted(groups.items(), key=lambda item: (
        first not in item[1], (item[1].get(first, 0.0) * (1 if lower_is_better(first) else -1))))
    rows = [(label, [fmt(m, scores[m]) if m in scores else "–" for m in metrics])
            for label, scores in ranked]
    for baseline in run.trivial_baselines:
        if baseline.measured_on != split:
            continue
        cells = [fmt(m, float(baseline.metrics[m] or 0)) if baseline.metrics.get(m) is not None
                 else "–" for m in metrics]
        if any(cell != "–" for cell in cells):
            rows.append((f"{baseline.name} (trivial)", cells))
    return ComparisonTable(_COMPARED_ON[split], metrics, rows)


def _test_comparison(run: RunRecord) -> ComparisonTable | None:
    results = [r for r in run.results if r.split == "test" and r.value is not None]
    groups: dict[tuple[str, Any], dict[str, float]] = {}
    for result in results:
        label = result.model or result.where or "unnamed predictions"
        if result.judged:
            label += " (this project's model)"
        groups.setdefault((label, result.split_index), {})[result.name] = float(result.value or 0)
    if len(groups) < 2:
        return None
    if any("rmse" in scores for scores in groups.values()):
        for scores in groups.values():  # mean_squared_error(...) ** 0.5, as scripts print it
            if "mse" in scores and "rmse" not in scores and scores["mse"] >= 0:
                scores["rmse"] = scores["mse"] ** 0.5
    splits = list(dict.fromkeys(index for _, index in groups))
    metrics = list(dict.fromkeys(name for scores in groups.values() for name in scores))
    sizes = {s.index: s.test_size for s in run.splits}
    # Each split's constant baselines (the majority class, the training mean, or both for
    # whole-number targets), and the persistence forecasts.
    constants = [b for b in run.trivial_baselines if b.kind != "persistence"]
    persistence = [b for b in run.trivial_baselines if b.kind == "persistence"]

    def constant(index: Any, metric: str) -> str:
        found = [b.metrics[metric] for b in constants if b.split_index == index
                 and b.metrics.get(metric) is not None]
        return fmt(metric, float(found[0] or 0)) if found else "–"

    def split_name(index: Any) -> str:
        if index is None:
            return "unmatched split"
        size = f", {sizes[index]} test samples" if sizes.get(index) else ""
        return f"split {index + 1}{size}"

    if len(splits) > 1 and len(metrics) == 1:  # models × splits, one metric
        metric = metrics[0]
        rows = [(label, [fmt(metric, groups[(label, index)][metric])
                         if (label, index) in groups else "–" for index in splits])
                for label in dict.fromkeys(label for label, _ in groups)]
        trivial = [constant(index, metric) for index in splits]
        if any(cell != "–" for cell in trivial):
            rows.append(("Trivial baseline of each split", trivial))
        return ComparisonTable(f"{metric.capitalize()} on the test part of each split, by model",
                               [split_name(index) for index in splits], rows)
    rows = []
    for (label, index), scores in groups.items():
        where = f" — {split_name(index)}" if len(splits) > 1 else ""
        rows.append((label + where, [fmt(m, scores[m]) if m in scores else "–" for m in metrics]))
    for baseline in [b for b in [*constants, *persistence] if b.split_index in splits]:
        cells = [fmt(m, float(baseline.metrics[m] or 0)) if baseline.metrics.get(m) is not None
                 else "–" for m in metrics]
        if any(cell != "–" for cell in cells):
            where = f" — {split_name(baseline.split_index)}" if len(splits) > 1 else ""
            rows.append((f"{baseline.name} (trivial){where}", cells))
    return ComparisonTable("Every model the script scored on test data", metrics, rows)


def project_view(state: ProjectState, imports: caches.Imports | None = None) -> ProjectView:
    meta, good = state.project.meta, state.good
    headline = good.headline(meta) if good else None
    figures, left_off = _figures(good) if good else ([], [])
    return ProjectView(
        slug=state.project.slug,
        title=meta.title,
        summary=meta.summary or "",
        tags=list(meta.tags),
        task=meta.task.value if meta.task else None,
        dataset=meta.dataset,
        status=good.status if good else (state.failure.status if state.failure else "never run"),
        headline=headline,
        score_text=fmt(headline.name, headline.value) if headline else "–",
        headline_text=_headline_text(headline),
        metrics=[(k, fmt(k, v)) for k, v in good.metrics.items()] if good else [],
        baselines=_baselines(state, headline),
        figures=figures,
        model_file=good.model_file.name if good and good.model_file and meta.publish_model
        else None,
        model_url=meta.model_url,
        model_size=_size(good.model_file) if good and good.model_file else None,
        architecture=good.run.architecture if good else None,
        run=good.run if good else None,
        failure=_failure(state.failure, state.project) if state.failure else None,
        script=meta.script,
        script_href=f"{SCRIPT_COPY}/{meta.script}" if good and good.script_file
        and good.run.script == meta.script else meta.script,
        story=narrative.read(state.project.folder, state.project.script),
        limitations=list(meta.limitations),
        notes=list(good.run.notes) if good else [],
        raw_metrics=dict(good.metrics) if good else {},
        libraries=libraries_of(state.project.folder, imports=imports),
        judged=good.run.judged if good else None,
        # With the demo turned off, why there is none is nobody's business on the page.
        capture_warnings=[*(w for w in good.run.capture_warnings
                            if (meta.demo and meta.publish_model) or not w.startswith("demo:")),
                          *left_off] if good else [],
        printed_lines=[e.text for e in good.run.printed_lines] if good else [],
        left_running=[f"{p.command} (pid {p.pid})" for p in good.run.left_running]
        if good else [],
        demo=demo_view(state),
    )


def _baselines(state: ProjectState, headline: Headline | None) -> list[BaselineView]:
    """The computed trivial baseline first, then declared ones, then those the run logged.
    A baseline measured on another metric than the headline cannot be compared: left out."""
    items: list[dict[str, Any]] = []
    run = state.good.run if state.good else None
    trivial = trivial_for(run, headline) if run and headline else None
    metric = canonical(headline.name) if headline else None
    if trivial:
        items.append({"name": trivial.name, "value": trivial.value, "source": trivial.source,
                      "trivial": True})
    others = [b.model_dump() for b in state.project.meta.baselines]
    others += [{"name": b.name, "value": b.value, "source": _baseline_source(b)}
               for b in (run.baselines if run else [])
               if not headline or canonical(b.metric or headline.name) == metric]
    computed = items[0] if items else None
    for item in others:
        # The owner declared (or the script printed) the very baseline capture computed:
        # one row, the computed one, which names how it was measured.
        if computed and _same_baseline(item, computed):
            continue
        items.append(item)
    views = []
    for item in items:
        value = float(item["value"])
        name = headline.name if headline else "score"
        difference, better, par = "", False, False
        if headline:
            difference, better = compare(name, headline.value, value, headline.goal)
            par = on_par(name, headline.value, value)
        views.append(BaselineView(item["name"], fmt(name, value), item.get("source"),
                                  difference, better, value, bool(item.get("trivial")), par))
    return views


def _same_baseline(item: dict[str, Any], computed: dict[str, Any]) -> bool:
    """'persistence' printed by the script, 'Persistence forecast' in project.yaml and
    the persistence forecast capture computed are one baseline when their values agree
    (to 1%, a printed value being rounded)."""
    first = canonical(item["name"]).split("_")[0]
    close = abs(float(item["value"]) - computed["value"]) <= 0.01 * abs(computed["value"])
    return close and first == canonical(computed["name"]).split("_")[0]


def _baseline_source(baseline: Baseline) -> str | None:
    """Where a baseline the run recorded comes from: 'printed by the script, line 12 of
    the log'."""
    if baseline.line is None:
        return baseline.source
    return f"{baseline.source or 'printed by the script'}, line {baseline.line} of the log"


def _failure(run: RunResult, project: Project) -> dict[str, Any]:
    started = run.run.started or ""
    # What the page quotes of the log, as the published log has it: no path of the machine
    # (a traceback names the home folder, the Python environment).
    root = project.folder.parent.parent
    return {"status": run.status,
            "error": publiclog.redact(run.run.error or run.status, root, project.slug),
            "started": started, "date": str(started)[:10],
            "log_tail": publiclog.redact(log_tail(run.log_file), root, project.slug)}


def log_tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    """The last lines of a log as a terminal would have shown them."""
    if not path.is_file():
        return ""
    with path.open("rb") as fh:
        fh.seek(0, 2)
        fh.seek(max(0, fh.tell() - 64_000))
        text = fh.read().decode("utf-8", errors="replace")
    return "\n".join(clean(text).splitlines()[-lines:])


def _size(path: Path) -> str:
    size = float(path.stat().st_size)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


def skills(views: list[ProjectView]) -> list[str]:
    """The home page's line of skills: architectures, task types, libraries, in that order."""
    found: list[str] = []
    for group in ([a for v in views for a in v.architectures],
                  [v.task_name for v in views if v.task],
                  [lib for v in views for lib in v.libraries]):
        for item in group:
            if item not in found:
                found.append(item)
    return found
