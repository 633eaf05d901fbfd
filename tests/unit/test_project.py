"""The project's promises about itself: the two README commands, CI, test pins, packaged data."""

from __future__ import annotations

import ast
import fnmatch
import re
import sys
import tomllib
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def code_blocks() -> list[tuple[str, str]]:
    """(language, body) of every fenced block of the README, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [(m.group(1).strip(), m.group(2)) for m in FENCE.finditer(text)]


def readme_commands() -> list[str]:
    return [body.strip() for _, body in code_blocks()[:2]]


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_readme_starts_with_two_one_line_shell_commands():
    blocks = code_blocks()
    assert len(blocks) >= 2
    for language, body in blocks[:2]:
        assert language == "sh"
        lines = [line for line in body.splitlines() if line.strip()]
        assert len(lines) == 1, body
    install_and_run, install_and_test = readme_commands()
    assert install_and_run.endswith("at-tui")
    assert "pip install -e '.[test]'" in install_and_test
    assert install_and_test.endswith("-m pytest")


def test_ci_runs_exactly_the_readme_test_command():
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("#!")
    code = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
    cd = next(i for i, line in enumerate(code) if line.startswith("cd "))
    assert code[cd + 1:] == [readme_commands()[1]]
    assert "set -euo pipefail" in code[:cd]


def test_ci_gives_the_tests_a_throwaway_postgresql_stopped_at_exit():
    """Issue 13: in CI the central's tests run on PostgreSQL too. `.ci/run` starts the server with
    the system python3, before any venv exists: `tests/postgres_server.py` must need only the
    standard library at import (psycopg is imported inside the functions that create databases)."""
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    code = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
    before_cd = code[:next(i for i, line in enumerate(code) if line.startswith("cd "))]
    assert any('tests/postgres_server.py" start' in line for line in before_cd)
    assert any(line.startswith("trap ") and 'tests/postgres_server.py" stop' in line and line.endswith("EXIT")
               for line in before_cd)
    assert any(line.startswith("export AT_TUI_TEST_POSTGRES=") for line in before_cd)
    tree = ast.parse((ROOT / "tests" / "postgres_server.py").read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in tree.body if isinstance(node, ast.ImportFrom) and node.module}
    assert imported and imported <= set(sys.stdlib_module_names), imported - set(sys.stdlib_module_names)


def test_test_extra_pins_pytest_and_the_snapshot_plugin():
    test_extra = pyproject()["project"]["optional-dependencies"]["test"]
    assert "pytest>=8,<9" in test_extra
    assert "pytest-textual-snapshot==1.1.0" in test_extra


def gitignore_patterns() -> list[str]:
    path = ROOT / ".gitignore"
    if not path.exists():
        return []
    return [
        line.strip() for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]


def ignored(relative: Path, patterns: list[str]) -> bool:
    """Whether a .gitignore pattern (which hatchling honours when building) excludes the file."""
    parts = relative.parts
    for pattern in patterns:
        bare = pattern.strip("/")
        if "/" in bare:
            if fnmatch.fnmatch(relative.as_posix(), bare) or relative.as_posix().startswith(bare + "/"):
                return True
        elif any(fnmatch.fnmatch(part, bare) for part in parts):
            return True
    return False


def test_data_files_ship_in_the_wheel():
    config = pyproject()["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert config["packages"] == ["src/at_tui"]
    assert not config.get("exclude")
    package = ROOT / "src" / "at_tui"
    fixtures = package / "fixtures"
    data = sorted(fixtures.rglob("*.toml"))
    names = {p.relative_to(fixtures).as_posix() for p in data}
    assert "territory.toml" in names
    assert any(n.startswith("playbooks/") for n in names)
    assert any(n.startswith("questionnaires/") for n in names)
    patterns = gitignore_patterns()
    for path in [*data, package / "help.md", package / "app.tcss"]:
        assert path.is_file()
        assert not ignored(path.relative_to(ROOT), patterns), f"{path} is git-ignored: left out of the wheel"


def test_the_installed_package_carries_the_same_data_files():
    def tree(root) -> dict[str, str]:
        found = {}
        for entry in root.iterdir():
            if entry.is_dir():
                found.update({f"{entry.name}/{k}": v for k, v in tree(entry).items()})
            elif entry.name.endswith(".toml"):
                found[entry.name] = entry.read_text(encoding="utf-8")
        return found

    installed = tree(resources.files("at_tui") / "fixtures")
    source = tree(ROOT / "src" / "at_tui" / "fixtures")
    assert installed == source
    assert len(installed) >= 3
