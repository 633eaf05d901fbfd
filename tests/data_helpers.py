"""Helpers for the tests of the bundled data files (directory, argumentaire): a copy of the
fixtures to corrupt, one-edit corruption, and checks that an error is French and names file,
item and field. Importable as `data_helpers` (pytest puts `tests/` on sys.path)."""

from __future__ import annotations

import os
import re
import shutil
from importlib import resources
from pathlib import Path

import pytest

from at_tui.reference.loader import ReferenceDataError, load_reference

SEED_FILES = {
    "000_8cd7b3c9dcb7e50e.txt",
    "001_f565f25cf5719294.txt",
    "002_3ba0e5b07384dd8a.txt",
    "003_16b757b26d487eb8.txt",
    "004_f7222b5fc0dbfdde.txt",
}


def _seeds_dir() -> Path:
    """The seed documents: AT_TUI_SEEDS when set, else ../shared/seeds beside the checkout (as in CI)."""
    override = os.environ.get("AT_TUI_SEEDS")
    if override:
        return Path(override).expanduser()
    return Path(__file__).resolve().parents[2] / "shared" / "seeds"


SEEDS_DIR = _seeds_dir()
# Only the fidelity tests read the seeds; a fresh clone without them skips those alone.
# CI (CI=true) has them beside the checkout and must run these tests, so it never skips.
needs_seeds = pytest.mark.skipif(
    not os.environ.get("CI") and not all((SEEDS_DIR / name).is_file() for name in SEED_FILES),
    reason=f"documents seed absents de {SEEDS_DIR} : placez le dossier seeds du projet dans ../shared/seeds "
    "à côté du dépôt, ou indiquez son chemin dans AT_TUI_SEEDS",
)

# Words that betray an untranslated (English) pydantic message.
ENGLISH = re.compile(
    r"\b(Field required|Input should|Extra inputs|Value error|should be|is not|must be|or|expected|valid)\b"
)


def copy_fixtures(tmp_path: Path) -> Path:
    target = tmp_path / "fixtures"
    with resources.as_file(resources.files("at_tui") / "fixtures") as bundled:
        shutil.copytree(bundled, target)
    return target


def edit(root: Path, name: str, old: str, new: str) -> None:
    """Replace `old` (which must be there, once) in one data file."""
    path = root / name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} introuvable (ou ambigu) dans {name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def load_error(root: Path) -> str:
    with pytest.raises(ReferenceDataError) as caught:
        load_reference(root)
    return str(caught.value)


def assert_names(message: str, *, file: str, item: str | None = None, field: str | None = None) -> None:
    assert file in message, f"le fichier {file} n'est pas cité :\n{message}"
    if item is not None:
        assert f"« {item} »" in message, f"l'élément « {item} » n'est pas cité :\n{message}"
    if field is not None:
        assert f"champ « {field} »" in message, f"le champ {field} n'est pas cité :\n{message}"


def assert_french(message: str) -> None:
    assert message.startswith("Fichier "), message
    found = ENGLISH.search(message)
    assert found is None, f"mot anglais « {found.group(0) if found else ''} » dans :\n{message}"


def seed_text(name: str) -> str:
    path = SEEDS_DIR / name
    assert path.is_file(), f"seed {name} introuvable ({SEEDS_DIR}) : mettez needs_seeds sur ce test"
    return path.read_text(encoding="utf-8")
