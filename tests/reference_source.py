"""A data folder to publish (`at-tui central publish`), made from the bundled fixtures and edited by tests.

Plain helpers (no pytest fixture), importable by any test:

    root = copy_fixtures(tmp_path / "source")
    add_contacts(root, [contact("zz-jeanne-test", "Jeanne Testeuse")])
    edit(root, "directory/dac.toml", 'name = "Christine Diaz"', 'name = "Christine Diaz-Martin"')
    result = publish(db_path, root)
"""

from __future__ import annotations

import shutil
import subprocess
from importlib import resources
from pathlib import Path

from central_server import run_central_cli

TEST_FILE = "directory/zz-tests.toml"


def copy_fixtures(dest: Path) -> Path:
    with resources.as_file(resources.files("at_tui") / "fixtures") as bundled:
        shutil.copytree(bundled, dest)
    return dest


def restore(root: Path, relative: str) -> None:
    """Put back the bundled version of one file."""
    with resources.as_file(resources.files("at_tui") / "fixtures") as bundled:
        shutil.copyfile(bundled / relative, root / relative)


def publish(db: Path, root: Path | None = None) -> subprocess.CompletedProcess:
    return run_central_cli("publish", "--db", str(db), *([str(root)] if root is not None else []))


def contact(contact_id: str, name: str, departement: str = "32", email: str | None = None) -> str:
    """One `[[contacts]]` block, valid unless told otherwise."""
    email = email or f"{contact_id}@exemple.fr"
    return (
        f'[[contacts]]\nid = "{contact_id}"\nkind = "referent"\nname = "{name}"\norganisation = "GRADeS Occitanie"\n'
        f'role = "Référente de test"\ndepartements = ["{departement}"]\nemail = "{email}"\n'
        'source = { file = "tests", slide = "contact de test" }\nlast_checked = 2026-11-22\n'
    )


def add_contacts(root: Path, blocks: list[str]) -> None:
    path = root / TEST_FILE
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    path.write_text(existing + "\n".join(blocks) + "\n", encoding="utf-8")


def edit(root: Path, relative: str, old: str, new: str) -> None:
    path = root / relative
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} in {relative}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def remove_contact(root: Path, relative: str, contact_id: str) -> None:
    """Remove one `[[contacts]]` block (from its header to the next one) by its id."""
    path = root / relative
    blocks = path.read_text(encoding="utf-8").split("[[contacts]]")
    kept = [b for b in blocks if f'id = "{contact_id}"' not in b]
    assert len(kept) == len(blocks) - 1, contact_id
    path.write_text("[[contacts]]".join(kept), encoding="utf-8")
