"""The central store service (`at-tui central serve`): where the ATs' laptops sync their visits.

The contract is `docs/sync-protocol.md`. Layout:

* `storage` — the small storage interface (users, tokens, visits, the operation
  ledger, reference items) and its value types; `sqlite_storage` implements it;
* `auth` — device tokens (made, hashed, checked, revoked);
* `models` — the pydantic models of what travels (visit content, follow-up, pages);
* `operations` — the protocol's rules for one pushed operation (pure: no I/O);
* `app` — the FastAPI application (`create_app`), imported only when serving,
  since FastAPI is an optional dependency (`pip install 'at-tui[central]'`).

Nothing here imports Textual.
"""
