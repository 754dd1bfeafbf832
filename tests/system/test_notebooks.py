"""Both notebooks run top to bottom (nbclient, a kernel process with its own Spark session) on the
session's trained reference lakehouse, without an error cell."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def execute_notebook(name: str, env: dict[str, str]) -> None:
    import nbformat
    from nbclient import NotebookClient

    os.environ.update(env)
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors


@pytest.mark.parametrize("name", ["explore_corpus.ipynb", "model_report.ipynb"])
def test_notebook_runs_on_the_trained_lakehouse(trained_lake, name):
    execute_notebook(
        name,
        {
            "REVIEWLAKE_LAKEHOUSE": str(trained_lake.root / "lakehouse"),
            "REVIEWLAKE_MODELS": str(trained_lake.root / "models"),
        },
    )
