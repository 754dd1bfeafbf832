"""The one SparkSession factory: local[*] by default, Delta from local jars, same code on a cluster.

* Master: whatever ``spark-submit --master`` set; otherwise ``spark.master`` from config
  (default ``local[*]``).
* Delta: the two jars fetched by ``make setup`` into ``spark.jars_dir`` are put on the classpath
  (``spark.jars``), so no run resolves anything from the network. ``make setup`` also writes them
  into pyspark's ``conf/spark-defaults.conf`` so that a plain ``spark-submit`` of an entry script
  loads them into the driver JVM before Python starts.
* Lineage: with ``lineage.transport`` other than ``off``, the OpenLineage jar (fetched by ``make
  setup`` into the same folder, and written into spark-submit's defaults with the Delta jars) joins
  the classpath and its listener the session (:mod:`reviewlake.core.lineage`).
* Console output: Spark's progress bars only when stderr is a terminal; otherwise none (no carriage
  returns in a log), and the run report's stage lines say how far a run is.
* GPU executors: ``spark.gpu.enabled`` adds Spark resource-scheduling settings (see docs/cluster.md).
"""

from __future__ import annotations

import logging
import math
import os
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from pyspark import SparkConf
from pyspark.sql import DataFrame, SparkSession
from pyspark.storagelevel import StorageLevel

from reviewlake.core import lineage
from reviewlake.core.settings import Settings
from reviewlake.core.uris import local_path, to_uri
from reviewlake.errors import ConfigError

log = logging.getLogger(__name__)

# How every DataFrame the jobs hold (persist, local checkpoint) is kept: Spark's own default for
# DataFrames. Not PySpark's StorageLevel.MEMORY_AND_DISK, which is the *serialized* level: the JVM
# keeps such a block as 1 MiB byte arrays, and with G1's 1 MiB regions (a 1 GiB heap) each array
# occupies two regions, so the heap held twice what Spark's storage accounting counted. Measured:
# at 10x with the default 1 GiB driver, dedupe died with 322 MiB of held blocks in 346 such
# arrays (a heap dump; docs/operations.md#memory).
HELD = StorageLevel.MEMORY_AND_DISK_DESER


def held_and_counted(df: DataFrame) -> DataFrame:
    """``df`` held (:data:`HELD`) and computed, by one count. Spark plans a join with a computed
    held frame on its real size in bytes, so the join is a broadcast when that size is under
    ``spark.sql.autoBroadcastJoinThreshold``; planned on the optimizer's estimate (a filter of a
    large table keeps the table's size) it may be a sort-merge join that shuffles the other side
    whole, the large one."""
    df.persist(HELD).count()
    return df


@contextmanager
def sized(df: DataFrame) -> Iterator[DataFrame]:
    """``df`` held and counted (:func:`held_and_counted`) for the block, so that the joins planned
    in it are planned on its real size; released when the block ends."""
    held = held_and_counted(df)
    try:
        yield held
    finally:
        held.unpersist()


SHUFFLE_PARTITIONS = "spark.sql.shuffle.partitions"


def size_shuffles(spark: SparkSession, rows: int, rows_per_partition: int) -> int:
    """Give the session's shuffles one partition per ``rows_per_partition`` of ``rows``, never fewer
    than they have now (``spark.sql.shuffle.partitions``); returns the number set. A fixed count
    makes a task's share grow with the corpus; adaptive execution's merging of many small
    partitions does not reach frames the job holds (docs/operations.md#memory)."""
    partitions = max(int(spark.conf.get(SHUFFLE_PARTITIONS)), math.ceil(rows / rows_per_partition))
    spark.conf.set(SHUFFLE_PARTITIONS, str(partitions))
    return partitions


def spread(df: DataFrame, rows: int, rows_per_partition: int) -> DataFrame:
    """``df`` (at most ``rows`` rows) dealt round-robin into partitions of about
    ``rows_per_partition`` rows, a multiple of the cores (the context's default parallelism), one
    per core at least, for a step whose cost goes by rows, not bytes (segmentation). A repartition
    to a given number, which adaptive execution does not merge by bytes
    (docs/operations.md#memory)."""
    cores = df.sparkSession.sparkContext.defaultParallelism
    return df.repartition(cores * max(1, math.ceil(rows / (rows_per_partition * cores))))


def shuffle_partitions_restored(spark: SparkSession) -> AbstractContextManager[None]:
    """Put ``spark.sql.shuffle.partitions`` back as it was when the block ends (a chain of jobs
    shares one session)."""
    return session_conf(spark, {SHUFFLE_PARTITIONS: spark.conf.get(SHUFFLE_PARTITIONS)})


@contextmanager
def session_conf(spark: SparkSession, values: dict[str, str]) -> Iterator[None]:
    """Set these session settings inside the block, and put back (or unset) what was there."""
    before = {key: spark.conf.get(key, None) for key in values}
    for key, value in values.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)


DELTA_JARS = ("delta-spark_2.13-4.0.1.jar", "delta-storage-4.0.1.jar")
DELTA_CLASS = "io.delta.tables.DeltaTable"


def delta_jar_paths(cfg: Settings) -> list[Path]:
    """Absolute paths of the Delta jars; a clear error when `make setup` has not fetched them."""
    return _jars(cfg, DELTA_JARS)


def lineage_jar_path(cfg: Settings) -> Path:
    """The OpenLineage listener's jar; an error when `make setup` has not fetched it."""
    return _jars(cfg, [lineage.JAR])[0]


def _jars(cfg: Settings, names: list[str] | tuple[str, ...]) -> list[Path]:
    jars_dir = local_path(to_uri(cfg.spark.jars_dir))
    paths = [jars_dir / name for name in names]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"jars missing ({', '.join(missing)}): run `make setup`")
    return paths


def gpu_conf(cfg: Settings) -> dict[str, str]:
    """Spark resource-scheduling settings for GPU executors (empty when switched off)."""
    if not cfg.spark.gpu.enabled:
        return {}
    script = local_path(to_uri(cfg.spark.gpu.discovery_script))
    return {
        "spark.executor.resource.gpu.amount": f"{cfg.spark.gpu.amount_per_executor}",
        "spark.task.resource.gpu.amount": f"{cfg.spark.gpu.amount_per_task:g}",  # a fraction shares a GPU
        "spark.executor.resource.gpu.discoveryScript": str(script),
        "spark.worker.resource.gpu.discoveryScript": str(script),
    }


def build_conf(cfg: Settings) -> dict[str, str]:
    """Every Spark setting reviewlake adds on top of spark-submit's/spark-defaults'. Progress bars
    redraw one line with carriage returns: only on a terminal (``spark.conf`` may still set them)."""
    conf = {
        "spark.app.name": cfg.spark.app_name,
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.ui.showConsoleProgress": str(_stderr_is_terminal()).lower(),
    }
    listeners = lineage.spark_conf(cfg)
    for key, value in (cfg.spark.conf or {}).items():
        conf[key] = str(value).lower() if isinstance(value, bool) else str(value)
    if "spark.extraListeners" in listeners and conf.get("spark.extraListeners"):
        listeners["spark.extraListeners"] += "," + conf.pop("spark.extraListeners")
    conf.update(listeners)
    conf.update(gpu_conf(cfg))
    return conf


def _stderr_is_terminal() -> bool:
    return bool(getattr(sys.stderr, "isatty", None)) and sys.stderr.isatty()


def get_spark(cfg: Settings) -> SparkSession:
    """Get (or create) the session for this process, configured from ``cfg``."""
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    if os.environ.get("PYSPARK_GATEWAY_PORT"):
        # Launched by spark-submit: the JVM already runs; read its settings (--master, --jars).
        from pyspark import SparkContext

        SparkContext._ensure_initialized()
    submitted = SparkConf()
    builder = SparkSession.builder
    if not submitted.contains("spark.master"):
        builder = builder.master(cfg.spark.master)
    jars = submitted.get("spark.jars", "") or ""
    if "delta-spark" not in jars:
        _require_delta_on_submitted_classpath(cfg)
        jars = ",".join(filter(None, [jars, *(str(p) for p in delta_jar_paths(cfg))]))
        builder = builder.config("spark.jars", jars)
    if lineage.JAR not in jars:
        builder = _lineage_jar(cfg, builder, jars)
    for key, value in build_conf(cfg).items():
        builder = builder.config(key, value)
    # Python workers must run the interpreter that has our dependencies.
    os.environ.setdefault("PYSPARK_PYTHON", os.environ.get("PYSPARK_DRIVER_PYTHON", "") or _python())
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(cfg.spark.log_level)
    log.info("spark %s master=%s", spark.version, spark.sparkContext.master)
    return spark


def _require_delta_on_submitted_classpath(cfg: Settings) -> None:
    """Under spark-submit the driver's classpath is fixed before Python runs, and a ``--jars`` on
    the command line replaces the ``spark.jars`` of spark-submit's defaults (where `make setup`
    put Delta): without Delta there every table access would fail with a bare Py4J error."""
    if not os.environ.get("PYSPARK_GATEWAY_PORT"):
        return
    from pyspark import SparkContext

    if not SparkContext._jvm.org.apache.spark.util.Utils.classIsLoadable(DELTA_CLASS):
        listed = ",".join(str(p) for p in delta_jar_paths(cfg))
        raise ConfigError(
            f"the Delta jars are not on the driver's classpath: a --jars option replaces the spark.jars that "
            f"`make setup` wrote into spark-submit's defaults; list them in it too: --jars {listed},<yours>"
        )


def _lineage_jar(cfg: Settings, builder: SparkSession.Builder, jars: str) -> SparkSession.Builder:
    """The listener's jar in ``spark.jars`` when lineage is on: the classloader of Delta's jars,
    where the listener looks for Delta's MERGE command. Under spark-submit the driver's classpath
    was fixed before Python ran (`make setup` writes the jar into its defaults): a listener missing
    from it would fail the session's start with a bare ClassNotFoundException."""
    if cfg.lineage.transport == "off":
        return builder
    jar = lineage_jar_path(cfg)
    if not os.environ.get("PYSPARK_GATEWAY_PORT"):  # this process starts the JVM
        return builder.config("spark.jars", ",".join(filter(None, [jars, str(jar)])))
    from pyspark import SparkContext

    if not SparkContext._jvm.org.apache.spark.util.Utils.classIsLoadable(lineage.LISTENER):
        raise ConfigError(
            f"lineage.transport is {cfg.lineage.transport} but the OpenLineage listener is not on the driver's "
            f"classpath: run `make setup` (it adds {lineage.JAR} to the defaults of .venv's spark-submit), pass "
            f"--jars {jar}, or set --conf lineage.transport=off"
        )
    return builder


def _python() -> str:
    import sys

    return sys.executable
