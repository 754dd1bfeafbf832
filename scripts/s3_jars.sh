#!/usr/bin/env bash
# jars/s3/: what Spark needs to read and write s3a:// URIs, fetched once from Maven Central:
# hadoop-aws 3.4.1 (the Hadoop version pyspark 4.0.1 ships) and the AWS SDK v2 bundle its POM names
# (2.24.6, ~560 MB; the SDK's single modules of that version are not all on Maven Central).
# Not on spark-submit's defaults: a run on S3 passes them with --jars (docs/cluster.md). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p jars/s3
for art in org.apache.hadoop:hadoop-aws:3.4.1 software.amazon.awssdk:bundle:2.24.6; do
  a=${art#*:}
  jar="jars/s3/${a%%:*}-${a##*:}.jar"
  if [ ! -s "$jar" ]; then
    echo "[s3-jars] fetching $art"
    mvn -q dependency:copy -Dartifact="$art" -DoutputDirectory="$(pwd)/jars/s3"
  fi
done
