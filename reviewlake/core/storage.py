"""Hadoop FileSystem access through a running SparkSession: one place for the py4j calls, so any
URI scheme Hadoop knows (``file:``, ``hdfs:``, ``s3a:``) works the same way."""

from __future__ import annotations

from typing import Any


def hadoop_fs(spark: Any, uri: str) -> tuple[Any, Any]:
    """(the Hadoop ``FileSystem`` of ``uri``, its ``Path``)."""
    path = spark.sparkContext._jvm.org.apache.hadoop.fs.Path(uri)
    return path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), path


def delete(spark: Any, uri: str) -> None:
    """Recursively delete ``uri`` if it exists."""
    fs, path = hadoop_fs(spark, uri)
    if fs.exists(path):
        fs.delete(path, True)
