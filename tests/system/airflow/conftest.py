"""Airflow reads its home and settings when first imported: a throwaway home, no example DAGs.
These tests run in the Airflow virtualenv (``make airflow-venv``, ``make test-system``)."""

import os
import tempfile

os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="airflow-home-")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
