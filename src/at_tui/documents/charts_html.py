"""The indicators as an HTML fragment: the same figures as the Indicateurs screen
(`domain.indicators.figures`), each a titled SVG chart with the table of its numbers.

Issue 12 §5 asks for « the same figures as charts in the HTML outputs »: the CM–AT pack's
HTML (« Gouvernance — POINT CM - AT 1x/mois / zone (Est/Ouest) », seed 000) embeds this
fragment. pygal draws the SVG: a kept pure-Python library, already a dependency, imported
only here and only when a chart is written. No script (`js=[]`): the page stays static,
prints, and opens from a file or an e-mail; the values are printed on the bars and again
in a table, which a screen reader and a copy into a spreadsheet both read (pygal's own
config script is removed). Each chart gets
an id made from `id_prefix` (pygal otherwise draws a random one), so that the same
figures give the same bytes and two fragments can share a page.
"""

from __future__ import annotations

import html
import re

from at_tui.domain.indicators import Figure, Indicators, count_text, figures
from at_tui.domain.redaction import printable

# pygal writes its config in a <script> even with js=[]: removed, the SVG is static. The
# serializer escapes « < » in text, so no label can close the element early.
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL)
BAR_COLOUR = "#7fb3e0"  # light: the values printed on the bars stay black and readable
# Scoped to the fragment: the page that embeds it keeps its own styles.
FRAGMENT_CSS = """
.indicateurs figure { margin: 0 0 1.5em 0; break-inside: avoid; }
.indicateurs figcaption { font-weight: bold; margin-bottom: .3em; }
.indicateurs svg { width: 100%; max-width: 42em; height: auto; display: block; }
.indicateurs table { border-collapse: collapse; font-size: .9em; margin-top: .3em; }
.indicateurs th, .indicateurs td { border: 1px solid #999; padding: .1em .5em; }
.indicateurs td.nombre { text-align: right; font-variant-numeric: tabular-nums; }
"""


def indicators_html(indicators: Indicators, id_prefix: str = "indicateurs", heading_level: int = 2,
                    with_style: bool = True) -> str:
    """The fragment: a section with a heading, the period and zone, then each figure. Its
    `<style>` comes with it unless `with_style` is False (a page that puts FRAGMENT_CSS in its
    <head>, where the HTML standard wants it; browsers accept both)."""
    level = min(max(heading_level, 1), 5)
    zone = indicators.zone or "toute la région"
    summary = (f"Période : {indicators.period.label} (jusqu’au {indicators.today.strftime('%d/%m/%Y')}) · "
               f"zone : {zone} · {count_text(indicators.total_visits, 'visite terminée', 'visites terminées')} · "
               f"{count_text(indicators.total_opportunities, 'opportunité', 'opportunités')}")
    parts = [f'<section class="indicateurs" id="{_attr(id_prefix)}">',
             *([f"<style>{FRAGMENT_CSS}</style>"] if with_style else []),
             f"<h{level}>Indicateurs</h{level}>",
             f"<p>{html.escape(summary)}</p>"]
    for figure in figures(indicators):
        parts.append(_figure(figure, f"{id_prefix}-{figure.key}", level + 1))
    parts.append("</section>")
    return "\n".join(parts) + "\n"


def _figure(figure: Figure, chart_id: str, level: int) -> str:
    rows = "".join(f'<tr><td>{html.escape(printable(b.label))}</td><td class="nombre">{b.value}</td></tr>'
                   for b in figure.bars)
    table = (f'<table><thead><tr><th scope="col">{html.escape(figure.heading)}</th>'
             f'<th scope="col">Nombre</th></tr></thead><tbody>{rows}</tbody></table>') if figure.bars else (
        "<p>Aucune sur cette période.</p>")
    return (f'<figure id="{_attr(chart_id)}">\n<figcaption role="heading" aria-level="{level}">'
            f"{html.escape(figure.title)}</figcaption>\n{_svg(figure, chart_id)}\n{table}\n</figure>")


def _svg(figure: Figure, chart_id: str) -> str:
    """One single-series bar chart: vertical bars for the months (time reads left to right),
    horizontal ones for the categories (their labels stay horizontal and readable)."""
    import pygal
    from pygal.style import Style

    per_time = figure.key in ("visites", "opportunites")
    style = Style(background="white", plot_background="white", foreground="#222", foreground_strong="#111",
                  foreground_subtle="#ccc", colors=(BAR_COLOUR,), font_family="DejaVu Sans, Arial, sans-serif",
                  label_font_size=12, major_label_font_size=12, value_font_size=11, value_label_font_size=11,
                  opacity="1", opacity_hover="1")
    chart_type = pygal.Bar if per_time else pygal.HorizontalBar
    labels = [printable(b.label) for b in figure.bars]
    ticks = whole_ticks(figure.largest)
    chart = chart_type(
        style=style, width=720, height=max(160, 60 + 26 * len(labels)) if not per_time else 300,
        show_legend=False, print_values=True, disable_xml_declaration=True, js=[], no_data_text="Aucune donnée",
        x_label_rotation=-45 if per_time and len(labels) > 6 else 0, show_y_guides=per_time, show_x_guides=not per_time,
        range=(0, ticks[-1]), y_labels=ticks, include_x_axis=True, margin=8, truncate_label=40,
        value_formatter=lambda value: f"{value:.0f}",
    )
    chart.uuid = chart_id  # a stable id (pygal scopes its styles with it)
    chart.x_labels = labels
    if per_time:
        chart.add(figure.title, [b.value for b in figure.bars])
    else:  # pygal draws the first category at the bottom: reversed, the list reads top-down
        chart.x_labels = labels[::-1]
        chart.add(figure.title, [b.value for b in reversed(figure.bars)])
    return _SCRIPT.sub("", chart.render(is_unicode=True))


def whole_ticks(largest: int) -> list[int]:
    """The value axis's graduations: whole numbers (counts), 1, 2 or 5 × 10ⁿ apart, at most
    about six, the last one at or above `largest`."""
    top = max(1, largest)
    step = next(s for s in _steps() if top / s <= 6)
    last = -(-top // step) * step
    return list(range(0, last + 1, step))


def _steps():
    power = 1
    while True:
        for factor in (1, 2, 5):
            yield factor * power
        power *= 10


def _attr(value: str) -> str:
    return html.escape(value, quote=True)
