"""What ``portfolio build`` says last: where the site is, how long the build took, and
what to do next: preview it served (opened from the disk, ``site/index.html`` is no
preview: its links go to folders, which a browser shows as listings over ``file://``, and
the search needs a server), then share it, by ``portfolio publish`` or, where the
GitHub Actions workflow publishes, by a push."""

from __future__ import annotations

from portfolio import livepreview
from portfolio.domain import Workspace
from portfolio.errors import display
from portfolio.progress import elapsed

__all__ = ["after_build"]


def after_build(ws: Workspace, built: bool, seconds: float) -> list[str]:
    """The lines that end a build of ``ws`` that took ``seconds``; ``built``: False when
    the site's inputs had not changed."""
    from portfolio.scaffold import WORKFLOW  # the file `portfolio init-ci` writes

    preview = livepreview.url_of(ws, "127.0.0.1", 8000)
    share = ("commit and push: the GitHub Actions workflow (" + WORKFLOW + ") publishes it"
             if (ws.root / WORKFLOW).is_file() else "`portfolio publish` to share it")
    return [f"site {'built' if built else 'unchanged'}: {display(ws.site_dir)}/ "
            f"(the build took {elapsed(seconds)})",
            f"next: `portfolio serve` to preview it at {preview}",
            f"      {share}"]
