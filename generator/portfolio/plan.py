"""Stage 2: decide which projects must run, by hashing what their results depend on.

A project is fresh when the hash of its inputs equals the one recorded by its last
successful run. Inputs are content, never timestamps: the project's files, the
metadata fields that change training, the seed, the versions of the libraries that
do the maths, and the results format. Each part is hashed separately and recorded,
so a stale project can say *why* it is stale.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from portfolio.model import RESULTS_FORMAT, Project, ProjectState, RunResult, Workspace

# The libraries whose versions change numbers; tensorflow may be installed as tensorflow-cpu.
LIBRARIES = {
    "keras": ("keras",),
    "tensorflow": ("tensorflow", "tensorflow-cpu"),
    "scikit-learn": ("scikit-learn",),
    "numpy": ("numpy",),
}
REPO_PREFIX = "<repo>/"  # marks a repository module, outside the project folder, in Inputs
_SKIP_DIRS = {"__pycache__", "results", "site", ".build"}


def library_versions() -> dict[str, str]:
    """Versions from package metadata: no import, so no TensorFlow start-up in the parent."""
    versions = {"python": platform.python_version()}
    for name, dists in LIBRARIES.items():
        for dist in dists:
            try:
                versions[name] = metadata.version(dist)
                break
            except metadata.PackageNotFoundError:
                continue
        else:
            versions[name] = "absent"
    return versions


@dataclass(frozen=True)
class Inputs:
    """The parts a run depends on, each hashed on its own, and their combined hash."""

    files: dict[str, str]
    meta: dict[str, Any]
    versions: dict[str, str]
    format: int = RESULTS_FORMAT
    digest: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "digest", _sha(json.dumps(self.as_dict(), sort_keys=True)))

    def after_run(self, outputs: list[str], local_modules: dict[str, str]) -> Inputs:
        """The inputs as the run turned out to have them: less the files it wrote (outputs,
        not inputs), with the repository modules it imported (known only once it ran)."""
        files = {k: v for k, v in self.files.items()
                 if k not in outputs and not k.startswith(REPO_PREFIX)}
        return Inputs({**files, **local_modules}, self.meta, self.versions, self.format)

    def as_dict(self) -> dict[str, Any]:
        return {"files": self.files, "meta": self.meta, "versions": self.versions,
                "format": self.format}


def _sha(text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


def _ignored(workspace_root: Path, project: Project) -> Callable[[str], bool]:
    """A matcher for the repository's and the project's ``.gitignore`` patterns."""
    import pathspec

    lines: list[str] = []
    for ignore in (workspace_root / ".gitignore", project.folder / ".gitignore"):
        if ignore.is_file():
            lines += ignore.read_text(encoding="utf-8").splitlines()
    spec = pathspec.GitIgnoreSpec.from_lines(lines)
    prefix = project.folder.resolve().relative_to(workspace_root.resolve()).as_posix() \
        if project.folder.resolve().is_relative_to(workspace_root.resolve()) else ""
    return lambda rel: spec.match_file(f"{prefix}/{rel}" if prefix else rel)


def project_files(project: Project, root: Path, outputs: list[str] = ()) -> list[Path]:
    """The files whose content a run depends on: everything in the project folder except
    hidden files, caches, git-ignored files (unless declared as ``data``), project.yaml (its
    training fields are hashed separately), the README narrative, and files the last run
    wrote there itself (a script that saves its model beside itself must not go stale)."""
    skip = {"project.yaml", "README.md", *outputs}  # the narrative is presentation only
    ignored = _ignored(root, project)
    declared = {(project.folder / d).resolve() for d in project.meta.data}
    found = []
    for path in sorted(project.folder.rglob("*")):
        rel = path.relative_to(project.folder)
        if any(part.startswith(".") or part in _SKIP_DIRS for part in rel.parts):
            continue
        if not path.is_file() or rel.as_posix() in skip or path.suffix == ".pyc":
            continue
        is_declared = any(path.resolve().is_relative_to(d) for d in declared)
        if ignored(rel.as_posix()) and not is_declared:
            continue
        found.append(path)
    return found


def file_hashes(project: Project, root: Path, outputs: list[str] = ()) -> dict[str, str]:
    return {
        p.relative_to(project.folder).as_posix(): _sha(p.read_bytes())
        for p in project_files(project, root, outputs)
    }


def local_module_hashes(root: Path, modules: list[str]) -> dict[str, str]:
    """The repository's own Python modules outside the project that its last run imported
    (``lib/features.py`` shared by several projects): a change there re-runs the project."""
    hashes = {}
    for rel in modules:
        path = root / rel
        hashes[f"{REPO_PREFIX}{rel}"] = _sha(path.read_bytes()) if path.is_file() else "missing"
    return hashes


def inputs_of(project: Project, root: Path, previous: RunResult | None = None) -> Inputs:
    run = previous.run if previous else {}
    files = file_hashes(project, root, list(run.get("outputs", [])))
    files.update(local_module_hashes(root, run.get("local_modules", [])))
    return Inputs(files, project.meta.training_fields(), library_versions())


def written_by_run(project: Project, root: Path, before: Inputs) -> list[str]:
    """Files the script created or changed in its own folder while it ran."""
    after = file_hashes(project, root)
    return sorted(name for name, digest in after.items() if before.files.get(name) != digest)


def outputs_to_handle(root: Path, project: Project, outputs: list[str]) -> list[str]:
    """Files the last run wrote in the project folder that are still there and that git
    neither ignores nor tracks: each is for the owner to add to .gitignore or commit."""
    import subprocess

    ignored = _ignored(root, project)
    present = [o for o in outputs if (project.folder / o).is_file() and not ignored(o)]
    if not present:
        return []
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--", *present], cwd=project.folder,
                                capture_output=True, text=True, check=False)
    except OSError:  # no git installed: nothing is tracked
        return present
    if listed.returncode != 0:  # not a git repository: nothing is tracked
        return present
    tracked = set(listed.stdout.split("\0"))
    return [o for o in present if o not in tracked]


def state_of(workspace: Workspace, project: Project) -> ProjectState:
    folder = workspace.results_for(project.slug)
    return ProjectState(project, RunResult.load(folder), RunResult.load(folder / "failed"))


@dataclass(frozen=True)
class Decision:
    state: ProjectState
    inputs: Inputs
    label: str  # fresh, stale, failed, never run
    reasons: list[str]

    @property
    def must_run(self) -> bool:
        return self.label != "fresh"


def decide(workspace: Workspace, project: Project) -> Decision:
    state = state_of(workspace, project)
    inputs = inputs_of(project, workspace.root, state.good)
    if state.failure is not None:
        return Decision(state, inputs, "failed", [f"last run {state.failure.status}"])
    if state.good is None:
        return Decision(state, inputs, "never run", ["never run"])
    recorded = state.good.run.get("inputs") or {}
    if state.good.run.get("input_hash") == inputs.digest:
        return Decision(state, inputs, "fresh", [])
    return Decision(state, inputs, "stale", why_changed(recorded, inputs.as_dict()))


def why_changed(before: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """Human reasons, cheapest-to-read first: 'train.py changed', 'keras 3.5 → 3.6'."""
    reasons = []
    old_files, new_files = before.get("files", {}), now["files"]
    for name in sorted(set(old_files) | set(new_files)):
        if name not in old_files:
            reasons.append(f"{name} added")
        elif name not in new_files:
            reasons.append(f"{name} removed")
        elif old_files[name] != new_files[name]:
            reasons.append(f"{name} changed")
    for key, value in now["meta"].items():
        if before.get("meta", {}).get(key) != value:
            reasons.append(f"project.yaml {key} changed")
    for lib, version in now["versions"].items():
        old = before.get("versions", {}).get(lib)
        if old != version:
            reasons.append(f"{lib} {old or 'absent'} → {version}")
    if before.get("format") != now["format"]:
        reasons.append("results format changed")
    return reasons or ["inputs changed"]
