"""The benchmark corpus scaler: shuffled copies (scale) and distinct documents with planted
near-copies and their truth (scale_near). Pure Python, no Spark."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.generators.scale_corpus import KEY_INVISIBLE, KINDS, T2, perturb, scale, scale_near, text_key
from reviewlake.lake.minhash import jaccard, shingle_codes

ROOT = Path(__file__).resolve().parents[2]
MILD = KEY_INVISIBLE + ("char_substitute", "char_insert", "char_delete", "mixed")


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """200 real reviews per file with keys of at least 40 characters (a one-character edit keeps
    such a key above Jaccard 0.8)."""
    out = tmp_path_factory.mktemp("near_source")
    for name in ("pos.txt", "neg.txt"):
        lines = (ROOT / "data" / "landing" / name).read_text(encoding="utf-8").splitlines()
        long = [line for line in dict.fromkeys(lines) if 40 <= len(text_key(line)) <= 300][:200]
        (out / name).write_text("\n".join(long) + "\n", encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def scaled(source, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("near_x4") / "x4"
    return out, scale_near(source, out, factor=4, seed=11, near_fraction=0.2)


def read_lines(folder: Path) -> dict[str, str]:
    """line id -> text of every line of a scaled folder."""
    return {
        f"{path.parent.name}/{path.name}:{n}": line
        for path in sorted(folder.glob("copy_*/*.txt"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
    }


def truth_rows(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "near_truth.jsonl").read_text(encoding="utf-8").splitlines()]


def shingles(text: str):
    return shingle_codes(text_key(text), 3)


def test_text_key_matches_the_dedupe_key_rules():
    assert text_key("好评！！ 物流很快👍，ABC~") == "好评物流很快abc"
    assert text_key("好评\u3000好") == "好评\u3000好"  # Java's \s is ASCII only


def test_scale_keeps_shuffled_exact_copies(source, tmp_path):
    written = scale(source, tmp_path / "x2", 2, seed=5)
    lines = (source / "pos.txt").read_text(encoding="utf-8").splitlines()
    copies = [(tmp_path / "x2" / f"copy_{k:04d}" / "pos.txt").read_text(encoding="utf-8").splitlines() for k in (0, 1)]
    assert written == 2 * (len(lines) + len((source / "neg.txt").read_text(encoding="utf-8").splitlines()))
    assert all(sorted(c) == sorted(lines) for c in copies) and copies[0] != copies[1]


def test_scale_near_is_deterministic_by_seed(source, scaled, tmp_path):
    folder, manifest = scaled
    again = scale_near(source, tmp_path / "again", factor=4, seed=11, near_fraction=0.2)
    scale_near(source, tmp_path / "other", factor=4, seed=12, near_fraction=0.2)
    assert again == manifest
    for rel in ["near_truth.jsonl", "manifest.json"] + [
        str(p.relative_to(folder)) for p in folder.glob("copy_*/*.txt")
    ]:
        assert (folder / rel).read_bytes() == (tmp_path / "again" / rel).read_bytes(), rel
    assert (tmp_path / "other" / "copy_0001" / "pos.txt").read_bytes() != (
        folder / "copy_0001" / "pos.txt"
    ).read_bytes()


def test_copy_zero_is_the_source_and_every_copy_has_as_many_lines(source, scaled):
    folder, manifest = scaled
    for name in ("pos.txt", "neg.txt"):
        src = (source / name).read_text(encoding="utf-8").splitlines()
        assert (folder / "copy_0000" / name).read_text(encoding="utf-8").splitlines() == src
        for k in range(1, 4):
            assert len((folder / f"copy_{k:04d}" / name).read_text(encoding="utf-8").splitlines()) == len(src)
    assert manifest["lines"] == 4 * 400
    assert manifest["planted"] + manifest["recombined"] == 3 * 400


def test_planted_pairs_are_recorded_and_really_near(scaled):
    folder, manifest = scaled
    lines = read_lines(folder)
    rows = truth_rows(folder)
    assert len(rows) == manifest["planted"] > 150  # about 20% of 1,200 lines
    assert {r["kind"] for r in rows} == set(KINDS)  # every perturbation planted
    assert len({r["copy"] for r in rows}) == len(rows)
    mild_near = []
    for r in rows:
        src, copy = lines[r["source"]], lines[r["copy"]]
        assert src != copy and not r["copy"].startswith("copy_0000/")
        assert r["source"].split(":")[0].split("/")[1] == r["copy"].split(":")[0].split("/")[1]  # same label file
        assert r["key_equal"] == (text_key(src) == text_key(copy))
        assert r["key_jaccard"] == pytest.approx(jaccard(shingles(src), shingles(copy)), abs=1e-4)
        if r["kind"] in KEY_INVISIBLE:
            assert r["key_equal"], r
        else:
            assert not r["key_equal"] or r["kind"] == "phrase_repeat", r
        if r["kind"] in MILD:
            mild_near.append(r["key_jaccard"] >= 0.8)
    assert sum(mild_near) / len(mild_near) >= 0.95


def test_recombined_documents_are_distinct_and_no_near_copies(source, scaled):
    folder, _ = scaled
    lines = read_lines(folder)
    planted = {r["copy"] for r in truth_rows(folder)}
    originals = [t for i, t in lines.items() if i.startswith("copy_0000/")]
    recombined = [t for i, t in lines.items() if not i.startswith("copy_0000/") and i not in planted]
    keys = [text_key(t) for t in recombined]
    assert len(set(keys)) == len(keys)
    assert not set(keys) & {text_key(t) for t in originals}
    sets = [set(shingles(t).tolist()) for t in originals + recombined[::5]]
    n_orig = len(originals)
    worst = 0.0
    for i in range(n_orig, len(sets)):
        for j in range(i):
            inter = len(sets[i] & sets[j])
            worst = max(worst, inter / (len(sets[i]) + len(sets[j]) - inter))
    assert worst < 0.8


@pytest.mark.parametrize("kind", KINDS)
def test_each_perturbation_changes_the_text(kind):
    import random

    text = "这家酒店的位置很好，离火车站很近，房间干净整洁，早餐品种丰富，下次出差还会再来住"
    out = perturb(text, kind, random.Random(3), "的一是了我不人在他有")
    assert out is not None and out != text
    if kind == "traditional":
        assert any(c in T2.values() for c in out)
