"""Load YAML while remembering where every key and value was written.

PyYAML's composer gives nodes with marks; we build plain Python values from them
and keep a map from each value's path (``("metric", "goal")``, ``("baselines", 0)``)
to the line and column of its key, so schema errors can point at the exact spot.

This is the one reader of every YAML file portfolio loads (``project.yaml``,
``mkdocs.yml``), and it refuses what would make a loader hang or crash rather than
report: a file over :data:`MAX_BYTES` (refused before it is parsed), bytes that are not
UTF-8, nesting deeper than :data:`MAX_DEPTH`, an alias inside the value it names (a
cycle), and aliases that repeat more than :data:`ALIAS_BUDGET` values in all (a
"billion laughs" document). Aliases within that budget stay allowed: ``<<: *defaults``
is ordinary YAML, and a budget counted while composing stops a bomb after a few
thousand nodes, in milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Path_ = tuple[str | int, ...]

MAX_BYTES = 1024 * 1024  # hand-written metadata; a bigger file is a mistake, not a config
MAX_DEPTH = 64  # project.yaml needs 4 levels, a deep mkdocs.yml nav about 10
ALIAS_BUDGET = 10_000  # values that aliases may repeat in one document, in all

_STANDARD = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


@dataclass(frozen=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based


@dataclass
class Located:
    """A loaded document plus the position of every path in it."""

    data: Any
    positions: dict[Path_, Position] = field(default_factory=dict)
    duplicates: list[tuple[Path_, Position]] = field(default_factory=list)

    def where(self, path: Path_) -> Position:
        """The position of ``path``, or of its nearest ancestor that was written."""
        while path:
            if path in self.positions:
                return self.positions[path]
            path = path[:-1]
        return Position(1, 1)


class YAMLSyntaxError(Exception):
    """A file that cannot be read as YAML: ``message`` at ``position``."""

    def __init__(self, message: str, position: Position) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


def _pos(mark: yaml.Mark) -> Position:
    return Position(mark.line + 1, mark.column + 1)


def read(path: Path, limit: int = MAX_BYTES) -> str:
    """The text of a YAML file, read only up to ``limit`` bytes and decoded as UTF-8;
    raise :class:`YAMLSyntaxError` (with the position of a bad byte) otherwise."""
    try:
        with path.open("rb") as fh:
            raw = fh.read(limit + 1)
    except OSError as exc:
        raise YAMLSyntaxError(f"cannot be read: {exc.strerror}", Position(1, 1)) from None
    if len(raw) > limit:
        raise YAMLSyntaxError(f"file is larger than {limit // 1024} KB, not read: too big for "
                              "a hand-written file", Position(1, 1))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[:exc.start]
        line_start = before.rfind(b"\n") + 1
        column = len(before[line_start:].decode("utf-8", errors="replace")) + 1
        raise YAMLSyntaxError(
            f"not UTF-8 text: byte 0x{raw[exc.start]:02x} (saved as Latin-1 or another "
            "encoding?); save the file as UTF-8", Position(before.count(b"\n") + 1, column),
        ) from None


class _Bounded:
    """A composer that refuses cycles, deep nesting and alias bombs as it goes, each at the
    position where it was written. Mixed in before a PyYAML loader class."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)  # type: ignore[call-arg]
        self._open: list[str] = []  # anchors whose value is being composed
        self._depth = 0
        self._sizes: dict[int, tuple[int, int]] = {}  # id(node) → (values, depth) expanded
        self._repeated = 0  # values repeated through aliases so far

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[attr-defined]
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self._open:
                raise yaml.MarkedYAMLError(
                    problem=f"alias *{event.anchor} is inside the value it names (a cycle)",
                    problem_mark=event.start_mark)
            node = super().compose_node(parent, index)  # type: ignore[misc]
            self._repeated += self._sizes[id(node)][0]
            if self._repeated > ALIAS_BUDGET:
                raise yaml.MarkedYAMLError(
                    problem=f"aliases repeat more than {ALIAS_BUDGET} values; write the "
                            "values out instead", problem_mark=event.start_mark)
            return node
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise yaml.MarkedYAMLError(problem=f"nested deeper than {MAX_DEPTH} levels",
                                       problem_mark=event.start_mark)
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self._open.append(anchor)
        node = super().compose_node(parent, index)  # type: ignore[misc]
        if anchor is not None:
            self._open.pop()
        self._depth -= 1
        children = (node.value if isinstance(node, yaml.SequenceNode) else
                    [n for pair in node.value for n in pair]
                    if isinstance(node, yaml.MappingNode) else [])
        sizes = [self._sizes[id(child)] for child in children]
        depth = 1 + max((d for _, d in sizes), default=0)
        if depth > MAX_DEPTH:
            raise yaml.MarkedYAMLError(problem=f"nested deeper than {MAX_DEPTH} levels "
                                               "through aliases", problem_mark=event.start_mark)
        self._sizes[id(node)] = (1 + sum(n for n, _ in sizes), depth)
        return node


def load(text: str, loader: type[yaml.SafeLoader] = yaml.SafeLoader) -> Located:
    """Parse one YAML document; raise :class:`YAMLSyntaxError` with its position.

    ``loader`` is the PyYAML loader class whose tags are understood (MkDocs' for
    ``mkdocs.yml``: ``!ENV``, ``!!python/name``)."""
    bounded = type(f"Bounded{loader.__name__}", (_Bounded, loader), {})
    try:
        parser = bounded(text)
    except yaml.reader.ReaderError as exc:  # a control character: not YAML at all
        raise YAMLSyntaxError(_reader_message(exc), _offset(text, exc.position)) from None
    try:
        node = parser.get_single_node()
        located = Located(None)
        if node is not None:
            located.data = _build(parser, node, (), located)
        return located
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        position = _pos(mark) if mark else Position(1, 1)
        raise YAMLSyntaxError(f"invalid YAML: {exc.problem or exc}", position) from None
    except yaml.reader.ReaderError as exc:
        raise YAMLSyntaxError(_reader_message(exc), _offset(text, exc.position)) from None
    except yaml.YAMLError as exc:  # a tag's own constructor, without a mark
        raise YAMLSyntaxError(f"invalid YAML: {exc}", Position(1, 1)) from None
    finally:
        parser.dispose()


def load_file(path: Path, loader: type[yaml.SafeLoader] = yaml.SafeLoader) -> Located:
    """:func:`read` then :func:`load`."""
    return load(read(path), loader)


def position_of(path: Path, keys: Path_,
                loader: type[yaml.SafeLoader] = yaml.SafeLoader) -> Position:
    """Where the value at ``keys`` (the full path: ``("extra", "portfolio", "name")``) or
    its nearest written ancestor is in the YAML file ``path``; 1:1 if it cannot be read."""
    try:
        return load_file(path, loader).where(keys)
    except YAMLSyntaxError:
        return Position(1, 1)


def _reader_message(exc: yaml.reader.ReaderError) -> str:
    return f"invalid YAML: character {exc.character!r} is not allowed in YAML"


def _offset(text: str, offset: int) -> Position:
    before = text[:offset]
    return Position(before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1)


def _build(loader: yaml.SafeLoader, node: yaml.Node, path: Path_, out: Located) -> Any:
    if isinstance(node, yaml.MappingNode) and node.tag == _STANDARD[0]:
        result: dict[Any, Any] = {}
        loader.flatten_mapping(node)  # resolves YAML merge keys (<<)
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise yaml.MarkedYAMLError(problem="a key must be a plain scalar",
                                           problem_mark=key_node.start_mark)
            key = _scalar(loader, key_node)
            if not isinstance(key, str | int | float | bool) and key is not None:
                raise yaml.MarkedYAMLError(problem="a key must be a plain scalar",
                                           problem_mark=key_node.start_mark)
            child = (*path, str(key))
            if key in result:
                out.duplicates.append((child, _pos(key_node.start_mark)))
            out.positions.setdefault(child, _pos(key_node.start_mark))
            result[key] = _build(loader, value_node, child, out)
        return result
    if isinstance(node, yaml.SequenceNode) and node.tag == _STANDARD[1]:
        items = []
        for index, item in enumerate(node.value):
            child = (*path, index)
            out.positions.setdefault(child, _pos(item.start_mark))
            items.append(_build(loader, item, child, out))
        return items
    return _scalar(loader, node)


def _scalar(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    """A scalar, or a value under a tag of the loader's own (``!ENV [NAME, default]``)."""
    try:
        return loader.construct_object(node, deep=True)
    except ValueError as exc:  # an integer of more digits than Python converts
        raise yaml.MarkedYAMLError(problem=str(exc).split(";")[0],
                                   problem_mark=node.start_mark) from None
