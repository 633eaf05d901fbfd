"""The monthly CM–AT pack as a standalone page (issue 12 §4), to project or print for the meeting.

Seed 000, « Gouvernance — POINT CM - AT 1x/mois / zone (Est/Ouest) » : the meeting walks
through the deployment file; « remontées terrain » are its last item. The page reads like
the workbook's « Ordre du jour »: the period, a table of counts per département, then each
département with its sections; the zone's indicators (`documents.charts_html`) come last.
Every text from the store is made printable and its Markdown markers escaped (`markdown_text`), so a note
can neither become markup nor change the page's structure (`html_page` renders with raw HTML off).
"""

from __future__ import annotations

from pathlib import Path

from at_tui.documents.html_page import page
from at_tui.documents.markdown_text import inline
from at_tui.domain.cm_at_pack import SECTIONS, CmAtPack, PackItem, french_day
from at_tui.domain.redaction import printable


def pack_page(pack: CmAtPack, charts_html: str = "") -> str:
    """The whole HTML document; `charts_html`: trusted markup (the indicators' SVG charts)."""
    return page(pack.title, pack_markdown(pack), charts_html)


def write_pack_html(pack: CmAtPack, path: Path, charts_html: str = "") -> None:
    """Write the page to `path` (0600, whole or not at all). Raises OSError or TargetRefused."""
    from at_tui.files import write_atomically

    write_atomically(path, pack_page(pack, charts_html))


def pack_markdown(pack: CmAtPack) -> str:
    lines = [f"# {md(pack.title)}", "", md(pack.period) + ".", "", f"*{md(pack.rules)}*", "", "## Sommaire", "",
             "| Département | " + " | ".join(title for _, title in SECTIONS) + " |",
             "|---|" + "---:|" * len(SECTIONS)]
    for departement in pack.departements:
        counts = " | ".join(str(len(departement.items(key))) for key, _ in SECTIONS)
        lines.append(f"| {md(departement.label)} | {counts} |")
    for departement in pack.departements:
        lines += ["", f"## {md(departement.label)}", ""]
        if departement.empty:
            lines.append("Rien à signaler pour la période.")
            continue
        for key, title in SECTIONS:
            items = departement.items(key)
            if items:
                lines += ["", f"### {title} ({len(items)})", ""]
                for item in items:
                    lines += _item_markdown(item)
    return "\n".join(lines) + "\n"


def _item_markdown(item: PackItem) -> list[str]:
    """« - **CH de Béziers** (34 CH) — offre — statut — menée par … — AT : … — CM : … », then
    « 01/03/2027 : what happened » and the details, as a nested list."""
    status = item.status_label + (f" ({item.status_reason})" if item.status_reason else "")
    facts = [item.offer_label, status, item.who_leads, f"AT : {item.at_login or '—'}", f"CM : {item.cm_login or '—'}"]
    head = f"- **{md(item.structure)}** ({md(item.crm_name)}) — " + " — ".join(md(f) for f in facts)
    day = french_day(item.day) if item.day else "sans date"
    lines = [head + "\\", f"  **{day}** : {md(item.what)}"]  # a hard line break after the facts
    lines += [f"  - {md(line)}" for line in item.details if line.strip()]
    return lines


def md(text: str) -> str:
    """`text` as literal Markdown inline text: printable, on one line, never markup."""
    return inline(printable(text))
