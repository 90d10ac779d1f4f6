"""Keras datasets read from folders: the Data step of an image or text project.

``keras.utils.image_dataset_from_directory`` (and its text and audio siblings) is how
keras-io examples split their data: one folder per class, ``validation_split`` with a
``subset`` and a seed, or separate ``train/`` and ``test/`` folders. Each call becomes
an entry of the run's splits (kind ``directory``): the folder, the files and classes
found, and the share kept for validation, so the page's Data section describes the
split even though no array ever passes through capture.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from portfolio.capture import guarded
from portfolio.capture.keras_extras import replace_everywhere
from portfolio.recorder import Recorder

_LOADERS = ("image_dataset_from_directory", "text_dataset_from_directory",
            "audio_dataset_from_directory")


class KerasDirectoryCapture:
    name = "keras datasets from directories"
    trigger = "keras"

    def install(self, rec: Recorder) -> None:
        import keras

        for loader in _LOADERS:
            original = getattr(keras.utils, loader, None)
            if original is not None:
                replace_everywhere(original, _wrapped(rec, original))

    def finish(self, rec: Recorder) -> None:
        """Everything is recorded as it happens."""


def _wrapped(rec: Recorder, original: Any) -> Any:
    @functools.wraps(original)
    def loader(directory: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(directory, *args, **kwargs)
        guarded(rec, f"{original.__name__} split",
                lambda: _record(rec, original.__name__, directory, kwargs, result))
        return result

    return loader


def _record(rec: Recorder, loader: str, directory: Any, kwargs: dict[str, Any],
            result: Any) -> None:
    """One entry per call; ``subset="both"`` returns the two parts at once."""
    parts = list(result) if isinstance(result, list | tuple) else [result]
    subset = kwargs.get("subset")
    names = ["training", "validation"] if subset == "both" else [subset]
    total = _count(directory, kwargs.get("formats") or _FORMATS.get(loader, ()))
    share = kwargs.get("validation_split")
    for part, name in zip(parts, names, strict=False):
        files = len(getattr(part, "file_paths", []) or []) or _part(total, share, name)
        classes = [str(c) for c in getattr(part, "class_names", None) or []]
        rec.splits.append({
            "index": len(rec.splits),
            "kind": "directory",
            "directory": _shown(rec, directory),
            "subset": name,
            "files": files or None,
            "classes": classes,
            "validation_split": kwargs.get("validation_split"),
        })


# The files each loader reads (keras.src.utils.*_dataset_utils' ALLOWLIST_FORMATS).
_FORMATS = {"image_dataset_from_directory": (".bmp", ".gif", ".jpeg", ".jpg", ".png"),
            "text_dataset_from_directory": (".txt",),
            "audio_dataset_from_directory": (".wav",)}


def _count(directory: Any, formats: Any) -> int | None:
    """The files a loader finds: in the class folders (or the folder itself), by format."""
    folder = Path(str(directory))
    if not folder.is_dir():
        return None
    suffixes = tuple(f.lower() for f in ([formats] if isinstance(formats, str) else formats))
    return sum(1 for path in folder.rglob("*") if path.is_file()
               and path.suffix.lower() in suffixes) or None


def _part(total: int | None, share: Any, subset: str | None) -> int | None:
    """The files of one subset, cut as Keras cuts them: int(share · n) for validation."""
    if total is None or not share or subset not in ("training", "validation"):
        return total
    validation = int(float(share) * total)
    return validation if subset == "validation" else total - validation


def _shown(rec: Recorder, directory: Any) -> str:
    path = Path(str(directory)).resolve()
    try:
        return path.relative_to(rec.project_dir.resolve()).as_posix() or "."
    except ValueError:
        return path.name
