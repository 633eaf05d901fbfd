"""Layering: the domain is pure; storage and reference loading never pull in Textual.

Imports run in a fresh interpreter (a subprocess) so that modules imported by other
tests cannot hide a violation. Modules are discovered with pkgutil, so new ones are
covered without touching this file.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import at_tui

SRC = Path(at_tui.__file__).resolve().parent.parent
DOMAIN_DIR = Path(at_tui.__file__).resolve().parent / "domain"

# What a pure module must not import, directly (source check) — I/O, UI, storage, network.
FORBIDDEN_IN_DOMAIN = {
    "os", "io", "pathlib", "shutil", "tempfile", "glob", "subprocess", "socket", "select",
    "sqlite3", "sqlite_utils", "httpx", "requests", "urllib", "http", "asyncio", "threading",
    "tomllib", "platformdirs", "keyring", "textual", "rich",
    "at_tui.store", "at_tui.reference", "at_tui.workspace", "at_tui.paths", "at_tui.app",
    "at_tui.cli", "at_tui.exchange", "at_tui.files", "at_tui.screens", "at_tui.widgets",
}
# Checked in sys.modules after importing only the domain (pydantic itself loads os, socket...).
FORBIDDEN_LOADED_BY_DOMAIN = (
    "sqlite3", "_sqlite3", "sqlite_utils", "httpx", "requests", "textual", "rich", "platformdirs",
    "keyring", "tomllib", "at_tui.store", "at_tui.reference", "at_tui.workspace", "at_tui.paths",
)


def run_python(code: str) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}
    env.pop("AT_TUI_FIXTURES", None)
    completed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


DISCOVER = """
import importlib, json, pkgutil, sys

def import_tree(name):
    package = importlib.import_module(name)
    found = [name]
    for info in pkgutil.walk_packages(package.__path__, name + "."):
        importlib.import_module(info.name)
        found.append(info.name)
    return found
"""


def test_domain_modules_are_discovered() -> None:
    """The discovery itself works and sees every file of at_tui/domain."""
    result = run_python(DISCOVER + "print(json.dumps(import_tree('at_tui.domain')))")
    on_disk = {f"at_tui.domain.{p.stem}" for p in DOMAIN_DIR.glob("*.py") if p.stem != "__init__"}
    assert on_disk <= set(result)
    assert {"at_tui.domain.classification", "at_tui.domain.playbook", "at_tui.domain.answers"} <= set(result)


def test_domain_imports_no_storage_network_or_ui() -> None:
    result = run_python(
        DISCOVER
        + f"""
imported = import_tree('at_tui.domain')
forbidden = {FORBIDDEN_LOADED_BY_DOMAIN!r}
print(json.dumps({{"imported": imported,
                   "loaded": sorted(m for m in forbidden if m in sys.modules)}}))
"""
    )
    assert len(result["imported"]) > 5
    assert result["loaded"] == [], f"le domaine charge : {result['loaded']}"


def test_store_reference_sync_and_workspace_do_not_import_textual(tmp_path: Path) -> None:
    result = run_python(
        DISCOVER
        + f"""
from pathlib import Path
imported = [name for package in ('at_tui.domain', 'at_tui.store', 'at_tui.importers', 'at_tui.reference',
                                  'at_tui.exchange', 'at_tui.synthetic', 'at_tui.documents')
            for name in import_tree(package)]
for name in ('at_tui.workspace', 'at_tui.crash', 'at_tui.cli.contacts', 'at_tui.cli.extracts'):
    importlib.import_module(name)
    imported.append(name)
after_import = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))
# httpx loads rich for its own command line when rich is installed: the sync is held to "no Textual".
imported += import_tree('at_tui.sync') + ['at_tui.cli.sync']
importlib.import_module('at_tui.cli.sync')
sync_loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'textual')

# Using them (lazy imports included) must not pull Textual in either.
from at_tui.workspace import Workspace
ws = Workspace(Path({str(tmp_path / "db.sqlite3")!r}))
visit, errors = ws.start_visit({{"structure": "CPTS Cœur d'Hérault", "departement": "34",
                                "typologie": "CPTS/MSP", "visit_date": "22/11/2026"}})
assert not errors, errors
ws.save_answer(visit, "opportunite", True)
ws.save_answer(visit, "utilisateurs_potentiels", "8")
ws.save_answer(visit, "messagerie_seule", True)
ws.deliverables(ws.visits.require(visit.id))
from at_tui.domain.lookup import Query
assert ws.search_directory(Query.parse("dac 32")).entries
ws.complete_structures("ehpad")
ws.close()
after_use = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))
print(json.dumps({{"imported": imported, "after_import": after_import, "after_use": after_use,
                  "sync_loaded": sync_loaded}}))
"""
    )
    assert {"at_tui.store.visits", "at_tui.store.migrations", "at_tui.reference.loader", "at_tui.sync.engine",
            "at_tui.synthetic.finess"} <= set(result["imported"])
    assert result["after_import"] == []
    assert result["sync_loaded"] == []
    assert [m for m in result["after_use"] if m.split(".")[0] == "textual"] == []


def test_central_service_does_not_import_textual() -> None:
    """The central service (a server: FastAPI, uvicorn) never pulls in the terminal UI."""
    pytest.importorskip("fastapi")
    result = run_python(
        DISCOVER
        + """
imported = import_tree('at_tui.central')
for name in ('at_tui.cli.central', 'uvicorn'):
    importlib.import_module(name)
    imported.append(name)
print(json.dumps({"imported": imported,
                  "loaded": sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))}))
"""
    )
    assert {"at_tui.central.app", "at_tui.central.sqlite_storage", "at_tui.central.storage"} <= set(result["imported"])
    assert result["loaded"] == [], f"le service central charge : {result['loaded']}"


def _domain_files() -> list[Path]:
    files = sorted(DOMAIN_DIR.rglob("*.py"))
    assert files, DOMAIN_DIR
    return files


def _imports(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "__import__":
            names.append("__import__")
    return names


@pytest.mark.parametrize("path", _domain_files(), ids=lambda p: p.name)
def test_domain_source_has_no_io_imports(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    bad = [
        name
        for name in _imports(tree)
        if name == "__import__"
        or any(name == banned or name.startswith(banned + ".") for banned in FORBIDDEN_IN_DOMAIN)
    ]
    assert bad == [], f"{path.name} importe {bad}"
    opens = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("open", "exec", "eval")
    ]
    assert opens == [], f"{path.name} fait des entrées/sorties (lignes {opens})"


def test_source_check_would_catch_a_violation(tmp_path: Path) -> None:
    """Guard against a vacuous check: the detector flags a bad module."""
    tree = ast.parse("import sqlite3\nfrom pathlib import Path\nfrom at_tui.store.db import connect\n")
    names = _imports(tree)
    assert names == ["sqlite3", "pathlib", "at_tui.store.db"]
    assert all(any(n == b or n.startswith(b + ".") for b in FORBIDDEN_IN_DOMAIN) for n in names)


def test_screens_have_no_import_cycle() -> None:
    """No screen module imports, even lazily, a module that imports it back (visit_steps maps a step to its screen)."""
    screens = Path(at_tui.__file__).resolve().parent / "screens"
    graph: dict[str, set[str]] = {}
    for path in screens.glob("*.py"):
        name = f"at_tui.screens.{path.stem}"
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("at_tui.screens."):
                found.add(node.module)
        graph[name] = found

    def reaches(start: str, target: str, seen: set[str]) -> bool:
        for nxt in graph.get(start, ()):
            if nxt == target or (nxt not in seen and (seen.add(nxt) or reaches(nxt, target, seen))):
                return True
        return False

    cycles = sorted(name for name in graph if reaches(name, name, set()))
    assert not cycles, f"cycle d'imports entre écrans : {cycles}"


# The package root shows the layers (packages) and little else: the app, its working set, where its
# files live, how a file is written, and the crash report.
ROOT_MODULES = {"__init__", "__main__", "app", "workspace", "paths", "files", "crash"}


def test_package_root_holds_only_the_layers() -> None:
    root = Path(at_tui.__file__).resolve().parent
    loose = {p.stem for p in root.glob("*.py")} - ROOT_MODULES
    assert not loose, f"modules en vrac à la racine du paquet (à ranger dans un sous-paquet) : {sorted(loose)}"
    packages = {p.name for p in root.iterdir() if (p / "__init__.py").is_file()}
    assert {"domain", "store", "sync", "screens", "widgets", "cli", "reference", "central", "documents"} <= packages
