"""The contacts lookup in the local database: the bundled directory and the imported professionals.

The directory's contacts (the bundled few dozen, with those pulled from the central laid
over them: at_tui.reference.pulled) are copied into `contacts` whenever they change, and
ranked with bm25: they always come first. The professionals of
the Annuaire Santé (hundreds of thousands) are never ranked as a whole — bm25
over every match of `j*` costs 25 ms at 200,000 rows and 250 ms at 2 million.
They are taken in bounded, index-backed passes, best first, each in alphabetical
order (rows are numbered by name at import):

1. the folded name starts with what was typed (« dupont j »): `professionals_by_name`;
2. every word prefixes a word of the name (« jean dup »): FTS5 prefix index, name column;
3. every word prefixes a word of the name, profession, structure, commune or
   département: FTS5, all columns;

stopping as soon as the page is full. A département filter uses the
(departement, name) index in pass 1 and the département column in passes 2-3.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable
from itertools import islice

from at_tui.domain.directory import Contact, ContactKind
from at_tui.domain.lookup import (
    ANNUAIRE_SOURCE,
    PROFESSIONAL,
    Entry,
    Query,
    Results,
    contact_source,
    contact_words,
    covered_departements,
)
from at_tui.domain.playbook import Territory
from at_tui.store.bounded import Page, after
from at_tui.store.db import immediate

_FINGERPRINT_KEY = "contacts_fingerprint"
RANKED_AT_MOST = 5_000  # contacts (ids are 1..n): bm25 over all matches stays within a few ms up to here


# -- the bundled directory ----------------------------------------------------------------


def sync_contacts(
    conn: sqlite3.Connection, contacts: Iterable[Contact], territory: Territory, fingerprint: str | None = None
) -> bool:
    """Copy the directory's contacts into the database when they changed; True when rows were written.

    Without `fingerprint` it is computed from the rows (the bundled directory: a few dozen
    contacts). With one — a cheap summary of where `contacts` come from, such as the bundled
    fingerprint and the pulled contacts' version — `contacts` is only read when it differs,
    and streamed: 200,000 pulled contacts are never all in memory.

    One `BEGIN IMMEDIATE`: the lookup sees the old directory or the new one, never half of it.
    """
    rows: Iterable[tuple] | None = None
    if fingerprint is None:
        rows = [contact_row(contact, territory) for contact in contacts]
        fingerprint = _fingerprint(rows)
    stored = conn.execute("SELECT value FROM directory_state WHERE key = ?", (_FINGERPRINT_KEY,)).fetchone()
    if stored is not None and stored[0] == fingerprint:
        return False
    if rows is None:
        rows = (contact_row(contact, territory) for contact in contacts)
    with immediate(conn):
        conn.execute("DELETE FROM contacts")
        conn.execute("INSERT INTO contacts_fts (contacts_fts) VALUES ('delete-all')")
        numbered = enumerate(rows, start=1)
        while chunk := list(islice(numbered, 1000)):
            conn.executemany(
                "INSERT INTO contacts (id, contact_id, kind, name, organisation, role, departements, sector, "
                "email, phone, url, notes, source, last_checked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(number, *row[:13]) for number, row in chunk],
            )
            conn.executemany(
                "INSERT INTO contacts_fts (rowid, name_words, other_words) VALUES (?, ?, ?)",
                [(number, *row[13:]) for number, row in chunk],
            )
        conn.execute(
            "INSERT INTO directory_state (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (_FINGERPRINT_KEY, fingerprint),
        )
    return True


def contact_row(contact: Contact, territory: Territory) -> tuple:
    """A contact as the `contacts` row (13 columns) followed by its two word-index columns."""
    name_words, other_words = contact_words(contact, territory)
    return (
        contact.id, contact.kind.value, contact.name, contact.organisation, contact.role,
        " ".join(covered_departements(contact, territory)), contact.sector, contact.email, contact.phone,
        contact.url, contact.notes, contact_source(contact), contact.last_checked.isoformat(),
        name_words, other_words,
    )


def directory_fingerprint(contacts: Iterable[Contact], territory: Territory) -> str:
    return _fingerprint([contact_row(contact, territory) for contact in contacts])


def _fingerprint(rows: list[tuple]) -> str:
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()


_CONTACT_COLUMNS = (
    "c.contact_id, c.kind, c.name, c.organisation, c.role, c.departements, c.email, c.phone, "
    "c.source, c.last_checked, c.url, c.notes, c.sector"
)


# Browsing (nothing typed): DAC referents, then the teams, the projects, the mailboxes.
_KIND_ORDER = "CASE c.kind " + " ".join(f"WHEN '{kind.value}' THEN {rank}" for rank, kind in enumerate(ContactKind)) + " END"


def _contact_entry(row: sqlite3.Row | tuple) -> Entry:
    key, kind, name, organisation, role, departements, email, phone, source, checked, url, notes, sector = row
    return Entry(
        key=key, kind=kind, name=name, organisation=organisation, role=role,
        departements=tuple(departements.split()), email=email, phone=phone, source=source,
        last_checked=checked, url=url, notes=notes, sector=sector,
    )


def _contacts(conn: sqlite3.Connection, query: Query) -> list[Entry]:
    where, params = [], []
    if query.kind is not None:
        where.append("c.kind = ?")
        params.append(query.kind)
    if query.departement is not None:
        where.append("(' ' || c.departements || ' ') LIKE ?")
        params.append(f"% {query.departement} %")
    if query.words:
        # Name matches weigh ten times the other words; ties keep the files' order. Ranking
        # costs every match: past a curated directory's size (a huge set published by the
        # central), matches come unranked in the files' order and the search stays bounded.
        ranked = conn.execute("SELECT coalesce(max(id), 0) FROM contacts").fetchone()[0] <= RANKED_AT_MOST
        order = "bm25(contacts_fts, 10.0, 1.0), c.id" if ranked else "c.id"
        sql = (
            f"SELECT {_CONTACT_COLUMNS} FROM contacts_fts JOIN contacts c ON c.id = contacts_fts.rowid "
            f"WHERE contacts_fts MATCH ? {''.join(' AND ' + w for w in where)} "
            f"ORDER BY {order} LIMIT ?"
        )
        params = [query.match_expression(), *params, query.limit]
    else:
        condition = f"WHERE {' AND '.join(where)}" if where else ""
        sql = f"SELECT {_CONTACT_COLUMNS} FROM contacts c {condition} ORDER BY {_KIND_ORDER}, c.id LIMIT ?"
        params.append(query.limit)
    return [_contact_entry(row) for row in conn.execute(sql, params)]


# -- the imported professionals -------------------------------------------------------------

_PRO_COLUMNS = (
    "p.id, p.identifier, p.last_name, p.first_name, p.profession, p.specialty, p.structure, p.commune, "
    "p.postcode, p.phone, p.email, p.departement, p.imported_at"
)


def _professional_entry(row: sqlite3.Row | tuple) -> Entry:
    (row_id, identifier, last_name, first_name, profession, specialty, structure, commune, postcode, phone, email,
     departement, imported_at) = row
    role = " — ".join(part for part in (profession, specialty) if part) or "Professionnel de santé"
    place = " ".join(part for part in (postcode, commune) if part)
    return Entry(
        key=f"ps:{identifier}:{row_id}", kind=PROFESSIONAL, name=" ".join(p for p in (first_name, last_name) if p),
        organisation=structure or place or "", role=role, departements=(departement,), email=email or None,
        phone=phone or None, source=f"{ANNUAIRE_SOURCE}, identifiant {identifier}",
        last_checked=(imported_at or "")[:10] or None, commune=place or None,
    )


def _professionals(conn: sqlite3.Connection, query: Query, limit: int) -> list[Entry]:
    page = Page(conn, limit)
    take = page.take
    entries = lambda: [_professional_entry(row) for row in page.rows.values()]  # noqa: E731
    dept = query.departement
    if not query.words:
        # No words: the département's professionals (or everyone) in name order.
        if dept is None:
            take(f"SELECT {_PRO_COLUMNS} FROM professionals p ORDER BY p.name_folded LIMIT ?", (limit,))
        else:
            take(f"SELECT {_PRO_COLUMNS} FROM professionals p WHERE p.departement = ? ORDER BY p.name_folded LIMIT ?",
                 (dept, limit))
        return entries()
    text = query.text
    if dept is None:
        sql = (f"SELECT {_PRO_COLUMNS} FROM professionals p INDEXED BY professionals_by_name "
               "WHERE p.name_folded >= ? AND p.name_folded < ? ORDER BY p.name_folded LIMIT ?")
        params: tuple = (text, after(text), limit)
    else:
        sql = (f"SELECT {_PRO_COLUMNS} FROM professionals p INDEXED BY professionals_by_departement "
               "WHERE p.departement = ? AND p.name_folded >= ? AND p.name_folded < ? ORDER BY p.name_folded LIMIT ?")
        params = (dept, text, after(text), limit)
    if take(sql, params):
        return entries()
    words = query.match_expression()
    in_dept = f' AND {{departement_words}} : "{dept}"' if dept is not None else ""
    sql = (
        f"SELECT {_PRO_COLUMNS} FROM professionals_fts JOIN professionals p ON p.id = professionals_fts.rowid "
        "WHERE professionals_fts MATCH ? ORDER BY professionals_fts.rowid LIMIT ?"
    )
    for match in (f"{{name_words}} : ({words}){in_dept}", f"({words}){in_dept}"):
        if take(sql, (match, limit + len(page))):
            break
    return entries()


def professionals_total(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT max(id) FROM professionals").fetchone()  # ids are 1..n after each import
    return row[0] or 0


# -- both -------------------------------------------------------------------------------------


def search(conn: sqlite3.Connection, query: Query) -> Results:
    """The bundled contacts first (ranked), then professionals (bounded passes), `query.limit` at most."""
    if query.limit == 0:
        return Results(query)
    contacts = _contacts(conn, query) if query.kind != PROFESSIONAL else []
    total = professionals_total(conn)
    room = query.limit - len(contacts)
    professionals: list[Entry] = []
    # With no words and no filter, the list is the bundled directory: 200,000 names in
    # alphabetical order would help no one.
    browsing = not query.words and query.kind != PROFESSIONAL
    if total and room > 0 and query.wants(PROFESSIONAL) and not browsing:
        professionals = _professionals(conn, query, room + 1)  # one more tells whether there are more
    truncated = len(professionals) > room
    return Results(query, tuple(contacts + professionals[:room]), total, truncated)
