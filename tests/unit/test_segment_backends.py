"""The ``jieba_c`` segmenter backend gives exactly jieba's tokens: on every line of the bundled
corpus (raw and cleaned as the pipeline cleans it), HMM on and off, with the configured user
dictionary; on hostile strings; on Hypothesis-generated text."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.core.config import load_config
from pipelines.segment import SegmenterSpec, available_backends, tokenizer

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="module")
def spec() -> SegmenterSpec:
    assert "jieba_c" in available_backends(), "pipelines/_jieba_route.c not built: run `make setup`"
    return SegmenterSpec.from_config(load_config())


def both(spec: SegmenterSpec, hmm: bool):
    ref = tokenizer(SegmenterSpec(spec.user_dict, spec.stopwords, hmm, "jieba"))
    fast = tokenizer(SegmenterSpec(spec.user_dict, spec.stopwords, hmm, "jieba_c"))
    assert type(fast) is not type(ref)
    return ref, fast


def corpus_lines() -> list[str]:
    return [line for name in ("pos.txt", "neg.txt")
            for line in (DATA / "landing" / name).read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("hmm", [True, False])
def test_whole_corpus_token_for_token(spec, hmm):
    lines = corpus_lines()
    assert len(lines) > 30_000
    ref, fast = both(spec, hmm)
    differ = [(line, a, b) for line in lines
              if (a := ref.lcut(line, HMM=hmm)) != (b := fast.lcut(line, HMM=hmm))]
    assert not differ, differ[:3]


def test_whole_corpus_cleaned_as_the_pipeline_cleans(spec):
    from pipelines.clean_text import python_cleaner

    cfg = load_config()
    clean = python_cleaner(cfg["clean"], list(cfg["clean.rules"]))
    ref, fast = both(spec, True)
    differ = [t for t in map(clean, corpus_lines()) if ref.lcut(t) != fast.lcut(t)]
    assert not differ, differ[:3]


HOSTILE = [
    "", " ", "\u3000", "\r\n", "呵呵呵", "哈" * 500, "等等等等等", "---", "a-b--c", "——", "..。。",
    "中华人民共和国中央人民政府", "南京市长江大桥", "iPhone15Pro很好用", "3.5%的利率", "C++和C#",
    "😀😀好评👍", "\x00\x01好", "𠀀𠀁𠮷野家", "ｆｕｌｌ　ｗｉｄｔｈ", "长" * 5000,
]


@pytest.mark.parametrize("hmm", [True, False])
def test_hostile_strings(spec, hmm):
    ref, fast = both(spec, hmm)
    for text in HOSTILE:
        assert fast.lcut(text, HMM=hmm) == ref.lcut(text, HMM=hmm), text[:30]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("的一是了我不人在他有这个上们来到时大地为子中你说生国年着就那和要她出也得里后自以会家可下而过天去能对小多然于心学么之都好看起发当没成只如事把还用第样道想作种开美总从无情己面最女但现前些所同日手又行意动方期它头经长儿回位分爱老因很给名法间斯知世什两次使身者被高已亲其进此话常与活正感呵哈等-—.%+#&_ a1Z。，！？\n")),
               max_size=60))
def test_generated_text(spec, text):
    for hmm in (True, False):
        ref, fast = both(spec, hmm)
        assert fast.lcut(text, HMM=hmm) == ref.lcut(text, HMM=hmm)


def test_full_mode_is_refused(spec):
    _, fast = both(spec, True)
    with pytest.raises(ValueError, match="cut_all"):
        fast.lcut("南京市长江大桥", cut_all=True)
