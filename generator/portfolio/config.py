"""The site configuration: the user's ``mkdocs.yml`` and the owner's profile in it.

The profile lives under ``extra.portfolio`` so ``mkdocs.yml`` stays the one file a
user edits for the site; MkDocs itself ignores ``extra``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, StrictStr, ValidationError

from portfolio import yamlpos
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

    def local_files(self, root: Path) -> list[Path]:
        """The avatar and CV given as files (not URLs): the site copies them."""
        return [root / value for value in (self.avatar, self.links.cv)
                if value and not is_url(value)]


def is_url(value: str) -> bool:
    return value.startswith(("http://", "https://", "mailto:"))


def load_mkdocs_yml(path: Path) -> dict[str, Any]:
    """Read ``mkdocs.yml`` with MkDocs' own tags (``!ENV``, ``!!python/name``), through the
    same bounded, located reader as every other YAML file."""
    if not path.is_file():
        raise ConfigError(f"{path}: not found; a portfolio needs an mkdocs.yml at its root")
    try:
        data = yamlpos.load_file(path, mkdocs_loader()).data
    except yamlpos.YAMLSyntaxError as exc:
        raise ConfigError(f"{path}:{exc.position.line}:{exc.position.column}: "
                          f"{exc.message}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1:1: expected a mapping of settings")
    return data


def mkdocs_loader() -> type[yaml.SafeLoader]:
    """MkDocs' YAML loader class: it knows ``!ENV`` and ``!!python/name``."""
    from mkdocs.utils.yaml import get_yaml_loader

    return get_yaml_loader()


EXECUTION_KEYS = ("executor", "scheduler", "engine")  # how the build runs, beside the profile


class Execution(BaseModel):
    """How the build runs, from ``extra.portfolio``: where projects run (``executor: dask``
    and the cluster's ``scheduler`` address) and which ``engine`` builds the site (the
    command line and ``PORTFOLIO_SCHEDULER`` win over these)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    executor: Literal["local", "dask"] | None = None
    scheduler: StrictStr | None = None
    engine: Literal["mkdocs", "zensical"] | None = None


def _located(path: Path, loc: tuple[str | int, ...], message: str) -> ConfigError:
    keys = ("extra", "portfolio", *loc)
    pos = yamlpos.position_of(path, keys, mkdocs_loader())
    return ConfigError(f"{path}:{pos.line}: {'.'.join(map(str, keys))}: {message.lower()}")


def execution_of(config: dict[str, Any], path: Path) -> Execution:
    raw = (config.get("extra") or {}).get("portfolio") or {}
    if not isinstance(raw, dict):
        return Execution()
    try:
        return Execution.model_validate({k: raw[k] for k in EXECUTION_KEYS if k in raw})
    except ValidationError as exc:
        error = exc.errors()[0]
        raise _located(path, error["loc"], error["msg"]) from None


def profile_of(config: dict[str, Any], path: Path) -> Profile:
    raw = (config.get("extra") or {}).get("portfolio") or {}
    if isinstance(raw, dict):
        raw = {k: v for k, v in raw.items() if k not in EXECUTION_KEYS}
    execution_of(config, path)  # checked with the profile, before anything runs
    try:
        return Profile.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise _located(path, error["loc"], error["msg"]) from None
