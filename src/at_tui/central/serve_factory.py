"""The application of one worker process of `at-tui central serve --workers N` (PostgreSQL).

With several processes uvicorn starts each worker afresh (`spawn`) and builds its
application from an import string: `at_tui.central.serve_factory:worker_app`, with
`factory=True`. Nothing can be handed over in memory, so the parent passes the
settings through the environment (`ENV_DB`, `ENV_RATE_LIMIT`) — never a token: the
service holds none, only the hashes in the database. Each worker opens its own storage
(its own connection pool: connections cannot cross a fork) and closes it at shutdown.

A worker that cannot start (database unreachable since the parent checked it, reference
data broken) says why in French on the error log and exits with uvicorn's « startup
failure » code: the parent then stops instead of restarting it for ever.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

ENV_DB = "AT_TUI_CENTRAL_DB"
ENV_RATE_LIMIT = "AT_TUI_CENTRAL_RATE_LIMIT"
STARTUP_FAILURE = 3  # uvicorn.config.STARTUP_FAILURE: the supervisor stops rather than respawn


def settings_environment(db: str, rate_limit: int | None) -> dict[str, str]:
    """The variables a worker reads its settings from (set in the parent before the workers start)."""
    values = {ENV_DB: db}
    if rate_limit is not None:
        values[ENV_RATE_LIMIT] = str(rate_limit)
    return values


def open_checked(db: str) -> tuple[Any, Any]:
    """The storage (migrated at open) and the rules pushed visits are checked with, both usable;
    StorageError in French otherwise (a broken install stops the service at start)."""
    from at_tui.central.backends import open_storage
    from at_tui.central.storage import StorageError
    from at_tui.central.validation import Rules
    from at_tui.reference.loader import ReferenceDataError

    storage = open_storage(db)
    rules = Rules(storage)
    try:
        rules.known()
    except (ReferenceDataError, StorageError) as error:
        storage.close()
        raise StorageError(f"{error}\nLe service ne peut pas vérifier les visites reçues : il ne démarre pas.") from None
    return storage, rules


def worker_app() -> Any:
    """The central service of this worker: its own storage on `ENV_DB`, the limits of the parent."""
    from at_tui.central.app import create_app
    from at_tui.central.models import Limits
    from at_tui.central.storage import StorageError

    log = logging.getLogger("uvicorn.error")
    db = os.environ.get(ENV_DB)
    if not db:
        log.error("Processus du service central sans base (%s absente) : lancez-le par « at-tui central serve ».", ENV_DB)
        sys.exit(STARTUP_FAILURE)
    raw = os.environ.get(ENV_RATE_LIMIT)
    limits = Limits() if raw is None else Limits(rate_limit=int(raw))
    try:
        storage, rules = open_checked(db)
    except StorageError as error:
        log.error("%s", error)
        sys.exit(STARTUP_FAILURE)
    app = create_app(storage, limits, rules)
    app.router.add_event_handler("shutdown", storage.close)
    return app
