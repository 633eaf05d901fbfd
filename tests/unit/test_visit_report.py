"""The compte rendu of a visit (issue 12 §3): its sections and their content for a whole visit,
French typography, what typed text can and cannot do to the Markdown and the HTML, the files."""

from __future__ import annotations

import datetime as dt
import re
import stat
from pathlib import Path

import pytest
from answer_sets import SIMPLE_ANSWERS
from visit_report_helpers import AT_LOGIN, CM_LOGIN, JUSTIFICATION, whole_visit

from at_tui.documents.html_page import page
from at_tui.documents.visit_report import ReportError, export_report, file_stem, markdown, report_for
from at_tui.domain.typography import NBSP, NNBSP
from at_tui.domain.visit_report import long_date

TODAY = dt.date(2027, 1, 15)  # M+1 (01/01/2027) overdue, M+3 and M+6 ahead
SECTIONS = ["# Compte rendu de visite", "## Participants", "## Ce qui a été présenté",
            "## Recueil des opportunités offre USE", "## Classification de la demande", "## Suite"]


def report_text(workspace, visit_id: str, today: dt.date = TODAY) -> str:
    return markdown(report_for(workspace, visit_id, today), today)


def plain(text: str) -> str:
    """The text with its no-break spaces read as spaces: what the content tests compare."""
    return text.replace(NBSP, " ").replace(NNBSP, " ")


def section(text: str, title: str) -> str:
    """The lines of one `## ` section (up to the next one)."""
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def test_every_section_in_order(workspace) -> None:
    text = report_text(workspace, whole_visit(workspace))
    positions = [text.index(title) for title in SECTIONS]
    assert positions == sorted(positions)


def test_identity_date_and_participants(workspace) -> None:
    text = plain(report_text(workspace, whole_visit(workspace)))
    assert text.startswith("# Compte rendu de visite — MSP de Lectoure\n")
    assert "**Date de la visite** : 22 novembre 2026" in text
    assert "**Structure** : MSP de Lectoure, Lectoure, 32 — Gers" in text
    assert "**Typologie** : MSP" in text
    people = section(text, "Participants")
    assert "- Anne Roque, Coordinatrice (MSP de Lectoure)" in people
    assert f"- {AT_LOGIN}, animateur territorial (AT)" in people


def test_what_was_presented_comes_from_the_checklist(workspace) -> None:
    text = plain(section(report_text(workspace, whole_visit(workspace)), "Ce qui a été présenté"))
    assert "### 1. Présentation offres" in text and "### 2. Démonstration 1er niveau" in text
    assert "- Présenter l'Offre Coordination\n- Sensibiliser aux bonnes pratiques" in text
    assert "- Faire la démonstration sur l'environnement de formation SPICO" in text
    assert "Montrer les échanges instantanés sécurisés" not in text  # not ticked
    assert "> Présentation à l'équipe : 6 médecins et 4 IDE !  \n> Rendez-vous pris à 10:30." in text
    assert "> Démonstration sur l'environnement de formation." in text


def test_the_recueil_in_sentences(workspace) -> None:
    text = plain(section(report_text(workspace, whole_visit(workspace)), "Recueil des opportunités offre USE"))
    assert "### Besoins et bénéfices attendus" in text
    assert "- **Une opportunité a-t-elle été détectée ?** Oui." in text
    assert "- **Comment fonctionnent-ils aujourd'hui ?** Téléphone et SMS." in text
    assert "- **Quelles sont les fonctionnalités souhaitées ?** Échanges de messages." in text
    assert "- **Nombre estimé d'utilisateurs potentiels dans la structure** : 20." in text
    assert "- **Date cible souhaitée de déploiement** : Dans le mois." in text
    assert "- **Y a-t-il une demande de paramétrage ?** Aucune." in text
    # A long answer keeps its lines; a label's form instruction is dropped (as in the CRM text).
    assert "cas d'usage…)**  \n  Sorties d'hospitalisation  \n  Suivi des plaies chroniques" in text
    assert "(cocher" not in text
    # Straight quotes typed by the AT are guillemets.
    assert "- **Quels sont les partenaires ciblés ?** Le CH d'Auch et l'équipe « plaies »." in text
    assert "sans réponse" not in text  # every question that applies was answered


def test_an_unanswered_question_is_listed_as_such(workspace) -> None:
    visit_id = whole_visit(workspace, finish=False)
    visit = workspace.visits.require(visit_id)
    workspace.save_answer(visit, "partenaires", "")
    text = plain(report_text(workspace, visit_id))
    assert "Questions restées sans réponse :\n\n- Quels sont les partenaires ciblés ?" in text
    assert "partenaires ciblés ?**" not in text


def test_the_classification_with_its_reasons_and_the_override(workspace) -> None:
    text = plain(section(report_text(workspace, whole_visit(workspace)), "Classification de la demande"))
    assert "**SPICO Dossiers**, menée par le chargé de mission (CM)." in text
    assert "Personnes concernées : 22 personnes = 2 professionnels hors de la structure + 20 utilisateurs" in text
    assert "Pourquoi ce n'est pas un projet « simple » :" in text
    assert "- Le projet concerne 15 professionnels ou plus (22 estimés)" in text
    assert "Classification calculée : SPICO Discussions complexe ; l'AT a retenu **SPICO Dossiers**." in text
    assert f"Justification :\n\n> {JUSTIFICATION}" in text


def test_next_steps_with_who_leads_and_due_dates(workspace) -> None:
    text = plain(section(report_text(workspace, whole_visit(workspace)), "Suite"))
    assert "La suite est menée par le chargé de mission (CM)." in text
    assert f"Opportunité : statut « Projet en cours », chargé de mission en charge : {CM_LOGIN}." in text
    assert "| Quoi | Échéance | Qui mène |" in text
    assert "| [M1] SPICO Suivi des usages | 01/01/2027 (en retard) | le chargé de mission (CM) |" in text
    assert "| [M3] SPICO Suivi des usages | 01/03/2027 | le chargé de mission (CM) |" in text
    assert "| [M6] SPICO Suivi des usages | 01/06/2027 | le chargé de mission (CM) |" in text
    assert ("- **4. Qualification et stratégie de déploiement**, menée par le chargé de mission (CM), avec "
            "l'animateur territorial (AT) en soutien") in text
    assert "  - Le CM recueille le détail des besoins avec la fiche de cadrage" in text
    assert "- **7. Témoignages**, menée par l'animateur territorial (AT)" in text


def test_before_the_visit_is_finished_no_opportunity_dates_but_the_steps(workspace) -> None:
    text = plain(report_text(workspace, whole_visit(workspace, finish=False)))
    assert "Prochaines échéances" not in text and "Opportunité : statut" not in text
    assert "- **4. Qualification et stratégie de déploiement**" in text
    assert "- L'animateur territorial (AT)" in text  # no login known yet


def test_a_simple_project_says_why_it_is_simple(workspace) -> None:
    visit, _ = workspace.start_visit({"structure": "MSP de Lectoure", "departement": "32", "typologie": "MSP",
                                      "visit_date": "01/12/2026"})
    for question, value in SIMPLE_ANSWERS.items():
        workspace.save_answer(visit, question, value)
    text = plain(report_text(workspace, visit.id))
    assert "**SPICO Discussions simple**, menée par l'animateur territorial (AT)." in text
    assert "moins de 15 personnes, sans paramétrage, sans demande complexe ni portée stratégique : " \
           "projet « simple »." in text
    assert "**Date de la visite** : 1er décembre 2026" in text
    assert "## Participants\n\n- L'animateur territorial (AT)\n" in text  # no contact given


def test_without_opportunity(workspace) -> None:
    visit, _ = workspace.start_visit({"structure": "EHPAD Les Tilleuls", "departement": "31", "typologie": "EHPAD",
                                      "visit_date": "02/12/2026"})
    workspace.save_answer(visit, "opportunite", False)
    text = plain(report_text(workspace, visit.id))
    assert "Aucune opportunité n'a été détectée lors de la visite" in text
    assert "Pas d'opportunité : pas de suite de déploiement." in text
    assert "Rien n'a été noté pour la présentation ni pour la démonstration." in text


def test_a_classification_to_settle_says_what_is_missing(workspace) -> None:
    visit, _ = workspace.start_visit({"structure": "MSP de Lectoure", "departement": "32", "typologie": "MSP",
                                      "visit_date": "01/12/2026"})
    for question, value in SIMPLE_ANSWERS.items():
        if question != "portee_strategique":
            workspace.save_answer(visit, question, value)
    text = plain(report_text(workspace, visit.id))
    part = section(text, "Classification de la demande")
    assert "**Classification à régler**" in part
    assert "- « Le projet a-t-il une portée stratégique ? » :" in part
    assert "La suite sera précisée une fois la classification réglée." in text


def test_french_typography_is_applied(workspace) -> None:
    text = report_text(workspace, whole_visit(workspace))
    assert f"**Date de la visite**{NBSP}: 22 novembre 2026" in text
    assert f"aujourd'hui{NNBSP}?**" in text
    assert f"l'équipe{NBSP}: 6 médecins et 4 IDE{NNBSP}!" in text
    assert f"«{NBSP}plaies{NBSP}»" in text
    assert "10:30" in text  # a time keeps its colon
    assert not re.search(r" [:;!?»]", text)  # no breakable space before double punctuation
    assert '"' not in text


def test_control_characters_of_a_structure_name_are_stripped(workspace, tmp_path: Path) -> None:
    """A name received from a file or the central may hold escape sequences: none reaches a file."""
    visit_id = whole_visit(workspace)
    workspace.conn.execute("UPDATE visits SET structure = ?, contact_name = ? WHERE id = ?",
                           ("\x1b[31mMSP\x07 de\x9b Lectoure\u202e", "Anne\x1b]0;titre\x07 Roque", visit_id))
    workspace.conn.commit()
    md_path, html_path = export_report(workspace, visit_id, tmp_path, TODAY)
    for path in (md_path, html_path):
        content = path.read_text(encoding="utf-8")
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", content), path
        assert "MSP  de Lectoure" in content or "MSP de Lectoure" in content
        assert "Anne Roque" in content
    assert md_path.name == "compte-rendu-msp-de-lectoure-20261122.md"


def test_typed_markdown_and_html_stay_text(workspace, tmp_path: Path) -> None:
    """A structure or a note written like Markdown or HTML is shown as typed, never as markup."""
    from at_tui.domain.visit import notes_key

    visit_id = whole_visit(workspace, finish=False, structure="*Clinique* [du Parc](https://exemple.fr)")
    workspace.save_note(visit_id, notes_key("presentation"),
                        "# pas un titre\n<script>alert(1)</script>\n[clic](javascript:alert(1))\n1. pas une liste")
    md_path, html_path = export_report(workspace, visit_id, tmp_path, TODAY)
    html = html_path.read_text(encoding="utf-8")
    assert "<script" not in html and "[clic](javascript:alert(1))" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<em>Clinique</em>" not in html and "<a " not in html
    assert "*Clinique* [du Parc](https://exemple.fr)" in html
    body = html.split("<body>")[1]
    assert "# pas un titre" in body and "1. pas une liste" in body
    assert body.count("<h1>") == 1


def test_files_are_private_and_named_for_the_visit(workspace, tmp_path: Path) -> None:
    visit_id = whole_visit(workspace)
    md_path, html_path = export_report(workspace, visit_id, tmp_path / "cr", TODAY)
    assert (md_path.name, html_path.name) == ("compte-rendu-msp-de-lectoure-20261122.md",
                                               "compte-rendu-msp-de-lectoure-20261122.html")
    for path in (md_path, html_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert md_path.read_text(encoding="utf-8") == report_text(workspace, visit_id)
    html = html_path.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and '<html lang="fr">' in html and '<meta charset="utf-8">' in html
    assert "@page { size: A4;" in html and "@media print" in html
    assert html.count("<h2>") == 5 and "<table>" in html
    assert "<title>Compte rendu de visite — MSP de Lectoure — 22 novembre 2026</title>" in html
    assert sorted(p.name for p in tmp_path.joinpath("cr").iterdir()) == [html_path.name, md_path.name]


def test_no_markdown_left_behind_when_the_html_cannot_be_written(workspace, tmp_path: Path, monkeypatch) -> None:
    import at_tui.files as files

    real = files.write_atomically

    def failing(path: Path, text: str, *, mode: int = 0o600) -> None:
        if path.suffix == ".html":
            raise OSError(28, "No space left on device", str(path))
        real(path, text, mode=mode)

    monkeypatch.setattr(files, "write_atomically", failing)
    with pytest.raises(OSError):
        export_report(workspace, whole_visit(workspace), tmp_path / "out", TODAY)
    assert list((tmp_path / "out").iterdir()) == []


def test_an_unknown_visit_is_one_french_sentence(workspace, tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="Visite « nope » introuvable sur ce poste"):
        export_report(workspace, "nope", tmp_path / "out", TODAY)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("iso", "expected"),
    [("2026-12-05", "5 décembre 2026"), ("2026-12-01", "1er décembre 2026"), ("2027-08-15", "15 août 2027"),
     ("pas une date", "date invalide")],
)
def test_long_date(iso: str, expected: str) -> None:
    assert long_date(iso) == expected


@pytest.mark.parametrize(
    ("structure", "stem"),
    [("MSP de Lectoure", "compte-rendu-msp-de-lectoure-20261122"),
     ("Cœur d'Hérault — Santé & Co", "compte-rendu-coeur-d-herault-sante-co-20261122"),
     ("ÉÉÉ", "compte-rendu-eee-20261122"),
     ("???", "compte-rendu-structure-20261122")],
)
def test_file_stem(workspace, structure: str, stem: str) -> None:
    visit_id = whole_visit(workspace, finish=False)
    workspace.conn.execute("UPDATE visits SET structure = ? WHERE id = ?", (structure, visit_id))
    workspace.conn.commit()
    assert file_stem(report_for(workspace, visit_id, TODAY)) == stem


def test_the_page_helper_escapes_and_keeps_extra_html() -> None:
    html = page("Titre <b>", "# Un\n\n<i>x</i>", extra_html="<svg id='chart'></svg>")
    assert "<title>Titre &lt;b&gt;</title>" in html
    assert "&lt;i&gt;x&lt;/i&gt;" in html and "<h1>Un</h1>" in html
    assert "<svg id='chart'></svg></main>" in html


def test_an_identity_this_laptop_no_longer_accepts_is_said(workspace, tmp_path: Path) -> None:
    visit_id = whole_visit(workspace, finish=False)
    workspace.conn.execute("UPDATE visits SET departement = '99' WHERE id = ?", (visit_id,))
    workspace.conn.commit()
    said = r"^Compte rendu impossible : « 99 » n'est pas .* Corrigez l'identité de la visite dans l'application \(F2\)\.$"
    with pytest.raises(ReportError, match=said):
        export_report(workspace, visit_id, tmp_path / "out", TODAY)
    assert not (tmp_path / "out").exists()
