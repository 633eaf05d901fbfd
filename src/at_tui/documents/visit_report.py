"""The compte rendu of a visit as files (issue 12 §3): Markdown to paste, HTML to print or send.

The CLI (`at-tui export --format rapport`) and the TUI (`w` on the result and deliverables
screens, and the palette) both call `export_report`. The content is `domain.visit_report`'s;
this module lays it out, applies French typography to the whole text (`domain.typography`),
and writes both files atomically, 0600: they name people.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path

from at_tui.documents.html_page import page
from at_tui.documents.markdown_text import cell, inline, paragraph
from at_tui.domain.typography import french
from at_tui.domain.visit import format_date
from at_tui.domain.visit_report import Answered, VisitReport, build_report


class ReportError(Exception):
    """The report cannot be made (unknown visit…): one French sentence."""


def report_for(workspace, visit_id: str, today: dt.date) -> VisitReport:
    """Everything the visit and its opportunity hold, read through the workspace."""
    from at_tui.store.visit_content import known_owner

    visit = workspace.visits.get(visit_id)
    if visit is None:
        raise ReportError(f"Visite « {visit_id} » introuvable sur ce poste : vérifiez l'identifiant "
                          "(at-tui export --format json en donne la liste).")
    from at_tui.domain.text import FieldError

    try:
        deliverables = workspace.deliverables(visit)
    except FieldError as error:  # an identity this laptop no longer accepts (a département…)
        raise ReportError(f"Compte rendu impossible : {error} Corrigez l'identité de la visite dans "
                          "l'application (F2).") from None
    opportunity = workspace.opportunities.get(visit.id)
    return build_report(
        visit, workspace.playbook_for(visit), workspace.questionnaire_for(visit), workspace.territory,
        workspace.visits.answers(visit.id), deliverables, today=today,
        at_login=known_owner(workspace.conn, visit.id),
        opportunity=opportunity,
        journal=workspace.opportunities.journal(visit.id) if opportunity is not None else (),
        lifecycle=workspace.lifecycle(visit.playbook_id) if opportunity is not None else None,
    )


def export_report(workspace, visit_id: str, folder: Path, today: dt.date | None = None) -> tuple[Path, Path]:
    """Write the visit's compte rendu in `folder` (Markdown, then HTML); returns both paths.

    Raises ReportError, or OSError when a file cannot be written: nothing of this report is then
    left behind (a Markdown written before the HTML failed is removed)."""
    today = today or dt.date.today()
    report = report_for(workspace, visit_id, today)
    text = markdown(report, today)
    stem = file_stem(report)
    md_path, html_path = folder / f"{stem}.md", folder / f"{stem}.html"
    write_pair(md_path, text, html_path, html(report, text))
    return md_path, html_path


def write_pair(md_path: Path, md_text: str, html_path: Path, html_text: str) -> None:
    from at_tui.files import check_target, write_atomically

    check_target(html_path)  # refused before anything is written
    write_atomically(md_path, md_text, mode=0o600)
    try:
        write_atomically(html_path, html_text, mode=0o600)
    except BaseException:
        md_path.unlink(missing_ok=True)
        raise


def file_stem(report: VisitReport) -> str:
    """« compte-rendu-msp-de-lectoure-20261122 »: plain ASCII, safe on every file system."""
    plain = unicodedata.normalize("NFKD", report.structure.lower().replace("œ", "oe").replace("æ", "ae"))
    slug = re.sub(r"[^a-z0-9]+", "-", plain.encode("ascii", "ignore").decode()).strip("-")[:60].rstrip("-")
    day = report.day.strftime("%Y%m%d") if report.day else "sans-date"
    return f"compte-rendu-{slug or 'structure'}-{day}"


def title(report: VisitReport) -> str:
    return french(f"Compte rendu de visite — {report.structure} — {report.date}")


def html(report: VisitReport, text: str) -> str:
    return page(title(report), text)


def markdown(report: VisitReport, today: dt.date) -> str:
    """The whole compte rendu in Markdown, French typography applied."""
    out = [f"# Compte rendu de visite — {inline(report.structure)}", ""]
    facts = [f"**Date de la visite** : {report.date}",
             f"**Structure** : {inline(report.structure)}" + (f", {inline(report.place)}" if report.place else ""),
             f"**Typologie** : {inline(report.typologie)}"]
    if report.finess:
        facts.append(f"**FINESS** : {inline(report.finess)}")
    if report.maillage:
        facts.append("**Visite de maillage**")
    out += ["  \n".join(facts), ""]
    out += ["## Participants", "", *(f"- {inline(p)}" for p in report.participants), ""]
    out += _presented(report)
    out += _recueil(report)
    out += _classification(report)
    out += _next(report)
    out += ["---", "", f"*Compte rendu établi avec at-tui le {format_date(today.isoformat())}.*", ""]
    return french("\n".join(out))


def _presented(report: VisitReport) -> list[str]:
    out = ["## Ce qui a été présenté", ""]
    if not report.presented:
        return out + ["Rien n'a été noté pour la présentation ni pour la démonstration.", ""]
    for step in report.presented:
        out += [f"### {step.number}. {inline(step.title)}", ""]
        if step.done:
            out += [*(f"- {inline(action)}" for action in step.done), ""]
        if step.notes:
            out += ["Compte rendu des échanges :", "", *_quoted(step.notes), ""]
    return out


def _recueil(report: VisitReport) -> list[str]:
    out = [f"## {inline(report.recueil_title)}", ""]
    if not report.recueil:
        out += ["Aucune réponse n'a été enregistrée.", ""]
    section = None
    for item in report.recueil:
        if item.section != section:
            if section is not None:
                out.append("")
            section = item.section
            out += [f"### {inline(section)}", ""]
        out.append(_sentence(item))
    out.append("")
    if report.unanswered:
        out += ["Questions restées sans réponse :", "", *(f"- {inline(q)}" for q in report.unanswered), ""]
    return out


def _sentence(item: Answered) -> str:
    """« Question ? Réponse. » or « Libellé : réponse. »; a long answer as its own paragraph."""
    question = f"**{inline(item.question)}**"
    if item.long:
        body = paragraph(item.answer).replace("\n", "\n  ")
        return f"- {question}  \n  {body}"
    answer = inline(item.answer)
    if answer and answer[-1] not in ".!?…»":
        answer += "."
    return f"- {question} {answer}" if item.question.endswith("?") else f"- {question} : {answer}"


def _classification(report: VisitReport) -> list[str]:
    part = report.classification
    out = ["## Classification de la demande", ""]
    if not part.applies:
        return out + ["Aucune opportunité n'a été détectée lors de la visite : seule l'activité « Information » "
                      "est saisie dans le CRM.", ""]
    if part.pending:
        return out + ["**Classification à régler** : des réponses du recueil se contredisent ou manquent.", "",
                      *(f"- {inline(p)}" for p in part.pending), ""]
    out += [f"**{inline(part.label)}**, {part.lead}.", ""]
    if part.participants:
        out += [f"Personnes concernées : {inline(part.participants)}.", ""]
    if part.reasons:
        out += ["Pourquoi ce n'est pas un projet « simple » :", "", *(f"- {inline(r)}" for r in part.reasons), ""]
    elif part.simple_because:
        out += [part.simple_because, ""]
    if part.checked:
        out += ["Vérifié avec l'AT :", "", *(f"- {inline(c)}" for c in part.checked), ""]
    if part.computed is not None:
        out += [f"Classification calculée : {inline(part.computed)} ; l'AT a retenu **{inline(part.label)}**.", ""]
        if part.justification:
            out += ["Justification :", "", *_quoted(part.justification), ""]
    return out


def _next(report: VisitReport) -> list[str]:
    out = ["## Suite", ""]
    part = report.classification
    if not part.applies or part.pending:
        return out + [("Pas d'opportunité : pas de suite de déploiement." if not part.applies
                       else "La suite sera précisée une fois la classification réglée."), ""]
    out += [f"La suite est menée par {report.next_lead}.", ""]
    if report.status:
        line = f"Opportunité : statut « {inline(report.status)} »"
        out += [line + (f", chargé de mission en charge : {inline(report.cm)}." if report.cm else "."), ""]
    if report.due:
        out += ["### Prochaines échéances", "", "| Quoi | Échéance | Qui mène |", "| --- | --- | --- |"]
        out += [f"| {cell(d.title)} | {d.due}{' (en retard)' if d.overdue else ''} | {cell(d.lead)} |"
                for d in report.due]
        out.append("")
    if report.next_steps:
        out += ["### Étapes suivantes", ""]
        for step in report.next_steps:
            out.append(f"- **{step.number}. {inline(step.title)}**, {step.lead}")
            out += [f"  - {inline(action)}" for action in step.actions]
        out.append("")
    return out


def _quoted(text: str) -> list[str]:
    return [f"> {line}" for line in paragraph(text).split("\n")]
