"""A text progress bar for `on_progress(done, total)`, for the command line.

    from at_tui.importers.progress import TextProgress
    with TextProgress("Import FINESS") as bar:
        report = import_finess(conn, path, on_progress=bar)

Drawn on stderr, on one line rewritten in place, only when stderr is a terminal,
redrawn at most every 0.1 s. Elsewhere (logs, pipes) nothing is written, unless
`lines=True`: then one plain line per call. Counts are bytes (shown in Mio) unless
`unit` names what is counted.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30


class TextProgress:
    def __init__(
        self, label: str, stream: TextIO | None = None, *, force: bool = False, unit: str | None = None,
        lines: bool = False,
    ) -> None:
        self.label = label
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = force or self.stream.isatty()
        self.lines = lines and not self.enabled
        self._last = 0.0
        self._drawn = False

    def __call__(self, done: int, total: int) -> None:
        if self.lines:
            self.stream.write(f"{self.label} : {self._amount(done, total)}\n")
            self.stream.flush()
        if not self.enabled:
            return
        now = time.monotonic()
        if done < total and now - self._last < 0.1:
            return
        self._last = now
        fraction = done / total if total else 1.0
        filled = int(fraction * WIDTH)
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (WIDTH - filled)}] {fraction:4.0%}  "
                          f"{self._amount(done, total)}")
        self.stream.flush()
        self._drawn = True

    def _amount(self, done: int, total: int) -> str:
        if self.unit is None:
            return f"{done / 2**20:.1f} / {total / 2**20:.1f} Mio".replace(".", ",")
        return f"{done} / {total} {self.unit}"

    def __enter__(self) -> TextProgress:
        return self

    def __exit__(self, *exc) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
