"""Load YAML while remembering where every key and value was written.

PyYAML's composer gives nodes with marks; we build plain Python values from them
and keep a map from each value's path (``("metric", "goal")``, ``("baselines", 0)``)
to the line and column of its key, so schema errors can point at the exact spot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path_ = tuple[str | int, ...]


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
    def __init__(self, message: str, position: Position) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


def _pos(mark: yaml.Mark) -> Position:
    return Position(mark.line + 1, mark.column + 1)


def load(text: str) -> Located:
    """Parse one YAML document; raise :class:`YAMLSyntaxError` with its position."""
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:  # a control character: not YAML at all
        raise YAMLSyntaxError(_reader_message(exc), _offset(text, exc.position)) from None
    try:
        node = loader.get_single_node()
        located = Located(None)
        if node is not None:
            located.data = _build(loader, node, (), located)
        return located
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        position = _pos(mark) if mark else Position(1, 1)
        raise YAMLSyntaxError(exc.problem or str(exc), position) from None
    except yaml.reader.ReaderError as exc:
        raise YAMLSyntaxError(_reader_message(exc), _offset(text, exc.position)) from None
    finally:
        loader.dispose()


def _reader_message(exc: yaml.reader.ReaderError) -> str:
    return f"character {exc.character!r} is not allowed in YAML"


def _offset(text: str, offset: int) -> Position:
    before = text[:offset]
    return Position(before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1)


def _build(loader: yaml.SafeLoader, node: yaml.Node, path: Path_, out: Located) -> Any:
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        loader.flatten_mapping(node)  # resolves YAML merge keys (<<)
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) and key is not None:
                raise yaml.MarkedYAMLError(problem="a key must be a plain scalar",
                                           problem_mark=key_node.start_mark)
            child = (*path, str(key))
            if key in result:
                out.duplicates.append((child, _pos(key_node.start_mark)))
            out.positions.setdefault(child, _pos(key_node.start_mark))
            result[key] = _build(loader, value_node, child, out)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            child = (*path, index)
            out.positions.setdefault(child, _pos(item.start_mark))
            items.append(_build(loader, item, child, out))
        return items
    return loader.construct_object(node, deep=True)
