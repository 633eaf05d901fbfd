"""The indicators as HTML (issue 12 §5): each figure a titled inline SVG (pygal, no script) and
the table of its numbers; parseable XML, French titles, stable bytes."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from indicator_data import RECORDS, STATUSES, TODAY, VISITS, opp

from at_tui.documents.charts_html import indicators_html, whole_ticks
from at_tui.domain.indicators import PERIODS, Bar, compute, figures

SVG = "{http://www.w3.org/2000/svg}"
TITLES = ["Visites terminées par mois", "Opportunités par mois de visite", "Opportunités par statut",
          "Opportunités par offre SPICO", "Opportunités par département", "Opportunités par typologie"]


def fragment(period=PERIODS[0], zone=None, records=RECORDS, prefix="indicateurs") -> str:
    return indicators_html(compute(records, VISITS, STATUSES, TODAY, period, zone), id_prefix=prefix)


def parsed(text: str) -> ET.Element:
    """The fragment as XML: well-formed, whatever page embeds it (its <style> is text)."""
    return ET.fromstring(text)


def test_the_fragment_is_well_formed_xml_with_one_svg_per_figure() -> None:
    root = parsed(fragment())
    assert root.tag == "section" and root.get("id") == "indicateurs"
    assert [c.text for c in root.iter("figcaption")] == TITLES
    svgs = list(root.iter(f"{SVG}svg"))
    assert len(svgs) == 6
    assert [f.get("id") for f in root.iter("figure")] == [f"indicateurs-{k}" for k in
                                                          ("visites", "opportunites", "statut", "offre",
                                                           "departement", "typologie")]


def test_each_table_holds_the_numbers_of_its_chart() -> None:
    indicators = compute(RECORDS, VISITS, STATUSES, TODAY, PERIODS[0])
    root = parsed(indicators_html(indicators))
    for figure, element in zip(figures(indicators), root.iter("figure"), strict=True):
        table = element.find("table")
        assert table is not None, figure.title
        cells = [[td.text for td in tr.iter("td")] for tr in table.iter("tr")][1:]
        assert cells == [[b.label, str(b.value)] for b in figure.bars]
    status = next(f for f in root.iter("figure") if f.get("id") == "indicateurs-statut")
    assert [[td.text for td in tr.iter("td")] for tr in status.iter("tr")][1:] == [
        ["En attente", "2"], ["Projet en cours", "1"], ["Terminé", "0"], ["Sans suite", "1"]]


def test_the_numbers_are_printed_on_the_bars_and_the_labels_under_them() -> None:
    root = parsed(fragment())
    offer = next(f for f in root.iter("figure") if f.get("id") == "indicateurs-offre")
    texts = [t.text for t in offer.iter(f"{SVG}text") if t.text]
    assert "Discussions simple" in texts and "Discussions complexe" in texts
    values = [t.text for t in offer.iter(f"{SVG}text") if "value" in (t.get("class") or "")]
    assert sorted(values) == ["1", "3"]


def test_no_script_no_external_resource_and_stable_bytes() -> None:
    text = fragment()
    assert "<script" not in text and "http://kozea" not in text and "pygal-tooltips" not in text
    assert not re.search(r'(href|src)="(https?:)?//', text)
    assert "<?xml" not in text  # embeddable in an HTML page
    assert text == fragment()  # no random chart id: the same figures, the same bytes


def test_the_summary_says_period_zone_and_totals_in_french() -> None:
    root = parsed(fragment(PERIODS[1], "Est"))
    summary = root.find("p").text
    assert summary == ("Période : 12 derniers mois (jusqu’au 05/12/2026) · zone : Est · "
                       "3 visites terminées · 3 opportunités")


def test_text_from_the_store_is_escaped_and_stripped_of_control_characters() -> None:
    records = [*RECORDS, opp("2026-12", typologie="<b>Typo</b>\x1b[31m & co")]
    text = fragment(records=records)
    root = parsed(text)
    typologies = next(f for f in root.iter("figure") if f.get("id") == "indicateurs-typologie")
    labels = [tr.find("td").text for tr in typologies.iter("tr") if tr.find("td") is not None]
    assert "<b>Typo</b> & co" in labels  # the escape sequence is gone
    assert "\x1b" not in text and "<b>Typo" not in text


def test_two_fragments_share_a_page_with_distinct_ids() -> None:
    page = f"<div>{fragment(prefix='est')}{fragment(prefix='ouest')}</div>"
    ids = [e.get("id") for e in parsed(page).iter() if e.get("id")]
    assert len(ids) == len(set(ids))


def test_no_data_is_said_in_french() -> None:
    root = parsed(indicators_html(compute([], [], STATUSES, TODAY, PERIODS[0])))
    offer = next(f for f in root.iter("figure") if f.get("id") == "indicateurs-offre")
    assert "Aucune sur cette période." in "".join(offer.itertext())
    assert "No data" not in "".join(root.itertext())


def test_the_value_axis_is_graduated_in_whole_numbers() -> None:
    assert whole_ticks(0) == [0, 1]
    assert whole_ticks(3) == [0, 1, 2, 3]
    assert whole_ticks(13) == [0, 5, 10, 15]
    assert whole_ticks(4999) == [0, 1000, 2000, 3000, 4000, 5000]
    assert figures(compute([], [], STATUSES, TODAY))[0].bars == (Bar("2026-10", "oct. 2026", 0),
                                                                  Bar("2026-11", "nov. 2026", 0),
                                                                  Bar("2026-12", "déc. 2026", 0))


def test_the_style_can_go_to_the_page_head() -> None:
    from at_tui.documents.charts_html import FRAGMENT_CSS

    indicators = compute(RECORDS, VISITS, STATUSES, TODAY, PERIODS[0])
    assert FRAGMENT_CSS in indicators_html(indicators)
    bare = indicators_html(indicators, with_style=False)
    assert "<style>" not in bare.split("<svg", 1)[0] and parsed(bare).find("style") is None
