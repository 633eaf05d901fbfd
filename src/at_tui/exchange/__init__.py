"""Exporting visits to a JSON file and importing them on another laptop.

This is the fallback for handing a visit to a CM when no synchronisation is
possible: the AT exports, sends the file, the CM imports. The format is
described in `docs/visit-format.md`.

* an export (`exporter`) is a versioned envelope (`header`, `format`) carrying
  the raw visit data plus the playbook and questionnaire snapshots the visits
  use (`references`), so the file opens on a laptop whose bundled playbook
  differs;
* an import (`importer`) validates everything first (`format`, `incoming`) and
  writes in one transaction; a visit already present is compared with the
  file's (`compare`, `at_tui.domain.revisions`): each visit's fate (imported,
  updated, already there, diverged…) is in the `ImportReport`;
* format v3 carries each visit's opportunity, its append-only journal and ticked actions
  (`opportunities`): the journal merges by entry id, a status or date changed on both sides
  is reported and this laptop's kept (`at_tui.domain.opportunity_revisions`);
* reading and writing the file itself is `fileio`.

Every error is an `ExchangeError` whose message is French, for the AT or CM.
Nothing here imports pydantic until a file is imported (start-up time).
"""

from at_tui.exchange.errors import ExchangeError, Fate, ImportReport, VisitFate
from at_tui.exchange.exporter import export_visits
from at_tui.exchange.fileio import MAX_FILE_BYTES, dumps, loads, read_file, suggested_filename, write_file
from at_tui.exchange.header import FORMAT, VERSION
from at_tui.exchange.importer import import_file, import_visits

__all__ = [
    "FORMAT",
    "MAX_FILE_BYTES",
    "VERSION",
    "ExchangeError",
    "Fate",
    "ImportReport",
    "VisitFate",
    "dumps",
    "export_visits",
    "import_file",
    "import_visits",
    "loads",
    "read_file",
    "suggested_filename",
    "write_file",
]
