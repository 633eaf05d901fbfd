"""LibreOffice, the real reader of what the app writes (issue 12), for the tests that have it.

Importable as `real_readers` (pytest puts tests/ on sys.path). Each conversion gets its own
LibreOffice profile and HOME under the test's tmp_path: two runs never share a lock.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
needs_libreoffice = pytest.mark.skipif(
    SOFFICE is None, reason="LibreOffice absent : installer le paquet Debian libreoffice-calc")

# Every sheet to its own CSV: 44 = « , », 34 = « " », 76 = UTF-8, last token -1 = every sheet.
EVERY_SHEET_AS_CSV = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1"
# The CRM CSV: « ; », « " », UTF-8, from line 1, French (1036): JJ/MM/AAAA read as dates.
CRM_CSV_FILTER = "CSV:59,34,76,1,,1036"


def convert(files: list[Path], target: str, tmp_path: Path, *, infilter: str | None = None) -> Path:
    """Convert `files` with LibreOffice headless (`--convert-to target`); returns the folder written."""
    out = tmp_path / "libreoffice-out"
    command = [SOFFICE, f"-env:UserInstallation={(tmp_path / 'profil-libreoffice').as_uri()}", "--headless"]
    if infilter:
        command.append(f"--infilter={infilter}")
    command += ["--convert-to", target, "--outdir", str(out), *map(str, files)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False,
                          env={**os.environ, "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    return out
