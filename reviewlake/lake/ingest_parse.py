"""Pure-Python parsing of one landing file into bronze records or quarantine entries.

No Spark here: :meth:`FileParser.parse` takes a file's URI and bytes and returns plain dicts, so it is
unit-tested directly and run inside Spark tasks by :mod:`reviewlake.lake.ingest`.

Contract of every returned dict (``RECORD_FIELDS``): exactly one of
* a good record: ``quarantine_reason`` is ``None`` and the contract fields are filled;
* a quarantined record: ``quarantine_reason`` names why, ``raw_record`` holds its raw bytes
  (truncated to ``max_record_bytes``).

Blank lines of line-oriented files (txt, jsonl, csv) are layout, not records, and are skipped.

Compressed files (``.gz``, ``.bz2``, ``.zst``; :data:`COMPRESSIONS`) are parsed as the file their
name has without that extension (``reviews.jsonl.gz`` as JSON Lines), offsets counted in the
decompressed bytes; a ``.zip`` archive as each of its files in turn. One that cannot be
decompressed is one quarantined record, reason ``corrupt_archive``; one that inflates past the
decompression caps (:meth:`~reviewlake.core.settings.Ingest.inflation_limit`), reason
``inflated_too_large``, refused as soon as it passes them (:func:`inflate`), so a decompression
bomb never holds more than the cap. Records are produced one at a time (:meth:`FileParser.records`).

JSON Lines and text files can also be parsed from their lines alone (:meth:`FileParser.parse_lines`),
Parquet files from their rows (:meth:`FileParser.parse_rows`); large ones (:func:`split_format`)
are read so, in pieces across Spark tasks (:mod:`reviewlake.lake.ingest_lines`,
:mod:`reviewlake.lake.ingest_rows`), and give the same records as a whole-file parse.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import hashlib
import io
import json
import re
import sys
import zipfile
import zlib
from array import array
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO

from reviewlake.core.settings import Ingest, Settings
from reviewlake.errors import BadRecord

FORMATS = ("jsonl", "csv", "parquet", "txt")
EXTENSIONS = {
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".txt": "txt",
    ".text": "txt",
}

# Compressed landing files, by their last extension; the name without it gives the format.
COMPRESSIONS = {".gz": "gzip", ".gzip": "gzip", ".bz2": "bz2", ".zst": "zstd", ".zstd": "zstd", ".zip": "zip"}
# What a corrupt or truncated archive raises while it is read (gzip: BadGzipFile/EOFError/zlib.error,
# bz2: OSError/ValueError, pyarrow's zstd reader: OSError, zipfile: BadZipFile/NotImplementedError).
CORRUPT_ARCHIVE_ERRORS = (
    OSError,
    EOFError,
    ValueError,
    zlib.error,
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    NotImplementedError,
)
ZIP_MEMBER_SHIFT = 40
# The quarantine reason of a compressed file or zip member that inflates past the caps
# (``ingest.max_inflated_bytes``, ``ingest.max_inflation_ratio``: Ingest.inflation_limit).
INFLATED_TOO_LARGE = "inflated_too_large"
INFLATE_CHUNK = 1 << 20
# Compressions Hadoop's text reader undoes by itself (by the exact extension): such JSON Lines and
# text files can be read line by line by Spark (gzip in one streaming task, bzip2 in splits).
LINE_CODECS = (".gz", ".bz2")
LINE_FORMATS = ("jsonl", "txt")  # whole-file parses go through parse_lines too
BOM = b"\xef\xbb\xbf"

# Field names recognised without configuration (docs/tables.md), by contract field.
KNOWN_FIELDS: dict[str, tuple[str, ...]] = {
    "review_id": ("review_id", "id"),
    "raw_text": ("text", "content", "review", "comment", "raw_text"),
    "rating": ("rating", "star", "stars", "score"),
    "label_raw": ("label", "sentiment", "label_raw"),
    "product_id": ("product_id", "item_id", "sku"),
    "user_id": ("user_id", "user"),
    "created_at": ("created_at", "time", "date"),
}

RECORD_FIELDS = (
    "review_id",
    "source_file",
    "record_offset",
    "raw_text",
    "rating",
    "label_raw",
    "product_id",
    "user_id",
    "created_at",
    "extra",
    "quarantine_reason",
    "raw_record",
)

_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d")


def detect_format(uri: str, configured: str = "auto") -> str | None:
    """The file's format from ``configured`` or its extension; ``None`` if unknown."""
    if configured and configured != "auto":
        return configured
    name = uri.rsplit("/", 1)[-1].lower()
    for ext, fmt in EXTENSIONS.items():
        if name.endswith(ext):
            return fmt
    return None


def detect_encoding(content: bytes, configured: str = "auto") -> str:
    """``utf-8`` (BOM allowed) if the whole file decodes so, else ``gb18030`` if that decodes,
    else ``utf-8`` (undecodable lines are then quarantined one by one)."""
    if configured and configured != "auto":
        return "gb18030" if configured.lower() in ("gbk", "gb2312") else configured
    if _decodes(content, "utf-8"):
        return "utf-8"
    return "gb18030" if _decodes(content, "gb18030") else "utf-8"


def _decodes(content: bytes, encoding: str) -> bool:
    """Whether all of ``content`` decodes in ``encoding``, checked a chunk at a time (no copy of
    the whole file as text)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    view = memoryview(content)
    try:
        for start in range(0, len(view), INFLATE_CHUNK):
            decoder.decode(view[start : start + INFLATE_CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def compression(name: str) -> str | None:
    """``gzip``, ``bz2``, ``zstd`` or ``zip`` from the file name's last extension; None if plain."""
    lower = name.lower()
    for ext, codec in COMPRESSIONS.items():
        if lower.endswith(ext):
            return codec
    return None


def open_compressed(codec: str, content: bytes) -> BinaryIO:
    """A stream of the decompressed bytes (every concatenated member or frame) of gzip, bz2 or
    zstd ``content``; reading it raises one of :data:`CORRUPT_ARCHIVE_ERRORS` on corrupt or
    truncated input. zstd is pyarrow's codec (already a dependency), gzip and bz2 the standard
    library's."""
    if codec == "gzip":
        return gzip.GzipFile(fileobj=io.BytesIO(content))
    if codec == "bz2":
        return bz2.BZ2File(io.BytesIO(content))
    if codec == "zstd":
        import pyarrow as pa

        return pa.CompressedInputStream(pa.BufferReader(content), "zstd")
    raise ValueError(f"unknown compression {codec!r}")


def inflate(stream: BinaryIO, limit: int) -> bytes | None:
    """Every byte of ``stream``, read in chunks, or None as soon as it holds more than ``limit``:
    never more than ``limit`` + 1 bytes are read or held (a decompression bomb is refused after
    reading about ``limit``)."""
    out = io.BytesIO()
    while True:
        chunk = stream.read(min(INFLATE_CHUNK, limit + 1 - out.tell()))
        if not chunk:
            return out.getvalue()  # the buffer itself, not a copy
        out.write(chunk)
        if out.tell() > limit:
            return None


def decompress(codec: str, content: bytes, limit: int | None = None) -> bytes | None:
    """The whole decompressed stream of gzip, bz2 or zstd ``content`` (:func:`open_compressed`),
    or None if it inflates past ``limit`` bytes (None: no limit)."""
    with open_compressed(codec, content) as stream:
        return inflate(stream, sys.maxsize - 1 if limit is None else limit)


def line_name(uri: str) -> str:
    """The file's name without the ``.gz`` or ``.bz2`` Spark's text reader undoes: the name that
    gives its format, a text file's label and a CSV file's delimiter."""
    name = uri.rsplit("/", 1)[-1]
    return next((name[: -len(ext)] for ext in LINE_CODECS if name.endswith(ext)), name)


def split_format(uri: str, options: ReadOptions) -> str | None:
    """The format of a landing file Spark can read in pieces: ``jsonl``, ``txt`` or, where
    ``csv_quoted_newlines`` is false, ``csv`` (records are lines; plain, ``.gz`` or ``.bz2``:
    Spark's text reader undoes those), or ``parquet`` (plain; by row groups); None for the others
    (CSV that may hold quoted newlines, zstd, zip, compressed Parquet, unknown), parsed whole.
    ``options``: the ingest settings (``format``, ``csv_quoted_newlines``)."""
    name = uri.rsplit("/", 1)[-1]
    inner = line_name(uri)
    if inner == name and compression(name) is not None:
        return None
    fmt = detect_format(inner, options.ingest.format)
    if fmt == "parquet":
        return fmt if inner == name else None
    if fmt == "csv":
        return None if options.ingest.csv_quoted_newlines else fmt
    return fmt if fmt in LINE_FORMATS else None


def looks_binary(content: bytes) -> bool:
    """A NUL byte in the first 8 KiB: not a text file."""
    return b"\x00" in content[:8192]


def stable_id(source_file: str, offset: int) -> str:
    """sha1 of the file URI and record offset: the same file always maps onto the same ids (Spark's
    form: :func:`reviewlake.lake.ingest.stable_id_column`)."""
    return hashlib.sha1(f"{source_file}:{offset}".encode()).hexdigest()


def label_from_filename(uri: str, mapping: Mapping[str, str]) -> str | None:
    stem = uri.rsplit("/", 1)[-1].split(".", 1)[0].lower()
    return mapping.get(stem)


def _lines(content: bytes) -> Iterator[tuple[int, bytes]]:
    """(byte offset, line bytes without its LF) of each line, as Spark's text reader with
    ``lineSep`` LF gives them, one at a time (a file of a hundred million empty lines is not a list
    of them). Splitting bytes on LF is safe for UTF-8 and GB18030 alike: neither uses 0x0A inside a
    multi-byte character."""
    offset = 0
    while (end := content.find(b"\n", offset)) >= 0:
        yield offset, content[offset:end]
        offset = end + 1
    yield offset, content[offset:]


@dataclass(frozen=True)
class ReadOptions:
    """What reading and parsing landing files needs: the ``ingest`` settings and the ratings that
    give labels (``labels.from_rating``, whose keys bound a valid rating)."""

    ingest: Ingest
    from_rating: Mapping[Any, str]

    @classmethod
    def of(cls, cfg: Settings) -> ReadOptions:
        return cls(cfg.ingest, cfg.labels.from_rating)


class FileParser:
    """Parses one file as the :class:`ReadOptions` say."""

    def __init__(self, options: ReadOptions):
        self.options = options.ingest
        self.max_bytes = options.ingest.max_record_bytes
        self.field_map: Mapping[str, str] = options.ingest.field_map
        self._base = 0  # added to every record offset: a zip member's place in its archive
        self._in_zip = False
        self._budget = 0  # bytes the file being parsed may still inflate to (records)
        ratings = options.from_rating
        self.rating_range = (min(map(int, ratings)), max(map(int, ratings))) if ratings else (1, 5)

    # ---- public -------------------------------------------------------------------------
    def parse(self, uri: str, content: bytes) -> list[dict[str, Any]]:
        """Every record of the landing file ``uri`` whose bytes are ``content``."""
        return list(self.records(uri, content))

    def records(self, uri: str, content: bytes) -> Iterator[dict[str, Any]]:
        """:meth:`parse` one record at a time: a file's records are never all held at once."""
        self._base, self._in_zip = 0, False
        # what the whole file may inflate to, all layers and zip members together
        self._budget = self.options.inflation_limit(len(content))
        yield from self._file(uri, uri.rsplit("/", 1)[-1], content)

    def _file(self, uri: str, name: str, content: bytes) -> Iterator[dict[str, Any]]:
        """The records of ``content``, whose format and compression ``name``'s extensions give
        (a zip member's name inside the archive, else the file's)."""
        codec = compression(name)
        if codec == "zip":
            if self._in_zip:  # its members' offsets would collide with the outer archive's
                yield self._quarantine(uri, 0, content, "nested_archive")
            else:
                yield from self._zip(uri, content)
            return
        if codec is not None:
            try:
                inflated = self._inflate(open_compressed(codec, content), len(content))
            except CORRUPT_ARCHIVE_ERRORS:
                yield self._quarantine(uri, 0, content, "corrupt_archive")
                return
            if inflated is None:
                yield self._quarantine(uri, 0, content, INFLATED_TOO_LARGE)
                return
            content, name = inflated, name[: name.rfind(".")]
        fmt = detect_format(name, self.options.format)
        if fmt is None:
            yield self._quarantine(uri, 0, content, "unknown_format")
        elif fmt == "parquet":
            yield from self._parquet(uri, content)
        elif looks_binary(content):
            yield self._quarantine(uri, 0, content, "binary_file")
        else:
            encoding = detect_encoding(content, self.options.encoding)
            if fmt in LINE_FORMATS:
                yield from self.parse_lines(uri, name, fmt, encoding, _lines(content))
            else:
                yield from self._csv(uri, name, content, encoding)

    def _inflate(self, stream: BinaryIO, stored: int) -> bytes | None:
        """All of the decompressed ``stream`` of ``stored`` compressed bytes, or None if it inflates
        past its own caps (:meth:`Ingest.inflation_limit`) or what is left of the file's."""
        with stream:
            data = inflate(stream, min(self._budget, self.options.inflation_limit(stored)))
        if data is not None:
            self._budget -= len(data)
        return data

    def _zip(self, uri: str, content: bytes) -> Iterator[dict[str, Any]]:
        """Each file of a ``.zip`` archive in archive order (folders and hidden files skipped), its
        records' ``record_offset`` = member number x 2^40 + the offset inside the member, so ids
        and the (file, offset) key stay unique and stable for the same archive bytes. A member that
        does not decompress, or inflates past the caps, is one quarantined record; the others are
        parsed."""
        try:
            archive = zipfile.ZipFile(io.BytesIO(content))
            members = [m for m in archive.infolist() if not m.is_dir()]
        except CORRUPT_ARCHIVE_ERRORS:
            yield self._quarantine(uri, 0, content, "corrupt_archive")
            return
        self._in_zip = True
        for number, member in enumerate(members):
            self._base = number << ZIP_MEMBER_SHIFT
            leaf = member.filename.rsplit("/", 1)[-1]
            if leaf.startswith((".", "_")) or "__MACOSX/" in member.filename:
                continue
            try:
                data = self._inflate(archive.open(member), member.compress_size)
            except (*CORRUPT_ARCHIVE_ERRORS, RuntimeError):  # RuntimeError: an encrypted member
                yield self._quarantine(uri, 0, content, "corrupt_archive")
                continue
            if data is None:
                yield self._quarantine(uri, 0, content, INFLATED_TOO_LARGE)
                continue
            yield from self._file(uri, leaf, data)
        self._base, self._in_zip = 0, False

    def parse_lines(
        self,
        uri: str,
        name: str,
        fmt: str,
        encoding: str,
        lines: Iterable[tuple[int, bytes]],
        header: tuple[int, list[str]] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """The records of JSON Lines, text or CSV (``fmt``; a CSV record is one line: no quoted
        newlines) lines of the file ``uri`` (``name`` gives a text file's label and a CSV file's
        delimiter): ``lines`` are (byte offset, bytes without the LF), any run of them in file
        order, so a file can be parsed in pieces; ``header`` is a CSV file's (offset of its header
        line, column names) (:meth:`csv_header`). A CR before the LF, a UTF-8 BOM at offset 0 and
        blank lines are layout; ``encoding`` is the whole file's."""
        label = label_from_filename(name, self.options.label_from_filename)
        names = header[1] if header else list(self.options.csv_columns)
        for offset, line in lines:
            line = _content(offset, line)
            if not line.strip():
                continue
            if fmt == "txt":
                yield self._guard(
                    uri,
                    offset,
                    line,
                    lambda line=line: {"raw_text": self._decode(line, encoding).strip(), "label_raw": label},
                )
            elif fmt == "csv":
                row = self._csv_row(name, line.decode(encoding, errors="replace"))
                if row is None:
                    yield self._quarantine(uri, offset, line, "malformed_csv")
                elif (header is None or offset != header[0]) and any(f.strip() for f in row):
                    yield self._csv_record(uri, offset, line, row, names)
            else:
                yield self._guard(uri, offset, line, lambda line=line: self._from_json(self._decode(line, encoding)))

    def csv_header(self, name: str, head: bytes, encoding: str) -> tuple[int, list[str]] | None:
        """(offset, column names) of the header of the CSV file ``name`` whose first bytes are
        ``head``: its first well-formed, non-blank row, if ``csv_header`` is true, or ``auto`` and
        it names a known field; None if the file has none (whole lines of ``head`` only)."""
        for offset, line in _lines(head[: head.rfind(b"\n") + 1] if b"\n" in head else head):
            line = _content(offset, line)
            if not line.strip():
                continue
            row = self._csv_row(name, line.decode(encoding, errors="replace"))
            if row is not None and any(f.strip() for f in row):  # a malformed row is quarantined
                return (offset, [h.strip() for h in row]) if self._names_header(row) else None
        return None

    def _csv_record(self, uri: str, offset: int, raw: bytes, row: list[str], names: list[str]) -> dict[str, Any]:
        if len(row) != len(names):
            return self._quarantine(uri, offset, raw, "malformed_csv")
        return self._guard(uri, offset, raw, lambda: dict(zip(names, row, strict=True)))

    @staticmethod
    def _csv_row(name: str, text: str) -> list[str] | None:
        """The fields of one CSV line (None: it does not parse)."""
        try:
            return next(csv.reader([text], delimiter=_delimiter(name), strict=True), [])
        except csv.Error:
            return None

    def _names_header(self, row: list[str]) -> bool:
        header = self.options.csv_header
        return header is True or (header == "auto" and self._is_header(row))

    # ---- formats ------------------------------------------------------------------------

    def _from_json(self, text: str) -> dict[str, Any]:
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadRecord("malformed_json") from exc
        if not isinstance(obj, dict):
            raise BadRecord("malformed_json")
        return obj

    def _csv(self, uri: str, name: str, content: bytes, encoding: str) -> Iterator[dict[str, Any]]:
        line_offsets = array("q", (off for off, _ in _lines(content)))  # 8 bytes a line, not an int object
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            text = content.decode(encoding, errors="replace")
        skip = len(BOM) if content.startswith(BOM) else 0  # a UTF-8 BOM is layout, as in parse_lines
        text = text[1:] if skip else text
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(name), strict=True)
        names: list[str] | None = None  # from the first non-blank row: a header, or csv_columns
        columns = list(self.options.csv_columns)
        start_line = 0
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error:
                offset = line_offsets[min(start_line, len(line_offsets) - 1)]
                end = line_offsets[reader.line_num] if reader.line_num < len(line_offsets) else len(content)
                raw = content[max(offset, skip) : end].rstrip(b"\r\n")
                yield self._quarantine(uri, offset, raw, "malformed_csv")
                start_line = reader.line_num
                continue
            offset = line_offsets[min(start_line, len(line_offsets) - 1)]
            end = line_offsets[reader.line_num] if reader.line_num < len(line_offsets) else len(content)
            raw = content[max(offset, skip) : end].rstrip(b"\r\n")
            start_line = reader.line_num
            if not row or all(not f.strip() for f in row):
                continue
            if names is None:
                if self._names_header(row):
                    names = [h.strip() for h in row]
                    continue
                names = columns
            yield self._csv_record(uri, offset, raw, row, names)

    def _is_header(self, row: list[str]) -> bool:
        names = {f.strip().lower() for f in row}
        known = {n for aliases in KNOWN_FIELDS.values() for n in aliases} | set(self.field_map)
        return bool(names & known)

    def _parquet(self, uri: str, content: bytes) -> Iterator[dict[str, Any]]:
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(io.BytesIO(content))
        except Exception:  # noqa: BLE001 - any reader failure means: not a usable parquet file
            yield self._quarantine(uri, 0, content, "malformed_parquet")
            return
        yield from self.parse_rows(uri, enumerate(table.to_pylist()))

    def parse_rows(self, uri: str, rows: Iterable[tuple[int, Mapping[str, Any]]]) -> Iterator[dict[str, Any]]:
        """The records of Parquet rows of the file ``uri``: ``rows`` are (index in the file, the
        row as pyarrow's ``to_pylist`` gives it), any run of them, so a file can be parsed in
        pieces. The offset is the index; the raw record the row as JSON."""
        for index, row in rows:
            raw = json.dumps(row, ensure_ascii=False, default=str).encode("utf-8")
            yield self._guard(uri, index, raw, lambda row=row: row)

    # ---- record building ----------------------------------------------------------------
    def _decode(self, line: bytes, encoding: str) -> str:
        try:
            return line.decode(encoding)
        except UnicodeDecodeError as exc:
            raise BadRecord("undecodable") from exc

    def _guard(self, uri: str, offset: int, raw: bytes, build) -> dict[str, Any]:
        if len(raw) > self.max_bytes:
            return self._quarantine(uri, offset, raw, "record_too_large")
        try:
            return self._record(uri, offset, build())
        except BadRecord as exc:
            return self._quarantine(uri, offset, raw, str(exc))

    def _record(self, uri: str, offset: int, fields: Mapping[str, Any]) -> dict[str, Any]:
        mapped: dict[str, Any] = {}
        extra: dict[str, str] = {}
        aliases = {a: target for target, names in KNOWN_FIELDS.items() for a in names}
        for key, value in fields.items():
            target = self.field_map.get(key) or aliases.get(str(key).strip().lower())
            if target and target not in mapped:
                mapped[target] = value
            elif value is not None:
                extra[str(key)] = (
                    value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
                )
        text = mapped.get("raw_text")
        if text is None:
            raise BadRecord("missing_text")
        if not isinstance(text, str):
            raise BadRecord("bad_text_type")
        source_id = mapped.get("review_id")
        offset = self._base + int(offset)
        return {
            "review_id": str(source_id) if source_id not in (None, "") else stable_id(uri, offset),
            "source_file": uri,
            "record_offset": int(offset),
            "raw_text": text,
            "rating": self._rating(mapped.get("rating")),
            "label_raw": None if mapped.get("label_raw") in (None, "") else str(mapped["label_raw"]).strip(),
            "product_id": _opt_str(mapped.get("product_id")),
            "user_id": _opt_str(mapped.get("user_id")),
            "created_at": _timestamp(mapped.get("created_at")),
            "extra": extra or None,
            "quarantine_reason": None,
            "raw_record": None,
        }

    def _rating(self, value: Any) -> int | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, bool):
            raise BadRecord("bad_rating")
        try:
            number = float(value)
        except (TypeError, ValueError) as exc:
            raise BadRecord("bad_rating") from exc
        if number != int(number) or not self.rating_range[0] <= number <= self.rating_range[1]:
            raise BadRecord("rating_out_of_range")
        return int(number)

    def quarantine(self, uri: str, raw: bytes, reason: str) -> dict[str, Any]:
        """The one quarantined record of a file that is not parsed at all (offset 0, its first bytes)."""
        return self._quarantine(uri, 0, raw, reason)

    def _quarantine(self, uri: str, offset: int, raw: bytes, reason: str) -> dict[str, Any]:
        record = dict.fromkeys(RECORD_FIELDS)
        record.update(
            source_file=uri,
            record_offset=self._base + int(offset),
            quarantine_reason=reason,
            raw_record=bytes(raw[: self.max_bytes]),
        )
        return record


def _content(offset: int, line: bytes) -> bytes:
    """A line without its layout: one CR before the LF, and a UTF-8 BOM at the file's start."""
    if line.endswith(b"\r"):
        line = line[:-1]
    return line[len(BOM) :] if offset == 0 and line.startswith(BOM) else line


def _delimiter(name: str) -> str:
    return "\t" if name.lower().endswith(".tsv") else ","


def _opt_str(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _timestamp(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value
        return datetime.fromtimestamp(seconds, tz=UTC)
    text = str(value).strip()
    if re.fullmatch(r"\d{9,13}", text):
        return _timestamp(int(text))
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except ValueError:
        pass
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise BadRecord("bad_created_at")


def parse_files(rows: Iterable[tuple[str, bytes]], options: ReadOptions) -> Iterator[dict[str, Any]]:
    """Parse many (uri, content) pairs: the body of the Spark task."""
    parser = FileParser(options)
    for uri, content in rows:
        yield from parser.records(uri, bytes(content))
