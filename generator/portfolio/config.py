"""The site configuration: the user's ``mkdocs.yml`` and the owner's profile in it.

The profile lives under ``extra.portfolio`` so ``mkdocs.yml`` stays the one file a
user edits for the site; MkDocs itself ignores ``extra``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, StrictStr, ValidationError

from portfolio.errors import ConfigError


class Links(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    github: StrictStr | None = None
    linkedin: StrictStr | None = None
    email: StrictStr | None = None
    website: StrictStr | None = None
    cv: StrictStr | None = None  # a file path relative to the repository root, or a URL


class Profile(BaseModel):
    """The owner, shown at the top of the home page."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: StrictStr = "Your Name"
    headline: StrictStr | None = None
    bio: StrictStr | None = None
    avatar: StrictStr | None = None  # an image path relative to the repository root, or a URL
    links: Links = Links()


def load_mkdocs_yml(path: Path) -> dict[str, Any]:
    """Read ``mkdocs.yml`` with MkDocs' own loader (it knows ``!ENV`` and ``!!python/name``)."""
    if not path.is_file():
        raise ConfigError(f"{path}: not found; a portfolio needs an mkdocs.yml at its root")
    import yaml
    from mkdocs.utils.yaml import get_yaml_loader

    try:
        with path.open(encoding="utf-8") as fh:
            data = yaml.load(fh, Loader=get_yaml_loader())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{where}: invalid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1:1: expected a mapping of settings")
    return data


def profile_of(config: dict[str, Any], path: Path) -> Profile:
    raw = (config.get("extra") or {}).get("portfolio") or {}
    try:
        return Profile.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(["extra", "portfolio", *map(str, error["loc"])])
        raise ConfigError(f"{path}:{_line_of(path, str(error['loc'][-1]))}: {key}: "
                          f"{error['msg'].lower()}") from None


def _line_of(path: Path, key: str) -> int:
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if text.strip().startswith(f"{key}:"):
            return number
    return 1
