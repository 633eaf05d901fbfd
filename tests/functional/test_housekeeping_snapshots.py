"""SVG snapshots of the AT's housekeeping at 80×24: the archive confirmation over the Accueil,
the archived visits' list, and the question before a typed new-visit form is abandoned."""

from __future__ import annotations

import datetime as dt

import pytest

from at_tui.app import ATApp


@pytest.fixture
def snap_app(db_path, reference, seeded):
    def factory():
        return ATApp(db_path, reference=reference, today=lambda: dt.date(2026, 11, 22))

    return factory


def test_accueil_archive_confirmation(snap_compare, snap_app):
    assert snap_compare(snap_app(), press=["down", "x"], terminal_size=(80, 24))


def test_accueil_archived_visits(snap_compare, snap_app):
    assert snap_compare(snap_app(), press=["down", "x", "o", "v"], terminal_size=(80, 24))


def test_new_visit_abandon_question(snap_compare, snap_app):
    assert snap_compare(snap_app(), press=["n", "C", "P", "T", "S", "escape"], terminal_size=(80, 24))
