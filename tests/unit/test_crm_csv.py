"""The CRM import's files (issue 12 §2) written by `documents.crm_csv`, read back with the `csv`
module; the pair reaches its folder whole or not at all; the fields of one known opportunity."""

from __future__ import annotations

import csv
import datetime as dt
import os
from pathlib import Path

import pytest

from at_tui.documents.crm_csv import (
    ACTIVITIES_FILE,
    ACTIVITY_COLUMNS,
    OPPORTUNITIES_FILE,
    OPPORTUNITY_COLUMNS,
    CrmFiles,
    activity_fields,
    day_text,
    opportunity_fields,
    since_changed,
)
from at_tui.domain.opportunity import JournalEntry, Opportunity
from at_tui.domain.tracking import TrackedOpportunity, tracking_row
from at_tui.files import TargetRefused

HOSPITAL = "Hôpital de Saint-Gaudens — Cœur"


def read_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle, delimiter=";"))


def test_both_files_have_a_bom_one_header_crlf_and_fields_quoted_only_when_needed(tmp_path) -> None:
    folder = tmp_path / "crm"
    tricky = ["a;b", 'dit "non"', "ligne 1\nligne 2", "simple"]
    with CrmFiles(folder) as files:
        files.add_opportunity([*tricky, *[""] * (len(OPPORTUNITY_COLUMNS) - 4)])
        files.add_activity(["x"] * len(ACTIVITY_COLUMNS))
        files.add_activity(["y"] * len(ACTIVITY_COLUMNS))
    assert (files.opportunities, files.activities) == (1, 2)
    raw = (folder / OPPORTUNITIES_FILE).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfIdentifiant;Nom;Structure;")
    assert raw.endswith(b"\r\n")
    assert b'"a;b";"dit ""non""";"ligne 1\nligne 2";simple;' in raw
    assert read_rows(folder / OPPORTUNITIES_FILE) == [list(OPPORTUNITY_COLUMNS),
                                                     [*tricky, *[""] * (len(OPPORTUNITY_COLUMNS) - 4)]]
    assert (folder / ACTIVITIES_FILE).read_bytes().split(b"\r\n") == [
        b"\xef\xbb\xbf" + ";".join(ACTIVITY_COLUMNS).encode(), b"x;" * 11 + b"x", b"y;" * 11 + b"y", b""]
    assert sorted(os.listdir(tmp_path)) == ["crm"] and sorted(os.listdir(folder)) == [ACTIVITIES_FILE,
                                                                                    OPPORTUNITIES_FILE]
    assert folder.stat().st_mode & 0o777 == 0o700


def test_a_failure_while_writing_a_new_folder_leaves_nothing(tmp_path) -> None:
    folder = tmp_path / "exports" / "sous-dossier" / "crm"
    with pytest.raises(OSError, match="disque plein"), CrmFiles(folder) as files:
        files.add_opportunity(["1"] * len(OPPORTUNITY_COLUMNS))
        raise OSError(28, "disque plein (simulé)")
    assert list(tmp_path.iterdir()) == []  # the folders it made are gone too


def test_a_failure_at_the_last_rename_leaves_nothing(tmp_path, monkeypatch) -> None:
    real_rename = os.rename

    def rename(source, target):
        if Path(target).name == "crm":
            raise OSError(5, "erreur d'entrée/sortie (simulée)")
        return real_rename(source, target)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(OSError), CrmFiles(tmp_path / "crm") as files:
        files.add_activity(["1"] * len(ACTIVITY_COLUMNS))
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_keeps_its_files_when_writing_fails(tmp_path) -> None:
    (tmp_path / OPPORTUNITIES_FILE).write_text("ancien", encoding="utf-8")
    (tmp_path / "autre.txt").write_text("à moi", encoding="utf-8")
    with pytest.raises(RuntimeError), CrmFiles(tmp_path) as files:
        files.add_opportunity(["1"] * len(OPPORTUNITY_COLUMNS))
        raise RuntimeError("interrompu")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["autre.txt", OPPORTUNITIES_FILE]
    assert (tmp_path / OPPORTUNITIES_FILE).read_text(encoding="utf-8") == "ancien"
    with CrmFiles(tmp_path) as files:  # and replaced, both, once it succeeds
        files.add_opportunity(["2"] * len(OPPORTUNITY_COLUMNS))
    assert read_rows(tmp_path / OPPORTUNITIES_FILE)[1][0] == "2"
    assert sorted(p.name for p in tmp_path.iterdir()) == [ACTIVITIES_FILE, "autre.txt", OPPORTUNITIES_FILE]


def test_a_file_where_the_folder_should_be_is_refused(tmp_path) -> None:
    target = tmp_path / "crm"
    target.write_text("fichier", encoding="utf-8")
    with pytest.raises(TargetRefused, match="n'est pas un dossier"), CrmFiles(target):
        pass
    assert target.read_text(encoding="utf-8") == "fichier"


@pytest.fixture
def row(reference):
    """One complexe opportunity at the hospital of Saint-Gaudens, its journal with a correction."""
    lifecycle = reference.current_playbook("spico").lifecycle
    opportunity = Opportunity(
        id="opp-1", structure=HOSPITAL + "\x1b[31m", departement="31", offer="discussions_complexe", lead="CM",
        support="AT", status="projet_en_cours", at_login="marie", cm_login="=julie", visit_date="2026-11-20",
    )
    entries = (
        JournalEntry("e1", "opp-1", "information", "Information", "Information", "2026-11-20", "marie", "AT",
                     text="Visite du 20/11/2026", created_at="2026-11-20T09:00:00+00:00"),
        JournalEntry("e2", "opp-1", "cadrage", "Cadrage", "Cadrage (déploiement acté)", "2026-11-25", "julie", "CM",
                     text="faux", created_at="2026-11-25T09:00:00+00:00"),
        JournalEntry("e3", "opp-1", "cadrage", "Cadrage", "Cadrage (déploiement acté)", "2026-11-26", "julie", "CM",
                     text="@ corrigé\nle 26", supersedes="e2", created_at="2026-11-26T09:00:00+00:00"),
    )
    tracked = TrackedOpportunity(opportunity, typologie="CH", finess="310000000", contact_name="Dr Roux",
                                 contact_role="Cadre", journal=entries, updated_at="2026-11-26T08:00:00+00:00")
    return tracking_row(tracked, lifecycle, reference.territory)


def test_opportunity_fields_follow_the_seed(row) -> None:
    fields = dict(zip(OPPORTUNITY_COLUMNS, opportunity_fields(row, "Recueil\n- Question — =réponse"), strict=True))
    local = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC).astimezone().strftime("%d/%m/%Y %H:%M")
    assert fields == {
        "Identifiant": "opp-1", "Nom": "31 CH", "Structure": HOSPITAL, "FINESS": "310000000",
        "Contact": "Dr Roux, Cadre", "Statut": "Projet en cours", "Service concerné": "SPICO Discussions complexe",
        "Pilote": "CM", "AT": "marie", "CM": "'=julie", "Date de visite": "20/11/2026",
        "Description": "Recueil\n- Question — =réponse", "Mis à jour le": local,
    }


def test_activity_fields_take_the_current_entry_as_the_seed_titles_it(row) -> None:
    assert [e.id for e in row.current_journal] == ["e1", "e3"]  # e2 superseded
    fields = dict(zip(ACTIVITY_COLUMNS, activity_fields(row, row.current_journal[1], "@ corrigé\nle 26", "SPICO"),
                      strict=True))
    assert fields == {
        "Identifiant": "e3", "Opportunité": "31 CH", "Identifiant de l'opportunité": "opp-1", "Structure": HOSPITAL,
        "Type d'activité": "Cadrage", "Titre": "Cadrage (déploiement acté)", "Date": "26/11/2026",
        "Description": "'@ corrigé\nle 26", "Auteur": "julie", "Rôle": "CM", "Service concerné": "SPICO",
        "Remplace": "e2",
    }


def test_since_compares_moments_across_offsets_and_keeps_the_unreadable() -> None:
    since = dt.datetime(2026, 12, 1, tzinfo=dt.timezone(dt.timedelta(hours=1)))  # midnight in Paris
    assert since_changed("2026-11-30T23:00:00+00:00", since)  # the same moment
    assert not since_changed("2026-11-30T22:59:59+00:00", since)
    assert since_changed("2026-11-30T23:30:00", since)  # naive: UTC
    assert since_changed("pas une date", since) and since_changed("", since)


def test_day_text_is_french() -> None:
    assert (day_text(dt.date(2026, 1, 5)), day_text("2026-12-31"), day_text(None), day_text("=1")) == (
        "05/01/2026", "31/12/2026", "", "'=1")
