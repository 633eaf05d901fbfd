"""The central store service (`at-tui central serve`): where the ATs' laptops sync their visits.

The contract is `docs/sync-protocol.md`. Layout:

* `storage` — the small storage interface (users, tokens, visits, the operation
  ledger, reference items), its value types and the schema version;
* `backends` — the storage a `--db` names: `sqlite_storage` (a file, the default;
  schema in `sqlite_schema`) or `postgres_storage` (a `postgresql://…` URL; schema in
  `postgres_schema`), migrated at open under a lock;
* `auth` — device tokens (made, hashed, checked, revoked);
* `models` — the pydantic models of what travels (visit content, follow-up, pages);
* `operations` — the protocol's rules for one pushed operation (pure: no I/O);
* `app` — the FastAPI application (`create_app`), imported only when serving,
  since FastAPI is an optional dependency (`pip install 'at-tui[central]'`, which
  also brings psycopg for PostgreSQL).

Nothing here imports Textual.
"""
