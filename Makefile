# reviewlake — every target installs what it needs first (`setup` is idempotent and fast when done).
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := $(CURDIR)/.venv
export PATH := $(VENV)/bin:$(PATH)
export PYSPARK_PYTHON := $(VENV)/bin/python
export PYSPARK_DRIVER_PYTHON := $(VENV)/bin/python
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONUNBUFFERED := 1

INPUT ?= data/landing
LAKEHOUSE ?= lakehouse
CONFIG ?=
CONF ?=
MODEL ?= latest
SUBMIT := spark-submit --driver-memory 6g
JOB_ARGS := --lakehouse $(LAKEHOUSE) $(if $(CONFIG),--config $(CONFIG)) $(foreach c,$(CONF),--conf $(c))
PYTEST_ARGS ?=

.PHONY: help setup lint demo clean-reviews features label-issues train score nightly maintain history rollback test test-system test-slow airflow-venv s3-jars bench bench-ingest bench-clean-cost bench-ingest-big bench-near-dup bench-incremental bench-scale bench-stages bench-tuning bench-seg bench-train bench-ceiling bench-champion bench-label-flips bench-label-drop bench-label-drop-flipped dist lock clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

setup:  ## virtualenv + pinned stack + horovod + Delta jars + bundled corpus (idempotent)
	@bash scripts/setup.sh

demo: setup  ## setup, then the whole flow on the bundled corpus in one driver: silver -> gold -> train -> score
	$(SUBMIT) pipelines/run_all.py --train --input $(INPUT) --model-version latest $(JOB_ARGS)
	@$(VENV)/bin/python scripts/where.py $(JOB_ARGS)

clean-reviews: setup  ## ingest + clean + dedupe + segment -> bronze/silver (INPUT=..., LAKEHOUSE=...)
	$(SUBMIT) pipelines/clean_reviews.py --input $(INPUT) $(JOB_ARGS)

features: setup  ## silver -> gold.vocab / gold.labels / gold.features
	$(SUBMIT) pipelines/build_features.py $(JOB_ARGS)

label-issues: setup  ## likely mislabelled reviews (cross-validated char n-gram model + cleanlab) -> gold.label_issues
	$(SUBMIT) pipelines/label_issues.py $(JOB_ARGS)

train: setup  ## Horovod-on-Spark training, evaluation and SavedModel export -> models/<version>/
	$(SUBMIT) pipelines/train_model.py $(JOB_ARGS)

score: setup  ## batch scoring of silver rows -> gold.predictions (MODEL=<version>|latest)
	$(SUBMIT) pipelines/score_reviews.py --model-version $(MODEL) $(JOB_ARGS)

TRAIN ?=
ISOLATED ?=
nightly: setup  ## the chain clean-reviews -> features -> [train: TRAIN=1] -> score in one driver (ISOLATED=1: a spark-submit per step); stops at the first failure
	$(SUBMIT) pipelines/run_all.py --input $(INPUT) --model-version $(MODEL) --spark-submit "$(SUBMIT)" \
	  $(JOB_ARGS) $(if $(filter 1 true yes,$(TRAIN)),--train,$(if $(TRAIN),--no-train)) \
	  $(if $(filter 1 true yes,$(ISOLATED)),--isolated,$(if $(ISOLATED),--no-isolated))

TABLE ?=
VERSION ?=
maintain: setup  ## OPTIMIZE (compaction, Z-order) + VACUUM of every Delta table (or TABLE=layer/name)
	$(SUBMIT) pipelines/maintain.py $(if $(TABLE),--table $(TABLE)) $(JOB_ARGS)

history: setup  ## history of TABLE=layer/name (DESCRIBE HISTORY); without TABLE: every table's version
	$(SUBMIT) pipelines/history.py $(if $(TABLE),--table $(TABLE)) $(JOB_ARGS)

rollback: setup  ## RESTORE TABLE=layer/name to VERSION=n (prints its history first)
	@[ -n "$(TABLE)" ] && [ -n "$(VERSION)" ] || { echo "usage: make rollback TABLE=silver/reviews VERSION=n" >&2; exit 2; }
	$(SUBMIT) pipelines/rollback.py --table $(TABLE) --version $(VERSION) $(JOB_ARGS)

lint: setup  ## ruff: the linter (rules in pyproject.toml) and the formatter's check; run by make test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: setup lint  ## lint, then unit + in-process Spark tests (the shared session only): ~7.5 min on 2 cores
	$(VENV)/bin/python -m pytest -m "not system and not slow" --ignore=tests/system/airflow $(PYTEST_ARGS)

AIRFLOW_VENV := $(CURDIR)/.venv-airflow
test-system: setup airflow-venv s3-jars  ## extra JVMs/processes or many job runs: cluster, HDFS, S3 (moto), SIGKILL, incremental, Horovod, end-to-end, notebooks, wheel, Airflow DAG loaded and run: ~50 min
	$(VENV)/bin/python -m pytest -m "system and not slow" --timeout=1800 --ignore=tests/system/airflow $(PYTEST_ARGS)
	$(AIRFLOW_VENV)/bin/python -m pytest tests/system/airflow $(PYTEST_ARGS)

test-slow: setup  ## only the slow tests (full corpus)
	$(VENV)/bin/python -m pytest -m slow --timeout=3600 $(PYTEST_ARGS)

s3-jars:  ## jars/s3/: hadoop-aws 3.4.1 + the AWS SDK v2 bundle (~560 MB) for s3a:// lakehouses (docs/cluster.md); test-system runs it
	@bash scripts/s3_jars.sh

airflow-venv:  ## .venv-airflow: Airflow + its Spark provider, a virtualenv of its own (protobuf clashes with TensorFlow's)
	@bash scripts/airflow_venv.sh

BENCH_FACTOR ?= 10
NEAR_DUP_FACTORS ?= 1 10 100
NEAR_DUP_ARGS ?=
STAGE_FACTORS ?= 1 10
bench: bench-ingest bench-clean-cost bench-ingest-big bench-near-dup bench-incremental bench-scale bench-stages bench-tuning bench-seg bench-train bench-ceiling bench-champion bench-label-flips bench-label-drop bench-label-drop-flipped  ## every benchmark (hours; not tests): JSON under bench/results/

bench-ingest: setup  ## ingest+clean: Spark against one pandas process, corpus x BENCH_FACTOR
	$(VENV)/bin/python -m bench.speed.ingest_clean --factor $(BENCH_FACTOR)

bench-clean-cost: setup  ## what issue #32's junk rules and soft-signal scores add to the clean stage's rules, corpus x BENCH_FACTOR (~10 min at 10)
	$(VENV)/bin/python -m bench.speed.clean_cost --factor $(BENCH_FACTOR)

bench-ingest-big: setup  ## ingest of one GIB GiB JSON Lines file against the same lines in 300 files (~15 min at 3 on 2 cores)
	$(VENV)/bin/python -m bench.speed.ingest_big --gib $(or $(GIB),3) --files 300

bench-near-dup: setup  ## near-duplicate quality (exact ground truth) and speed against Spark ML MinHashLSH
	$(VENV)/bin/python -m bench.quality.near_dup
	$(VENV)/bin/python -m bench.speed.near_dup --factors $(NEAR_DUP_FACTORS) $(NEAR_DUP_ARGS)

bench-incremental: setup  ## full run, +1% files, no-op rerun: exact copies (worst case) and distinct documents
	$(VENV)/bin/python -m bench.speed.incremental --factor $(BENCH_FACTOR) --no-verify
	$(VENV)/bin/python -m bench.speed.incremental --factor $(BENCH_FACTOR) --no-verify --near

SCALE_FACTORS ?= 10 100
SCALE_WORK ?= $(CURDIR)/.cache/bench-scale
bench-scale: setup  ## increments against lakehouse size: full, +1% and a fixed 3,471-review increment at SCALE_FACTORS (hours at 100x; REUSE=1 keeps the full runs)
	$(VENV)/bin/python -m bench.speed.scale --factors $(SCALE_FACTORS) --work $(SCALE_WORK) $(if $(REUSE),--reuse) $(SCALE_ARGS)

bench-stages: setup  ## whole job and stages at STAGE_FACTORS (add 100 for the growth figure), segmenter limit, plot
	$(VENV)/bin/python -m bench.speed.stages --factors $(STAGE_FACTORS)

bench-tuning: setup  ## Arrow batch size and partition count for the clean and segment UDFs, interleaved repeats
	$(VENV)/bin/python -m bench.speed.udf_tuning

bench-seg: setup  ## segmentation quality against People's Daily gold, each backend and setting
	$(VENV)/bin/python -m bench.quality.segmentation

bench-train: clean-reviews features  ## Horovod training with 1 and 2 processes: samples/s and test accuracy
	$(VENV)/bin/python -m bench.speed.train --lakehouse lakehouse --procs 1 2

bench-ceiling: clean-reviews features  ## strong linear classifiers on the pipeline's split, and what a leaky random split reports
	$(VENV)/bin/python -m bench.quality.model_ceiling --lakehouse lakehouse

bench-champion: clean-reviews features  ## the training job's candidates and champion, one run per seed (7 and 8)
	$(VENV)/bin/python -m bench.quality.champion --lakehouse lakehouse --seeds 7 8

bench-label-flips: clean-reviews features  ## label issues found among 6% labels flipped on purpose (seeds 1 2 3): recall, queue share
	$(VENV)/bin/python -m bench.quality.label_flips --lakehouse lakehouse --seeds 1 2 3

bench-label-drop: clean-reviews features label-issues  ## train.label_issues keep against drop: both champions on the full validation split and test
	$(VENV)/bin/python -m bench.quality.label_drop --lakehouse lakehouse --models-dir $(CURDIR)/models/bench-label-drop

bench-label-drop-flipped: clean-reviews features  ## keep against drop with 6% of train/validation labels flipped (seeds 1 2 3; test as sampled)
	for seed in 1 2 3; do $(VENV)/bin/python -m bench.quality.label_drop --lakehouse lakehouse --flip-seed $$seed \
	  --models-dir $(CURDIR)/models/bench-label-drop-flip$$seed || exit 1; done

dist: setup  ## dist/reviewlake.zip: the packages for spark-submit --py-files on a cluster (docs/cluster.md)
	$(VENV)/bin/python scripts/make_dist.py dist/reviewlake.zip

LOCK_VENV := $(CURDIR)/.cache/lock-venv
lock:  ## regenerate constraints.txt and constraints-airflow.txt from a clean resolve (new venv, no pip cache)
	rm -rf $(LOCK_VENV) && python3.11 -m venv $(LOCK_VENV)
	PIP_NO_CACHE_DIR=1 $(LOCK_VENV)/bin/pip install -q "pip==24.3.1" wheel "setuptools<70"
	PIP_NO_CACHE_DIR=1 $(LOCK_VENV)/bin/pip install -q --dry-run --ignore-installed --report $(LOCK_VENV)/report.json ".[dev,bench]"
	$(LOCK_VENV)/bin/python scripts/lock_constraints.py $(LOCK_VENV)/report.json constraints.txt
	PIP_NO_CACHE_DIR=1 $(LOCK_VENV)/bin/pip install -q --dry-run --ignore-installed --report $(LOCK_VENV)/airflow.json -r deploy/airflow/requirements.txt
	$(LOCK_VENV)/bin/python scripts/lock_constraints.py $(LOCK_VENV)/airflow.json constraints-airflow.txt
	rm -rf $(LOCK_VENV)

clean:  ## remove run outputs (tables, models, reports); keeps .venv, jars and data
	rm -rf lakehouse models reports spark-warehouse metastore_db derby.log
