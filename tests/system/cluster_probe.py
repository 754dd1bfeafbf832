"""Submitted to the test cluster (tests/system/test_standalone_cluster.py): where each
executor imports the project from, and which worker ran it. Prints one JSON line."""

import json
import os
import socket

from pyspark.sql import SparkSession


def where(_):
    import reviewlake

    return [(os.environ.get("SPARK_EXECUTOR_DIRS", ""), os.getcwd(), reviewlake.__file__, socket.gethostname())]


if __name__ == "__main__":
    spark = SparkSession.builder.appName("reviewlake-cluster-probe").getOrCreate()
    sc = spark.sparkContext
    seen = sc.parallelize(range(8), 8).mapPartitions(where).collect()
    print(
        "PROBE "
        + json.dumps(
            {
                "master": sc.master,
                "executors": sorted({s[1] for s in seen}),
                "package_from": sorted({s[2] for s in seen}),
            }
        )
    )
    spark.stop()
