"""The package's shape: imports run one way (errors/core <- text <- lake, features, quality, train
<- jobs <- the entry scripts), no module imports itself back through others, the entry scripts
are thin, and the serving path runs where pyspark cannot even be imported."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "reviewlake"
LAYERS = {"errors": 0, "core": 1, "text": 2, "lake": 3, "features": 3, "quality": 3, "train": 3, "jobs": 4}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every reviewlake module ``path`` imports, at module level or inside functions."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "reviewlake"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "reviewlake":
            for a in node.names:  # "from reviewlake.lake import clean" imports the module reviewlake.lake.clean
                sub = f"{node.module}.{a.name}"
                out.add(sub if (ROOT / Path(*sub.split("."))).with_suffix(".py").exists() else node.module)
    return out


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> tuple[str, int]:
    part = module.split(".")[1] if module.count(".") else "reviewlake"
    return part, LAYERS.get(part, -1)


def test_every_subpackage_has_a_layer():
    parts = {layer(m)[0] for m in graph()} - {"reviewlake"}
    assert parts <= set(LAYERS), f"subpackages without a layer: {sorted(parts - set(LAYERS))}"


def upward_imports(g: dict[str, set[str]]) -> list[str]:
    bad = []
    for module, deps in g.items():
        part, level = layer(module)
        for dep in deps:
            dep_part, dep_level = layer(dep)
            if dep_part != part and dep_level >= level:
                bad.append(f"{module} ({part}, layer {level}) imports {dep} ({dep_part}, layer {dep_level})")
    return sorted(bad)


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in g:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in g:
        if v not in index:
            visit(v)
    return out


def test_imports_run_one_way():
    assert upward_imports(graph()) == []


def test_no_import_cycles():
    assert cycles(graph()) == []


def test_the_checks_catch_what_they_should():
    g = {
        "reviewlake.core.a": {"reviewlake.jobs.b"},
        "reviewlake.jobs.b": {"reviewlake.core.a"},
        "reviewlake.lake.c": {"reviewlake.train.d"},
        "reviewlake.train.d": set(),
    }
    assert upward_imports(g) == [
        "reviewlake.core.a (core, layer 1) imports reviewlake.jobs.b (jobs, layer 4)",
        "reviewlake.lake.c (lake, layer 3) imports reviewlake.train.d (train, layer 3)",
    ]
    assert cycles(g) == [["reviewlake.core.a", "reviewlake.jobs.b"]]


@pytest.mark.parametrize("script", sorted((ROOT / "pipelines").glob("*.py")), ids=lambda p: p.name)
def test_entry_scripts_only_call_a_job(script):
    tree = ast.parse(script.read_text(encoding="utf-8"))
    imported = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert [m for m in imported if m != "__future__"] and all(m.startswith("reviewlake.jobs.") for m in imported)
    assert not [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))], (
        "logic belongs in reviewlake.jobs"
    )


BLOCK_PYSPARK = textwrap.dedent("""
    import sys

    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("pyspark", "py4j", "delta", "great_expectations"):
                raise ImportError(f"{name} is blocked in this test")

    sys.meta_path.insert(0, Block())
""")


def test_serving_path_imports_no_spark(tmp_path):
    """Raw text -> ids in a process where pyspark, py4j, delta and GX cannot be imported."""
    code = BLOCK_PYSPARK + textwrap.dedent("""
        from reviewlake.core.config import load_config
        from reviewlake.text.serving import TextToIds, preprocessing

        helper = TextToIds.from_preprocessing(preprocessing(load_config()), {"很": 2, "好": 3, "质量": 4}, max_len=6)
        print(helper("質量很好！！！"))
        assert not [m for m in sys.modules if m.split(".")[0] in ("pyspark", "py4j")]
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    ids = [int(x) for x in out.stdout.strip().strip("[]").split(",")]
    assert len(ids) == 6 and 4 in ids and set(ids) <= {0, 1, 2, 3, 4}


def test_a_linear_champion_serves_raw_text_without_spark(tmp_path):
    """The champion's scorer, from raw text to probabilities, in a process where pyspark, py4j,
    delta and GX cannot be imported (a linear champion in a folder without ``champion_model/``, served
    member by member: TensorFlow is not needed either); the inputs of a TF Serving request for the
    champion SavedModel are made without TensorFlow too."""
    import json

    import numpy as np

    from reviewlake.core.config import load_config
    from reviewlake.text.serving import TextToIds, preprocessing, vocab_lines
    from reviewlake.train import champion, linear

    model = linear.LinearTextModel(
        "char_1_4gram",
        ["好", "差", "好用"],
        np.array([0.5, 0.7, 1.2]),
        np.array([[-1.0, 2.0, -1.5], [1.0, -2.0, 1.5]]),
        np.array([0.1, -0.1]),
        3e-5,
    )
    (tmp_path / "params.json").write_text(json.dumps({"n_classes": 2, "max_len": 4}), encoding="utf-8")
    (tmp_path / "preprocessing.json").write_text(json.dumps(preprocessing(load_config())), encoding="utf-8")
    (tmp_path / "vocab.txt").write_text("\n".join(vocab_lines([("好", 2)])) + "\n", encoding="utf-8")
    champion.write(tmp_path, "char_1_4gram", {"char_1_4gram": 1.0}, {"char_1_4gram": model})
    code = BLOCK_PYSPARK + textwrap.dedent(f"""
        from reviewlake.train.champion import Scorer

        scorer = Scorer.from_model_dir({str(tmp_path)!r})
        request = scorer.serving_inputs_raw(["這個很好用！！！", "差"])
        assert sorted(request) == ["char_1_4gram_ids", "char_1_4gram_weights"], request
        print(scorer.predict_raw(["這個很好用！！！", "差"]).tolist())
        assert not [m for m in sys.modules if m.split(".")[0] in ("pyspark", "py4j", "tensorflow")]
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    got = np.array(json.loads(out.stdout.strip().splitlines()[-1]))
    clean = TextToIds.from_model_dir(tmp_path).clean
    assert np.allclose(got, model.probabilities([clean("這個很好用！！！"), clean("差")]), atol=1e-6)
    assert got[0, 1] > 0.5 > got[1, 1]


def test_the_blocker_blocks(tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", BLOCK_PYSPARK + "import pyspark"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert out.returncode != 0 and "blocked" in out.stderr


@pytest.mark.parametrize("notebook", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_notebooks_use_names_the_package_has(notebook):
    """The notebooks run in the system tier; this catches a renamed module or function at once: every
    ``from reviewlake... import x`` resolves, and every ``module.attr`` on an imported reviewlake
    module exists."""
    import importlib
    import importlib.util
    import json

    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    tree = ast.parse("\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code"))
    modules = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("reviewlake"):
            parent = importlib.import_module(node.module)
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                is_module = hasattr(parent, "__path__") and importlib.util.find_spec(sub) is not None
                value = importlib.import_module(sub) if is_module else getattr(parent, a.name)
                modules[a.asname or a.name] = value
    assert modules, "the notebook imports nothing from reviewlake"
    missing = [
        f"{n.value.id}.{n.attr}"
        for n in ast.walk(tree)
        if isinstance(n, ast.Attribute)
        and isinstance(n.value, ast.Name)
        and isinstance(modules.get(n.value.id), type(ast))
        and not hasattr(modules[n.value.id], n.attr)
    ]
    assert missing == []


MAX_FUNCTION_LINES = 60


def test_every_function_fits_on_a_screen():
    """No function or method in reviewlake/ is longer than 60 lines (docstring included)."""
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    assert long == []


def test_settings_are_read_as_typed_attributes():
    """Nothing in reviewlake/ reads the settings by dotted string (``cfg["a.b"]``)."""
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\bcfg\[|\bcfg\.get\(", line)
    ]
    assert found == []


def test_held_frames_use_the_one_deserialized_level():
    """PySpark's ``StorageLevel`` constants are the serialized levels (1 MiB byte arrays that take
    two G1 regions each in a small heap: docs/operations.md#memory); a held frame uses ``HELD``."""
    from reviewlake.core.spark import HELD

    spark_py = PACKAGE / "core" / "spark.py"
    offenders = [
        f"{p.relative_to(ROOT)}:{i}"
        for p in sorted(PACKAGE.rglob("*.py"))
        if p != spark_py
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if "StorageLevel." in line
    ]
    assert offenders == []
    assert HELD.useMemory and HELD.useDisk and HELD.deserialized
