"""The compte rendu's HTML in a real browser (issue 12 §3): headless Chromium parses it (sections,
accents, no-break spaces), screenshots it at A4 proportions and prints it on A4."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from visit_report_helpers import whole_visit

from at_tui.documents.visit_report import export_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium absent : installer le paquet Debian chromium pour vérifier le rendu HTML"
)
TIMEOUT = 120


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """One headless run with its own profile (runs in parallel never share one)."""
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'profil'}",
         *args],
        capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )


@pytest.fixture
def html_path(workspace, tmp_path: Path) -> Path:
    import datetime as dt

    _, path = export_report(workspace, whole_visit(workspace), tmp_path / "cr", dt.date(2027, 1, 15))
    return path


def png_facts(path: Path) -> tuple[int, int, int]:
    """Width, height and how many different byte values the pixels hold (a blank page holds few)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    pixels, position = b"", 8
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        if kind == b"IDAT":
            pixels += data[position + 8:position + 8 + length]
        position += 12 + length
    return width, height, len(set(zlib.decompress(pixels)))


def test_the_browser_reads_every_section(html_path: Path, tmp_path: Path) -> None:
    result = chromium(tmp_path, "--dump-dom", html_path.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert "<h1>Compte rendu de visite — MSP de Lectoure</h1>" in dom
    for title in ("Participants", "Ce qui a été présenté", "Recueil des opportunités offre USE",
                  "Classification de la demande", "Suite"):
        assert f"<h2>{title}</h2>" in dom
    # Read as UTF-8: accents and no-break spaces intact (the DOM serializes U+00A0 as &nbsp;).
    assert "ciblés\u202f?</strong> Le CH d'Auch et l'équipe «&nbsp;plaies&nbsp;»." in dom
    assert "01/01/2027 (en retard)" in dom


def test_screenshot_and_a4_print(html_path: Path, tmp_path: Path) -> None:
    png, pdf = tmp_path / "compte-rendu.png", tmp_path / "compte-rendu.pdf"
    shot = chromium(tmp_path, f"--screenshot={png}", "--window-size=1240,1754", "--hide-scrollbars",
                    html_path.as_uri())
    assert shot.returncode == 0, shot.stderr[-2000:]
    width, height, values = png_facts(png)
    assert (width, height) == (1240, 1754)
    assert values > 50, "page blanche"
    printed = chromium(tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", html_path.as_uri())
    assert printed.returncode == 0, printed.stderr[-2000:]
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and len(data) > 10_000
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    assert boxes, "no page in the PDF"
    for width_pt, height_pt in boxes:  # A4: 595 x 842 points
        assert abs(float(width_pt) - 595.3) < 1 and abs(float(height_pt) - 841.9) < 1
