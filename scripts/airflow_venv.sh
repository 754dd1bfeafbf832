#!/usr/bin/env bash
# .venv-airflow: Apache Airflow and its Spark provider in a virtualenv of their own (Airflow 3.3
# needs protobuf >= 5, TensorFlow 2.15 in .venv needs < 5), for deploy/airflow and its test
# (tests/system/airflow). Pins: deploy/airflow/requirements.txt, constraints-airflow.txt.
# Idempotent: skipped while the pins are unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
VENV=$(pwd)/.venv-airflow
stamp=$VENV/.reviewlake-deps
want=$(cat deploy/airflow/requirements.txt constraints-airflow.txt | sha256sum | cut -c1-16)
[ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && exit 0
echo "[airflow-venv] installing Airflow into $VENV (first time: a few minutes)"
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade "pip==24.3.1"
"$VENV/bin/pip" install -q -c constraints-airflow.txt -r deploy/airflow/requirements.txt
echo "$want" > "$stamp"
