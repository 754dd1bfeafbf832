"""The one SparkSession factory: local[*] by default, Delta from local jars, same code on a cluster.

* Master: whatever ``spark-submit --master`` set; otherwise ``spark.master`` from config
  (default ``local[*]``).
* Delta: the two jars fetched by ``make setup`` into ``spark.jars_dir`` are put on the classpath
  (``spark.jars``), so no run resolves anything from the network. ``make setup`` also writes them
  into pyspark's ``conf/spark-defaults.conf`` so that a plain ``spark-submit`` of an entry script
  loads them into the driver JVM before Python starts.
* GPU executors: ``spark.gpu.enabled`` adds Spark resource-scheduling settings (see docs/cluster.md).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from pyspark import SparkConf
from pyspark.sql import SparkSession

from reviewlake.core.settings import Settings
from reviewlake.core.uris import local_path, to_uri

log = logging.getLogger(__name__)

DELTA_JARS = ("delta-spark_2.13-4.0.1.jar", "delta-storage-4.0.1.jar")


def delta_jar_paths(cfg: Settings) -> list[Path]:
    """Absolute paths of the Delta jars; a clear error when `make setup` has not fetched them."""
    jars_dir = local_path(to_uri(cfg.spark.jars_dir))
    paths = [jars_dir / name for name in DELTA_JARS]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"Delta jars missing ({', '.join(missing)}): run `make setup`")
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
    """Every Spark setting reviewlake adds on top of spark-submit's/spark-defaults'."""
    conf = {
        "spark.app.name": cfg.spark.app_name,
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.ui.showConsoleProgress": "true",
    }
    for key, value in (cfg.spark.conf or {}).items():
        conf[key] = str(value).lower() if isinstance(value, bool) else str(value)
    conf.update(gpu_conf(cfg))
    return conf


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
        local_jars = ",".join(str(p) for p in delta_jar_paths(cfg))
        builder = builder.config("spark.jars", ",".join(filter(None, [jars, local_jars])))
    for key, value in build_conf(cfg).items():
        builder = builder.config(key, value)
    # Python workers must run the interpreter that has our dependencies.
    os.environ.setdefault("PYSPARK_PYTHON", os.environ.get("PYSPARK_DRIVER_PYTHON", "") or _python())
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(cfg.spark.log_level)
    log.info("spark %s master=%s", spark.version, spark.sparkContext.master)
    return spark


def _python() -> str:
    import sys

    return sys.executable
