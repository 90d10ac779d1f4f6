"""Bad input and odd files: one located message and exit 2, never a traceback or a hang."""

from __future__ import annotations

from pathlib import Path

import pytest
from portfolio import config, discover, schema, yamlpos
from portfolio.domain import Workspace
from portfolio.errors import ConfigError, MetadataError

from tests.conftest import portfolio_cli, yaml_problems

BOMB = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9 if prev else ['lol'] * 9)}]\n"
    for prev, name in zip(["", *"abcdefgh"], "abcdefghi", strict=True))


problems_in = yaml_problems


def test_the_bomb_is_small() -> None:
    assert len(BOMB) < 400 and BOMB.count("*") == 72


@pytest.mark.parametrize(("content", "expected"), [
    ("title: caf\xe9\n".encode("latin-1"),
     "project.yaml:1:11: not UTF-8 text: byte 0xe9 (saved as Latin-1 or another encoding?)"),
    (b"title: T\nsummary: ok\ntags: [\xff]\n", "project.yaml:3:8: not UTF-8 text: byte 0xff"),
    (("title: " + "[" * 5000 + "]" * 5000 + "\n").encode(),
     "project.yaml:1:71: invalid YAML: nested deeper than 64 levels"),
    (BOMB.encode(), "project.yaml:5:8: invalid YAML: aliases repeat more than 10000 values"),
    (b"title: &x [*x]\n",
     "project.yaml:1:12: invalid YAML: alias *x is inside the value it names (a cycle)"),
    (b"title: T\nmetric: &m {name: acc, <<: *m}\n", "project.yaml:2:28: invalid YAML: alias *m"),
    (b"title: T\nseed: 1" + b"0" * 5000 + b"\n", "project.yaml:2:7: invalid YAML: exceeds the"),
    (b"title: T\nseed: -1\n",
     "project.yaml:2:1: seed: expected a whole number from 0 to 4294967295 (2**32 - 1)"),
    (b"title: T\nseed: 4294967296\n",
     "project.yaml:2:1: seed: expected a whole number from 0 to 4294967295 (2**32 - 1)"),
    (b"title: '   '\n", "project.yaml:1:1: title: must not be blank"),
    (b"title: ''\n", "project.yaml:1:1: title: must not be blank"),
])
def test_odd_project_yaml_gives_one_located_problem(tmp_path: Path, content: bytes,
                                                     expected: str) -> None:
    [problem] = problems_in(tmp_path, content)
    assert problem.lower().startswith(expected.lower()), problem


def test_the_largest_seed_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "project.yaml"
    path.write_text("title: T\nseed: 4294967295\n")
    meta, problems = schema.parse(path)
    assert problems == [] and meta is not None and meta.seed == 2**32 - 1


def test_a_huge_file_is_refused_without_being_read(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "project.yaml"
    with path.open("wb") as fh:
        fh.write(b"title: T\n")
        fh.write(b"# padding\n" * 5_000_000)  # 50 MB
    parsed: list[str] = []
    monkeypatch.setattr(yamlpos, "load", lambda text, *a: parsed.append(text))
    meta, [problem] = schema.parse(path)
    assert meta is None and parsed == []
    assert (problem.line, problem.message) == (
        1, "file is larger than 1024 KB, not read: too big for a hand-written file")


def test_aliases_within_the_budget_still_work(tmp_path: Path) -> None:
    path = tmp_path / "project.yaml"
    path.write_text("title: T\nmetric: &m {name: rmse}\nbaselines:\n"
                    "  - {<<: *m, value: 3}\ntags: [&t cnn, *t]\n")
    meta, problems = schema.parse(path)
    assert problems == [] and meta is not None
    assert (meta.baselines[0].name, meta.tags) == ("rmse", ["cnn", "cnn"])


def test_a_slug_too_long_for_a_file_name_is_refused(tiny: Path) -> None:
    long = "a" * 120
    (tiny / "projects" / "tutorial").rename(tiny / "projects" / long)
    with pytest.raises(MetadataError) as caught:
        discover.discover(Workspace(tiny))
    [problem] = caught.value.problems
    assert problem.file == tiny / "projects" / long / "project.yaml"
    assert "folder name is 120 characters long" in problem.message
    assert "at most 100" in problem.message


ODD_FILES = {
    "latin1": ("title: caf\xe9\n".encode("latin-1"), ":1:11: not UTF-8 text"),
    "deep": (("title: " + "[" * 3000 + "]" * 3000).encode(), ":1:71: invalid YAML: nested"),
    "bomb": (BOMB.encode(), ":5:8: invalid YAML: aliases repeat more than 10000 values"),
    "cycle": (b"title: &x [*x]\n", ":1:12: invalid YAML: alias *x is inside"),
    "huge": (b"title: T\n" + b"#" * 2 * 1024 * 1024, ":1:1: file is larger than 1024 KB"),
    "seed": (b"title: T\nseed: 4294967296\n", ":2:1: seed: expected a whole number"),
    "blank": (b"title: ' '\n", ":1:1: title: must not be blank"),
}


@pytest.mark.cli
@pytest.mark.parametrize("command", ["check", "build"])
def test_check_and_build_report_every_odd_file_with_exit_2(tiny: Path, command: str) -> None:
    for name, (content, _) in ODD_FILES.items():
        folder = tiny / "projects" / name
        folder.mkdir()
        (folder / "train.py").write_text("print(1)\n")
        (folder / "project.yaml").write_bytes(content)
    long = tiny / "projects" / ("b" * 200)
    long.mkdir()
    (long / "project.yaml").write_text("title: Long\n")
    result = portfolio_cli(command, cwd=tiny, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    for name, (_, expected) in ODD_FILES.items():
        assert sum(line.startswith(f"projects/{name}/project.yaml{expected}")
                   for line in lines) == 1, (name, result.stderr)
    assert any(line.startswith(f"projects/{long.name}/project.yaml:1:1: folder name is 200")
               for line in lines)
    assert not (tiny / "results").exists() and not (tiny / "site").exists()


def test_a_bad_path_in_data_points_at_its_item(tiny: Path) -> None:
    meta = tiny / "projects" / "tutorial" / "project.yaml"
    meta.write_text("title: T\ndata:\n  - train.py\n  - missing.csv\n")
    with pytest.raises(MetadataError) as caught:
        discover.discover(Workspace(tiny))
    [problem] = caught.value.problems
    assert (problem.line, problem.column, problem.key) == (4, 5, "data[1]")


MKDOCS = """site_name: x
theme:
  name: material
extra:
  portfolio:
    headline: Hello
    name: 3
    links:
      name: x
"""


def test_a_bad_profile_value_points_at_its_own_line_not_the_themes(tmp_path: Path) -> None:
    path = tmp_path / "mkdocs.yml"
    path.write_text(MKDOCS)
    with pytest.raises(ConfigError, match=r"mkdocs.yml:7: extra\.portfolio\.name: "):
        config.profile_of(config.load_mkdocs_yml(path), path)
    path.write_text(MKDOCS.replace("name: 3", "name: Ada"))
    with pytest.raises(ConfigError, match=r"mkdocs.yml:9: extra\.portfolio\.links\.name: "):
        config.profile_of(config.load_mkdocs_yml(path), path)


def test_mkdocs_yml_keeps_mkdocs_tags_and_refuses_cycles(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "mkdocs.yml"
    monkeypatch.setenv("PORTFOLIO_TEST_NAME", "Ada")
    path.write_text("site_name: x\nextra:\n  portfolio:\n    name: !ENV PORTFOLIO_TEST_NAME\n")
    assert config.profile_of(config.load_mkdocs_yml(path), path).name == "Ada"
    path.write_text("site_name: x\ntheme: &t {name: *t}\n")
    with pytest.raises(ConfigError, match=r"mkdocs\.yml:2:18: invalid YAML: alias"):
        config.load_mkdocs_yml(path)
    path.write_bytes(b"site_name: Ren\xe9\n")
    with pytest.raises(ConfigError, match=r"mkdocs\.yml:1:15: not UTF-8 text"):
        config.load_mkdocs_yml(path)


def test_an_engine_error_on_a_nested_key_points_at_that_key(tmp_path: Path) -> None:
    from portfolio import site

    path = tmp_path / "mkdocs.yml"
    path.write_text("site_name: x\ntheme:\n  font: false\n  name: nope\n")
    assert site._located(path, "Config value 'theme.name': unknown") == \
        f"{path}:4: theme.name: unknown"


@pytest.mark.cli
def test_a_self_referencing_alias_is_a_located_error_in_check(tiny: Path) -> None:
    (tiny / "projects" / "tutorial" / "project.yaml").write_text("title: &x [*x]\n")
    result = portfolio_cli("check", cwd=tiny)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "projects/tutorial/project.yaml:1:12: invalid YAML: alias *x" in result.stderr
