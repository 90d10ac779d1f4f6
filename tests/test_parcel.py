"""What travels to a Dask worker (``portfolio.parcel``): the project as its inputs hash
sees it, the repository modules it imports, and nothing else; and the run folder back."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from conftest import FIXTURES, make_project
from portfolio import parcel


def names(archive: bytes) -> set[str]:
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        return {m.name for m in tar.getmembers() if m.isfile()}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "lib").mkdir(parents=True)
    (root / "lib" / "features.py").write_text("import shapes\n\ndef make():\n    return 1\n")
    (root / "lib" / "shapes.py").write_text("SIDE = 3\n")
    (root / "shared" / "nested").mkdir(parents=True)
    for rel in ("shared/__init__.py", "shared/io.py", "shared/nested/__init__.py",
                "shared/nested/deep.py"):
        (root / rel).write_text("import os\n")
    (root / "unused.py").write_text("print('not imported')\n")
    (root / ".gitignore").write_text("*.tmp\nbig/\n")
    return root


def test_the_project_travels_as_its_inputs_hash_sees_it(repo: Path) -> None:
    folder = make_project(repo, "p", "import helper\nimport features\nfrom shared import io\n",
                          "data: [big/train.csv]\n")
    (folder / "helper.py").write_text("X = 1\n")
    (folder / "scratch.tmp").write_text("ignored by git\n")
    (folder / ".secret").write_text("hidden\n")
    (folder / "big").mkdir()
    (folder / "big" / "train.csv").write_text("a,b\n1,2\n")
    (folder / "big" / "other.csv").write_text("ignored, not declared\n")
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "helper.cpython-311.pyc").write_bytes(b"\0")

    modules = parcel.local_modules(repo, folder)
    archive = parcel.pack_project(repo, folder, ["big/train.csv"], modules)

    # lib/ is found through the name it is imported by; shapes through features; the
    # package whole; the project's own helper.py travels with the folder, not as a module.
    assert modules == ["lib/features.py", "lib/shapes.py", "shared/__init__.py",
                       "shared/io.py", "shared/nested/__init__.py", "shared/nested/deep.py"]
    assert names(archive) == {
        "projects/p/project.yaml", "projects/p/train.py", "projects/p/helper.py",
        "projects/p/big/train.csv", *modules}


def test_a_notebook_s_imports_travel_too(repo: Path) -> None:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    folder = make_project(repo, "nb", "", "script: train.ipynb\n")
    (folder / "train.py").unlink()
    nbformat.write(new_notebook(cells=[new_code_cell("%matplotlib inline\nimport features")]),
                   folder / "train.ipynb")
    assert parcel.local_modules(repo, folder) == ["lib/features.py", "lib/shapes.py"]


def test_recorded_modules_and_the_import_path_come_first(repo: Path) -> None:
    folder = make_project(repo, "p", "import features\nname = 'computed'\n")
    (repo / "src").mkdir()
    (repo / "src" / "features.py").write_text("# the one on PYTHONPATH\n")
    (repo / "extra.py").write_text("# imported by a computed name, recorded by a run\n")

    modules = parcel.local_modules(repo, folder, recorded=["extra.py", "gone.py"],
                                   pythonpath=["src"])

    assert modules == ["extra.py", "src/features.py"]


def test_pythonpath_entries_inside_the_repository(repo: Path, tmp_path: Path) -> None:
    value = f"{repo / 'src'}:{tmp_path / 'elsewhere'}:{repo}"
    assert parcel.repository_pythonpath(repo, value) == ["src", "."]


def test_the_run_folder_comes_back_whole(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "figures").mkdir(parents=True)
    (run / "run.json").write_text("{}")
    (run / "figures" / "loss.png").write_bytes(b"\x89PNG")
    back = tmp_path / "back"
    parcel.unpack(parcel.pack_folder(run), back)
    assert (back / "figures" / "loss.png").read_bytes() == b"\x89PNG"
    assert (back / "run.json").read_text() == "{}"


def test_an_archive_cannot_write_outside_its_folder(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        data = b"escaped"
        info = tarfile.TarInfo("../outside.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(tarfile.OutsideDestinationError):
        parcel.unpack(buffer.getvalue(), tmp_path / "inside")
    assert not (tmp_path / "outside.txt").exists()


@pytest.mark.cli
def test_a_bad_executor_in_mkdocs_yml_is_located(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    yml = (FIXTURES / "tiny" / "mkdocs.yml").read_text().replace(
        "  portfolio:\n", "  portfolio:\n    executor: spark\n", 1)
    (root / "mkdocs.yml").write_text(yml)
    make_project(root, "p", "print(1)\n")
    line = yml.splitlines().index("    executor: spark") + 1
    result = subprocess.run([sys.executable, "-m", "portfolio", "build"], cwd=root,
                            capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 2
    assert f"mkdocs.yml:{line}: extra.portfolio.executor: input should be 'local' or " \
           "'dask'" in result.stderr


def test_a_recorded_module_outside_the_repository_never_travels(repo: Path,
                                                                tmp_path: Path) -> None:
    folder = make_project(repo, "p", "print(1)\n")
    (tmp_path / "secret.py").write_text("KEY = 'not for the cluster'\n")
    modules = parcel.local_modules(repo, folder, recorded=["../secret.py",
                                                           str(tmp_path / "secret.py")])
    assert modules == []


def test_planning_on_a_cluster_uses_the_versions_of_the_workers_that_can_take_it() -> None:
    from types import SimpleNamespace

    from portfolio.cluster import Cluster

    cpu = {"python": "3.11.7", "tensorflow": "2.21.0"}
    gpu = {"python": "3.11.7", "tensorflow": "2.20.0"}
    cluster = SimpleNamespace(
        workers={"tcp://a:1": {"versions": cpu}, "tcp://b:1": {"versions": cpu},
                 "tcp://g:1": {"versions": gpu}},
        _alive={"tcp://a:1": {"resources": {}}, "tcp://b:1": {"resources": {}},
                "tcp://g:1": {"resources": {"GPU": 1.0}}})

    def versions_for(resources: dict[str, float], recorded: dict[str, str] | None) -> dict:
        return Cluster.versions_for(cluster, resources, recorded)  # type: ignore[arg-type]

    # Pinned to the GPU worker: its versions, whatever the majority has.
    assert versions_for({"GPU": 1}, None) == gpu
    assert versions_for({"GPU": 1}, gpu) == gpu
    # Free to go anywhere: fresh if it ran where it may run again, else the most common.
    assert versions_for({}, gpu) == gpu
    assert versions_for({}, cpu) == cpu
    assert versions_for({}, {"python": "3.12.0", "tensorflow": "2.21.0"}) == cpu


@pytest.mark.cli
def test_a_project_trained_on_a_cluster_is_judged_with_the_versions_it_recorded(
        tmp_path: Path) -> None:
    """`portfolio status` (and --require-fresh) on a machine whose libraries differ from
    the workers': a project that ran on a cluster stays fresh; one that ran here does
    not."""
    import json

    from portfolio.plan import Inputs

    root = tmp_path / "repo"
    root.mkdir()
    (root / "mkdocs.yml").write_text((FIXTURES / "tiny" / "mkdocs.yml").read_text())
    make_project(root, "p", "import portfolio\nportfolio.log_metric('accuracy', 0.5)\n")
    built = subprocess.run([sys.executable, "-m", "portfolio", "run", "--no-warm"], cwd=root,
                           capture_output=True, text=True, check=False, timeout=300)
    assert built.returncode == 0, built.stderr

    def trained(executor: str) -> str:
        path = root / "results" / "p" / "run.json"
        record = json.loads(path.read_text())
        versions = {**record["inputs"]["versions"], "numpy": "0.0.1"}  # not this machine's
        inputs = Inputs(record["inputs"]["files"], record["inputs"]["meta"], versions,
                        record["inputs"]["format"])
        record.update(placement={"executor": executor}, input_hash=inputs.digest,
                      inputs=inputs.as_dict(), versions=versions)
        path.write_text(json.dumps(record))
        status = subprocess.run([sys.executable, "-m", "portfolio", "status"], cwd=root,
                                capture_output=True, text=True, check=False, timeout=120)
        return status.stdout + status.stderr

    assert "stale" not in trained("dask")
    assert "numpy 0.0.1 →" in trained("local")
