"""Stage 6: the static-site engine. MkDocs + Material today, behind three calls.

Rendering writes plain Markdown and a derived ``mkdocs.yml``; this module is the only
one that imports MkDocs, so the engine can be swapped (Zensical reads the same file).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from portfolio.errors import ConfigError, SiteBuildError


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def build(config_file: Path, strict: bool = True) -> None:
    """Build the site described by ``config_file``; warnings fail the build when strict."""
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")  # Material's end-of-life banner
    from mkdocs import exceptions
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    collector = _Collect()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(collector)
    try:
        config = load_config(config_file=str(config_file), strict=strict)
        mkdocs_build(config)
    except exceptions.ConfigurationError as exc:
        raise ConfigError(f"mkdocs.yml: {exc}") from None
    except exceptions.Abort as exc:
        details = "\n".join(f"  {m}" for m in collector.messages)
        raise SiteBuildError(f"the site did not build: {exc}\n{details}".rstrip()) from None
    finally:
        logger.removeHandler(collector)


def serve(config_file: Path, host: str = "127.0.0.1", port: int = 8000) -> None:
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    from mkdocs.commands.serve import serve as mkdocs_serve

    mkdocs_serve(config_file=str(config_file), open_in_browser=False, dev_addr=f"{host}:{port}")
