"""Large JSON Lines, text and CSV landing files, read in byte ranges across Spark tasks.

A JSON Lines or text file, or a CSV file where ``ingest.csv_quoted_newlines`` is false (plain,
``.gz`` or ``.bz2``; :func:`reviewlake.lake.ingest_parse.split_format`), of at least
``ingest.split_min_bytes`` is never held whole anywhere:

1. :func:`scan` streams it once on the driver's JVM: its sha-256 (the file log's hash, of the
   bytes as stored), its first decompressed bytes (binary sniff), and for a compressed file a full
   decompression, so a corrupt archive, or one that inflates past ``ingest.max_inflation_ratio``
   times its size (a decompression bomb: the scan stops there), is found before any task reads
   it. Constant memory.
2. :func:`read_lines` reads it with Spark's text source split on LF only (``lineSep``), so each row
   is one line's exact bytes (a CR stays in it) with the file and the start of the byte range
   (``_metadata.file_block_start``) it came from. Spark cuts a plain or bzip2 file into ranges of
   ``spark.sql.files.maxPartitionBytes``, one task each; a gzip file is one streaming task.
3. :func:`plan` sums the bytes of each range's lines (one aggregation, no Python): a line's byte
   offset is the bytes of the ranges before its own plus those of the lines before it in its
   range. Offsets, hence stable ids, do not depend on how the file was cut. The same pass says
   whether every line is UTF-8; a file that is not, and whose encoding is ``auto``, has its lines
   tried as GB18030 in one more pass, as :func:`~reviewlake.lake.ingest_parse.detect_encoding` does
   for a whole file. A CSV file's header comes from its first bytes (:func:`scan`).
4. :func:`parse` runs :meth:`~reviewlake.lake.ingest_parse.FileParser.parse_lines` over each range's
   lines in the task that read them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from py4j.protocol import Py4JJavaError
from pyspark import RDD
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from reviewlake.core.storage import hadoop_fs
from reviewlake.lake.ingest_parse import (
    BOM,
    INFLATED_TOO_LARGE,
    RECORD_FIELDS,
    FileParser,
    ReadOptions,
    detect_encoding,
    line_name,
    looks_binary,
    split_format,
)

SNIFF_BYTES = 8192


@dataclass(frozen=True)
class Scan:
    """What :func:`scan` learnt of one file: its sha-256 (None: gone since listing), its first
    decompressed bytes, and why it cannot be read (``refused``: ``corrupt_archive``, it does not
    decompress, or ``inflated_too_large``, it inflates past the caps; then ``head`` holds its
    first stored bytes)."""

    content_hash: str | None
    head: bytes
    refused: str | None = None

    def unreadable(self) -> str | None:
        """The quarantine reason of a line file that is not parsed, else None: one that does not
        decompress or inflates past the caps, or one that looks binary."""
        if self.refused:
            return self.refused
        return "binary_file" if looks_binary(self.head[:SNIFF_BYTES]) else None


def scan(spark: SparkSession, uri: str, head_bytes: int, limit: int | None = None) -> Scan:
    """Stream ``uri`` once through the driver's JVM (Hadoop FileSystem and codec, so any URI
    scheme): sha-256 of the stored bytes, the first ``head_bytes`` decompressed bytes, and for a
    compressed file every decompressed byte read, so corruption shows here and not in a task, up
    to ``limit`` (None: no limit): one that inflates past it is refused as ``inflated_too_large``
    after reading ``limit`` bytes. Constant memory."""
    jvm = spark.sparkContext._jvm
    io_utils = jvm.org.apache.commons.io.IOUtils
    bounded = jvm.org.apache.commons.io.input.BoundedInputStream
    fs, path = hadoop_fs(spark, uri)
    codec = jvm.org.apache.hadoop.io.compress.CompressionCodecFactory(
        spark.sparkContext._jsc.hadoopConfiguration()
    ).getCodec(path)
    digest = jvm.java.security.MessageDigest.getInstance("SHA-256")
    try:
        stored = jvm.java.security.DigestInputStream(fs.open(path), digest)
    except Py4JJavaError as exc:
        if "FileNotFoundException" in str(exc.java_exception):
            return Scan(None, b"")
        raise
    try:
        refused = None
        try:
            stream = codec.createInputStream(stored) if codec is not None else stored
            head = bytes(io_utils.toByteArray(bounded(stream, head_bytes)))
            # decompress the rest: a corrupt archive fails here, a bomb stops one byte past the limit
            capped = codec is not None and limit is not None
            rest = io_utils.consume(bounded(stream, max(0, limit + 1 - len(head))) if capped else stream)
            if capped and len(head) + rest > limit:
                refused = INFLATED_TOO_LARGE
        except Py4JJavaError as exc:
            if codec is None or "java.io.IOException" not in _causes(exc):
                raise
            refused = "corrupt_archive"
        io_utils.consume(stored)  # bytes after the last compressed member (or not decompressed)
        if refused:
            return Scan(bytes(digest.digest()).hex(), _stored_head(spark, uri, head_bytes), refused)
        return Scan(bytes(digest.digest()).hex(), head)
    finally:
        stored.close()


def _causes(exc: Py4JJavaError) -> str:
    """The Java exception's class names, itself and its superclasses (EOFException is an IOException)."""
    names, cls = [], exc.java_exception.getClass()
    while cls is not None:
        names.append(cls.getName())
        cls = cls.getSuperclass()
    return " ".join(names)


def _stored_head(spark: SparkSession, uri: str, head_bytes: int) -> bytes:
    jvm = spark.sparkContext._jvm
    fs, path = hadoop_fs(spark, uri)
    stream = fs.open(path)
    try:
        return bytes(
            jvm.org.apache.commons.io.IOUtils.toByteArray(
                jvm.org.apache.commons.io.input.BoundedInputStream(stream, head_bytes)
            )
        )
    finally:
        stream.close()


def read_lines(spark: SparkSession, uris: Sequence[str]) -> DataFrame:
    """Every line of the files: ``path`` (as Spark's file source writes it), ``split_start`` (the
    first byte of the range the line was read in) and ``value`` (the line's bytes without its LF,
    as a string column that keeps them as they are, valid UTF-8 or not)."""
    return (
        spark.read.option("lineSep", "\n")
        .text(list(uris))
        .select(
            F.col("_metadata.file_path").alias("path"),
            F.col("_metadata.file_block_start").alias("split_start"),
            "value",
        )
    )


@dataclass(frozen=True)
class LinePlan:
    """Per file (by Spark's path): its landing URI, format, encoding and CSV header (or None); per
    byte range (Spark path, split start): the byte offset of its first line; the files that start
    with a UTF-8 BOM (Spark's first line lacks it)."""

    files: dict[str, tuple[str, str, str, tuple[int, list[str]] | None]]
    bases: dict[tuple[str, int], int]
    boms: frozenset[str] = frozenset()


def plan(
    spark: SparkSession, lines: DataFrame, uris: Sequence[str], options: ReadOptions, heads: Mapping[str, bytes]
) -> LinePlan:
    """The offsets, encodings and CSV headers (from each file's first bytes, ``heads``) :func:`parse`
    needs: one aggregation over the lines (a row per byte range, collected: a few per GiB), and a
    GB18030 check of the lines of non-UTF-8 files when the encoding is ``auto``."""
    ranges = (
        lines.groupBy("path", "split_start")
        .agg(
            F.sum(F.octet_length("value") + 1).alias("bytes"),
            F.bool_and(F.is_valid_utf8("value")).alias("utf8"),
        )
        .collect()
    )
    landing = {_as_listed(spark, r["path"]): r["path"] for r in ranges}
    by_uri = {landing.get(u, u): u for u in uris}
    # Hadoop's line reader drops a UTF-8 BOM at the start of a file: its 3 bytes count all the same
    boms = frozenset(p for p, u in by_uri.items() if heads.get(u, b"").startswith(BOM))
    bases: dict[tuple[str, int], int] = {}
    utf8: dict[str, bool] = {}
    for path, group in itertools.groupby(
        sorted(ranges, key=lambda r: (r["path"], r["split_start"])), key=lambda r: r["path"]
    ):
        offset = len(BOM) if path in boms else 0
        for r in group:
            bases[(path, r["split_start"])] = 0 if r["split_start"] == 0 else offset
            offset += r["bytes"]
            utf8[path] = utf8.get(path, True) and r["utf8"]
    configured = options.ingest.encoding
    if configured and configured != "auto":
        encodings = {p: detect_encoding(b"", configured) for p in utf8}
    else:
        gbk = _decodes(lines.where(F.col("path").isin([p for p, ok in utf8.items() if not ok])), "gb18030")
        encodings = {p: "utf-8" if ok or not gbk.get(p, False) else "gb18030" for p, ok in utf8.items()}
    parser, files = FileParser(options), {}
    for p in utf8:
        uri = by_uri[p]
        fmt = split_format(uri, options)
        header = parser.csv_header(line_name(uri), heads.get(uri, b""), encodings[p]) if fmt == "csv" else None
        files[p] = (uri, fmt, encodings[p], header)
    return LinePlan(files, bases, boms)


def _as_listed(spark: SparkSession, path: str) -> str:
    """Spark's file source path (a URI, percent-encoded) as Hadoop lists it (``file:/a b/c``)."""
    jvm = spark.sparkContext._jvm
    return jvm.org.apache.hadoop.fs.Path(jvm.java.net.URI(path)).toString()


def _decodes(lines: DataFrame, encoding: str) -> dict[str, bool]:
    """path -> whether every line of the file decodes in ``encoding`` (a line is valid alone iff
    it is inside the file: neither UTF-8 nor GB18030 has LF inside a character)."""

    def check(rows: Iterable) -> Iterable[tuple[str, bool]]:
        seen: dict[str, bool] = {}
        for path, value in rows:
            if seen.get(path, True):
                try:
                    bytes(value).decode(encoding)
                    seen[path] = True
                except UnicodeDecodeError:
                    seen[path] = False
        return seen.items()

    pairs = lines.select("path", F.col("value").cast("binary")).rdd.mapPartitions(check)
    return dict(pairs.reduceByKey(lambda a, b: a and b).collect())


def parse(lines: DataFrame, line_plan: LinePlan, options: ReadOptions) -> RDD:
    """The records of every line as tuples in :data:`RECORD_FIELDS` order, each byte range parsed
    in the task that read it."""
    opts, files, bases, boms = options, line_plan.files, line_plan.bases, line_plan.boms

    def parse_partition(rows):
        parser = FileParser(opts)
        for (path, start), group in itertools.groupby(rows, key=lambda r: (r[0], r[1])):
            uri, fmt, encoding, header = files[path]
            lines = _offsets(bases[(path, start)], group, bom=start == 0 and path in boms)
            for record in parser.parse_lines(uri, line_name(uri), fmt, encoding, lines, header):
                yield tuple(record[f] for f in RECORD_FIELDS)

    return lines.select("path", "split_start", F.col("value").cast("binary")).rdd.mapPartitions(parse_partition)


def _offsets(base: int, rows: Iterable, bom: bool = False) -> Iterable[tuple[int, bytes]]:
    """(byte offset, line) of a range's lines from ``base``; ``bom``: the file's first line, as
    the file holds it, starts with the BOM Spark dropped."""
    offset = base
    for row in rows:
        line = (BOM if bom else b"") + bytes(row[2])
        bom = False
        yield offset, line
        offset += len(line) + 1
