"""The extract file as the importers read it: checked, decoded line by line, watched for changes.

Shared by the FINESS and Annuaire Santé readers. Three promises:

- **Nothing unreadable gets in.** A missing path, a folder, a file the user may not
  read, an empty, compressed, UTF-16 or binary file is refused in French before
  anything is parsed (`ImporterError`); an OS error while reading is too.
- **Each line in its own encoding.** Every line is decoded as UTF-8; in a line that
  is not valid UTF-8 — and only in that line — each byte that does not fit is
  decoded as Windows-1252 (as Latin-1 for the five bytes Windows-1252 leaves
  undefined), its valid UTF-8 sequences staying UTF-8. One stray Windows-1252 byte
  in a UTF-8 national extract therefore spoils nothing else, not even the rest of
  its line: deciding on the whole file turned 1,143 names into « Ã‰TANGS ». A file
  in Windows-1252 throughout comes out right too (each accented byte falls back;
  a line holding no UTF-8 sequence at all is decoded whole, in C), so the encoding
  needs no sniffing, and the file is read once instead of twice. The lines that
  needed the fallback are counted and reported.
  Why not `charset-normalizer`: it guesses one encoding for a whole payload from
  statistics on a sample, which is exactly the failure above (a mixed file has no
  single right answer), it needs the bytes in memory or a second pass, and it
  costs a dependency. The question here is narrower and has an exact answer per
  line: a French extract is UTF-8 or Windows-1252, and a Windows-1252 line with
  accents is practically never valid UTF-8 (an accented capital followed by a
  byte in 0x80–0xBF, i.e. « Ã© » written on purpose).
- **The file read is the file imported.** Its identity, size and modification
  time are taken before reading, compared with `fstat` of the open handle when it
  is opened, at every progress step and at the end, and with `stat` of the path
  at the end: a file still being downloaded, copied over, replaced or deleted
  while it is read is refused (« le fichier a changé pendant la lecture »), and
  the import replaces nothing.
"""

from __future__ import annotations

import codecs
import os
import stat
from codecs import charmap_decode
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from encodings.cp1252 import decoding_table as CP1252_TABLE
from pathlib import Path

from at_tui.domain.redaction import printable
from at_tui.files import FileVersion

ProgressCallback = Callable[[int, int], None]

PROGRESS_STEP_BYTES = 256 * 1024
HEAD_BYTES = 65536  # where a NUL byte means a binary file (further down, a stray NUL is one bad line)
FALLBACK_EXAMPLES = 5
FIRST_LINE_BYTES = 1 << 20


class ImporterError(Exception):
    """The file cannot be imported at all; the French message says why. Nothing was changed."""


@dataclass
class Decoding:
    """How the lines were decoded: counted while reading, summed up in French at the end."""

    bom: bool = False
    utf8_non_ascii: int = 0  # lines with accents that were valid UTF-8
    cp1252: int = 0  # lines that were not UTF-8, read as Windows-1252
    latin1: int = 0  # … read as Latin-1 (a byte Windows-1252 leaves undefined)
    examples: list[int] = field(default_factory=list)  # the first fallback line numbers

    @property
    def fallback(self) -> int:
        return self.cp1252 + self.latin1

    @property
    def mixed(self) -> bool:
        """UTF-8 text with a few lines in another encoding (not a whole file in Windows-1252)."""
        return bool(self.fallback and (self.utf8_non_ascii or self.bom))

    def codec(self) -> str:
        """utf-8, utf-8-sig, cp1252 or latin-1: the encoding of the text lines."""
        if self.fallback and not self.mixed:
            return "latin-1" if self.latin1 else "cp1252"
        return "utf-8-sig" if self.bom else "utf-8"

    def label(self) -> str:
        """The encoding, in French, for the report's first line."""
        codec = self.codec()
        if codec == "cp1252":
            return "Windows-1252"
        if codec == "latin-1":
            return "Latin-1 (ISO-8859-1)"
        return "UTF-8 avec BOM" if self.bom else "UTF-8"

    def summary(self) -> str | None:
        """The report line on the lines of a UTF-8 file that were not UTF-8, None when there were none."""
        if not self.mixed:
            return None
        where = ", ".join(str(number) for number in self.examples)
        more = ", …" if self.fallback > len(self.examples) else ""
        return (
            f"{self.fallback} ligne(s) hors UTF-8 lue(s) en Windows-1252, chacune seule "
            f"(ligne(s) {where}{more}) : vérifiez leurs accents ; le reste du fichier est en UTF-8."
        )


# The bytes Windows-1252 leaves undefined, as Latin-1 decodes them (C1 controls, dropped by the clean-up).
_CP1252_UNDEFINED = "\x81\x8d\x8f\x90\x9d"
_FALLBACK = "at_tui.cp1252"


def _cp1252_bytes(error: UnicodeError) -> tuple[str, int]:
    """The codec error handler: the bytes UTF-8 could not decode, decoded one by one as Windows-1252."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    chunk = error.object[error.start : error.end]
    return "".join(_byte_cp1252(byte) for byte in chunk), error.end


def _byte_cp1252(byte: int) -> str:
    try:
        return bytes((byte,)).decode("cp1252")
    except UnicodeDecodeError:
        return chr(byte)  # Latin-1


codecs.register_error(_FALLBACK, _cp1252_bytes)


def decode_line(raw: bytes) -> str:
    """One line decoded as `ExtractSource.lines` does (UTF-8, else Windows-1252 byte by byte where it
    does not fit, Latin-1 for the bytes Windows-1252 leaves undefined), uncounted."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("utf-8", _FALLBACK)


def _refusal(path: Path, error: OSError, doing: str) -> ImporterError:
    from at_tui.store.errors import explain

    return ImporterError(f"{explain(error, doing)} Rien n'a été importé.")


class ExtractSource:
    """One extract file: opened checks, the first line, then every line once, decoded and watched.

    `what` names the expected file in the French messages (« extrait FINESS »),
    `published` where the AT downloads it (« sur data.gouv.fr »).
    """

    def __init__(self, path: Path, what: str, published: str) -> None:
        self.path = path
        self.what = what
        self.published = published
        self.decoding = Decoding()
        self.legacy_line = 0  # the last line decoded whole as Windows-1252 or Latin-1 (it holds no UTF-8)
        try:
            status = os.stat(path)
        except FileNotFoundError:
            raise ImporterError(f"Fichier {path} introuvable.") from None
        except OSError as error:
            raise _refusal(path, error, f"Lecture de {path}") from error
        if stat.S_ISDIR(status.st_mode):
            raise ImporterError(
                f"{path} n'est pas un fichier mais un dossier : indiquez le fichier de l'{what}. Rien n'a été importé."
            )
        if not stat.S_ISREG(status.st_mode):
            raise ImporterError(f"{path} n'est pas un fichier ordinaire (périphérique, tube…) : rien n'a été importé.")
        self.snapshot = FileVersion.of(status)
        try:
            with path.open("rb") as handle:
                head = handle.read(HEAD_BYTES)
        except OSError as error:
            raise _refusal(path, error, f"Lecture de {path}") from error
        self._check_head(head)
        self.decoding.bom = head.startswith(codecs.BOM_UTF8)

    @property
    def total_bytes(self) -> int:
        return self.snapshot.size

    def _check_head(self, head: bytes) -> None:
        path, what = self.path, self.what
        if not head.strip(b" \t\r\n") or head.strip(b" \t\r\n") == codecs.BOM_UTF8:
            raise ImporterError(f"Le fichier {path} est vide : aucun {what} à importer.")
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise ImporterError(
                f"Le fichier {path} est encodé en UTF-16, non pris en charge : "
                f"utilisez l'extrait publié {self.published} tel quel (UTF-8 ou Windows-1252)."
            )
        if head.startswith(b"PK\x03\x04") or head.startswith(b"\x1f\x8b"):
            raise ImporterError(
                f"Le fichier {path} est une archive compressée (zip ou gzip) : décompressez-la, "
                "puis importez le fichier CSV qu'elle contient."
            )
        if b"\x00" in head:
            raise ImporterError(
                f"Le fichier {path} n'est pas un fichier texte (octets nuls) : ce n'est pas un {what} au format CSV."
            )

    def _mixed(self, number: int, raw: bytes) -> str:
        """UTF-8 with stray bytes: only the bytes that do not fit are Windows-1252 (or Latin-1)."""
        decoding = self.decoding
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[3:]
        line = raw.decode("utf-8", _FALLBACK)
        decoding.utf8_non_ascii += 1
        if any(char in line for char in _CP1252_UNDEFINED):
            decoding.latin1 += 1
        else:
            decoding.cp1252 += 1
        if len(decoding.examples) < FALLBACK_EXAMPLES:
            decoding.examples.append(number)
        return line

    def first_line(self) -> tuple[int, str]:
        """(number, text with its line end) of the first non-blank line; (0, "") when there is none.

        Decoded without counting (the full read counts it again), at most its first MiB.
        """
        try:
            with self.path.open("rb") as handle:
                number = 0
                while raw := handle.readline(FIRST_LINE_BYTES):  # a huge first line is refused on its start
                    number += 1
                    if raw.strip():
                        return number, decode_line(raw[3:] if number == 1 and self.decoding.bom else raw)
        except OSError as error:
            raise _refusal(self.path, error, f"Lecture de {self.path}") from error
        return 0, ""

    def lines(self, on_progress: ProgressCallback | None = None) -> Iterator[tuple[int, str]]:
        """(line number from 1, text with its line end) of every line, streamed, each decoded on its own.

        `on_progress(bytes_read, total_bytes)` is called with 0 first, then about every
        256 KiB, and with the total once the last line was read; an exception raised
        by it propagates to the caller's loop, which stops the reading. Raises
        `ImporterError` when the file changes or vanishes while it is read, or
        cannot be read.
        """
        total = self.snapshot.size
        decoding = self.decoding
        mixed = self._mixed
        examples = decoding.examples
        utf8_non_ascii = legacy = latin1 = 0
        # After a line with no UTF-8 in it, the next is likely the same: decoding it with
        # surrogateescape first spares raising (and catching) one UnicodeDecodeError per line.
        legacy_mode = False
        try:
            handle = self.path.open("rb")
        except OSError as error:
            raise _refusal(self.path, error, f"Lecture de {self.path}") from error
        with handle:
            self._check_open(handle)
            if on_progress is not None:
                on_progress(0, total)
            next_progress = PROGRESS_STEP_BYTES
            number = 0
            try:
                for number, raw in enumerate(handle, 1):
                    is_legacy = False
                    if legacy_mode:
                        line = raw.decode("utf-8", "surrogateescape")
                        if len(line) == len(raw):  # no multi-byte UTF-8 sequence
                            is_legacy = not raw.isascii()
                        else:
                            try:
                                line.encode("utf-8")  # raises on a byte UTF-8 could not decode
                            except UnicodeEncodeError:
                                line = mixed(number, raw)
                            else:
                                utf8_non_ascii += 1
                                legacy_mode = False
                    else:
                        try:
                            line = raw.decode("utf-8")
                        except UnicodeDecodeError:
                            if len(raw.decode("utf-8", "surrogateescape")) == len(raw):
                                is_legacy = legacy_mode = True
                            else:
                                line = mixed(number, raw)
                        else:
                            if not raw.isascii():
                                utf8_non_ascii += 1
                                if number == 1 and line.startswith("\ufeff"):
                                    line = line[1:]
                    if is_legacy:  # no UTF-8 in the line at all: Windows-1252 whole, else Latin-1
                        self.legacy_line = number
                        legacy += 1
                        if legacy <= FALLBACK_EXAMPLES and len(examples) < FALLBACK_EXAMPLES:
                            examples.append(number)
                        try:
                            line = charmap_decode(raw, "strict", CP1252_TABLE)[0]  # bytes.decode's Python wrapper skipped
                        except UnicodeDecodeError:  # a byte Windows-1252 leaves undefined: that byte as Latin-1
                            line = raw.decode("utf-8", _FALLBACK)
                            latin1 += 1
                    if not number & 511:
                        position = handle.tell()
                        if position >= next_progress:
                            self._check_open(handle)
                            if on_progress is not None:
                                on_progress(position, total)
                            next_progress = position + PROGRESS_STEP_BYTES
                    yield number, line
                decoding.utf8_non_ascii += utf8_non_ascii
                decoding.cp1252 += legacy - latin1
                decoding.latin1 += latin1
                self._check_done(handle)
            except OSError as error:
                raise _refusal(self.path, error, f"Lecture de {self.path} (ligne {number + 1})") from error
        if on_progress is not None:
            on_progress(total, total)

    # -- changes while reading ------------------------------------------------------------------

    def _changed(self, detail: str) -> ImporterError:
        return ImporterError(
            f"Import abandonné : le fichier a changé pendant la lecture ({self.path} : {detail}). "
            "Rien n'a été remplacé. Attendez la fin de son téléchargement ou de sa copie, puis relancez l'import."
        )

    def _compare(self, now: FileVersion) -> None:
        detail = self.snapshot.change(now)
        if detail is not None:
            raise self._changed(detail)

    def _check_open(self, handle) -> None:
        """The open handle is the file checked at first, unchanged so far."""
        self._compare(FileVersion.of(os.fstat(handle.fileno())))

    def _check_done(self, handle) -> None:
        """Everything was read, and the path still names that same, unchanged file."""
        self._compare(FileVersion.of(os.fstat(handle.fileno())))
        if handle.tell() != self.snapshot.size:
            raise self._changed(f"{handle.tell()} octets lus sur {self.snapshot.size}")
        try:
            status = os.stat(self.path)
        except FileNotFoundError:
            raise ImporterError(
                f"Import abandonné : le fichier a disparu pendant la lecture ({self.path}). Rien n'a été remplacé."
            ) from None
        self._compare(FileVersion.of(status))


def excerpt(text: str, limit: int = 80) -> str:
    """A line of the file as a message may quote it: no control or escape sequence, bounded."""
    shown = printable(text.strip())
    return shown[:limit] + ("…" if len(shown) > limit else "")
