"""The ``jieba_c`` segmenter backend gives exactly jieba's tokens: on the corpus sample (raw and
cleaned as the pipeline cleans it), HMM on and off, with the configured user dictionary; on hostile
strings; on Hypothesis-generated text. Every line of the whole corpus: tests/system/test_segmenter_corpus.py."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewlake.core.config import load_config
from reviewlake.text.segment import SegmenterSpec, tokenizer


def both(spec: SegmenterSpec, hmm: bool):
    ref = tokenizer(SegmenterSpec(spec.user_dict, spec.stopwords, hmm, "jieba"))
    fast = tokenizer(SegmenterSpec(spec.user_dict, spec.stopwords, hmm, "jieba_c"))
    assert type(fast) is not type(ref)
    return ref, fast


def test_corpus_sample_raw_and_cleaned(segmenter_spec, corpus_sample):
    from reviewlake.text.clean_rules import python_cleaner

    cfg = load_config()
    clean = python_cleaner(cfg.clean, list(cfg.clean.rules))
    lines = [
        line
        for name in ("pos.txt", "neg.txt")
        for line in (corpus_sample / name).read_text(encoding="utf-8").splitlines()
    ]
    for hmm in (True, False):
        ref, fast = both(segmenter_spec, hmm)
        texts = lines + [clean(line) for line in lines]
        differ = [t for t in texts if ref.lcut(t, HMM=hmm) != fast.lcut(t, HMM=hmm)]
        assert not differ, differ[:3]


HOSTILE = [
    "",
    " ",
    "\u3000",
    "\r\n",
    "呵呵呵",
    "哈" * 500,
    "等等等等等",
    "---",
    "a-b--c",
    "——",
    "..。。",
    "中华人民共和国中央人民政府",
    "南京市长江大桥",
    "iPhone15Pro很好用",
    "3.5%的利率",
    "C++和C#",
    "😀😀好评👍",
    "\x00\x01好",
    "𠀀𠀁𠮷野家",
    "ｆｕｌｌ　ｗｉｄｔｈ",
    "长" * 5000,
]


@pytest.mark.parametrize("hmm", [True, False])
def test_hostile_strings(segmenter_spec, hmm):
    ref, fast = both(segmenter_spec, hmm)
    for text in HOSTILE:
        assert fast.lcut(text, HMM=hmm) == ref.lcut(text, HMM=hmm), text[:30]


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(
            list(
                "的一是了我不人在他有这个上们来到时大地为子中你说生国年着就那和要她出也得里后自以"
                "会家可下而过天去能对小多然于心学么之都好看起发当没成只如事把还用第样道想作种开美"
                "总从无情己面最女但现前些所同日手又行意动方期它头经长儿回位分爱老因很给名法间斯知"
                "世什两次使身者被高已亲其进此话常与活正感呵哈等-—.%+#&_ a1Z。，！？\n"
            )
        ),
        max_size=60,
    )
)
def test_generated_text(segmenter_spec, text):
    for hmm in (True, False):
        ref, fast = both(segmenter_spec, hmm)
        assert fast.lcut(text, HMM=hmm) == ref.lcut(text, HMM=hmm)


def test_full_mode_is_refused(segmenter_spec):
    _, fast = both(segmenter_spec, True)
    with pytest.raises(ValueError, match="cut_all"):
        fast.lcut("南京市长江大桥", cut_all=True)
