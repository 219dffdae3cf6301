"""Text analysis shared by indexing and querying: folding, segmentation with the domain dictionary,
grams, pinyin keys, and escaped highlights."""

from __future__ import annotations

from zhulian.search.highlight import fragments
from zhulian.text import (
    Analyzer,
    bigrams,
    normalize,
    normalize_with_map,
    pinyin_keys,
    stem,
)
from zhulian.text.analysis import characters, normalize_many_with_map


def test_traditional_full_width_and_case_fold_to_one_form() -> None:
    assert normalize("香港應用科技研究院") == normalize("香港应用科技研究院") == "香港应用科技研究院"
    assert normalize("中山大學") == "中山大学"
    # variants t2s keeps (both valid simplified) are folded too: 座標/坐标, 想像/想象, 基於/基于
    assert normalize("螺旋座標系的想像，基於") == normalize("螺旋坐标系的想象，基于") == "螺旋坐标系的想象,基于"
    assert normalize("ＡＳＴＲＩ　ＡＩ") == "astri ai"
    assert normalize("  Machine\t\nLearning ") == "machine learning"
    text, origin = normalize_with_map("中山大學 ＡＩ")
    assert text == "中山大学 ai" and list(origin) == list(range(7))


def test_domain_names_stay_whole_and_their_parts_are_indexed_too() -> None:
    analyzer = Analyzer(["珠三角科技金融产业协同创新发展中心"])
    tokens = analyzer.index_tokens(normalize("珠三角科技金融产业协同创新发展中心"))
    assert "珠三角科技金融产业协同创新发展中心" in tokens
    assert {"科技", "金融", "协同", "创新", "珠三角"} <= set(tokens)
    assert analyzer.query_tokens("珠三角科技金融产业协同创新发展中心") == [("珠三角科技金融产业协同创新发展中心",) * 2]
    # without the dictionary the name is split
    assert len(Analyzer().query_tokens("珠三角科技金融产业协同创新发展中心")) > 1


def test_english_is_lowercased_and_stemmed_the_same_at_both_ends() -> None:
    analyzer = Analyzer()
    assert analyzer.index_tokens(normalize("Learning Networks")) == ["learn", "network"]
    assert analyzer.query_tokens(normalize("LEARNED network")) == [("learn", "learned"), ("network", "network")]
    assert stem("ai") == "ai"


def test_bigrams_do_not_cross_breaks_and_single_characters_stand_alone() -> None:
    assert bigrams("科技金融") == "科技 技金 金融"
    assert bigrams("科技，金融") == "科技 金融"
    assert bigrams("鱼") == "鱼"


def test_characters_keep_a_break_between_runs() -> None:
    # a phrase of these matches across a break only where the text has one, as bigrams do
    assert characters("科技，金融 ai") == "科 技 | 金 融 | a i"
    assert characters("，鱼。") == "鱼"


def test_pinyin_initials_and_full_pinyin() -> None:
    assert pinyin_keys("中山大學") == ["zsdx", "zhongshandaxue"]
    assert pinyin_keys("Sun Yat-sen University") == []


def test_highlights_escape_everything_but_em() -> None:
    frags = fragments('<script>alert("x")</script> 量子通信 & more', ["量子"])
    assert frags == ['&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; <em>量子</em>通信 &amp; more']
    assert fragments("中山大學的研究", ["中山大学"]) == ["<em>中山大學</em>的研究"]
    long = "甲" * 200 + "量子通信" + "乙" * 200
    (frag,) = fragments(long, ["量子"])
    assert frag.startswith("…") and frag.endswith("…") and "<em>量子</em>" in frag and len(frag) < 120
    assert fragments("nothing here", ["量子"]) == []


def test_highlight_marks_in_the_text_itself_never_become_tags() -> None:
    # the private-use characters the fragments mark matches with before escaping are dropped from the text
    assert fragments("\ue001量子\ue002通信<b>", ["通信"]) == [" 量子 <em>通信</em>&lt;b&gt;"]


def test_texts_folded_together_keep_each_texts_offsets() -> None:
    texts = ["耐热 120℃ 的中山大學", "中山大學 ＡＩ", "", "Machine Learning", "基於座標"]
    together = normalize_many_with_map(texts)
    assert [(text, list(origin)) for text, origin in together] == \
        [(text, list(origin)) for text, origin in map(normalize_with_map, texts)]
    (frag,) = fragments(texts[0], ["中山大学"], normalized=together[0])  # ℃ became two characters before it
    assert frag == "耐热 120℃ 的<em>中山大學</em>"


def test_query_tokens_follow_words_added_to_the_dictionary() -> None:
    analyzer = Analyzer()
    assert len(analyzer.query_tokens("珠江口海洋装备创新中心")) > 1
    analyzer.add_words(["珠江口海洋装备创新中心"])
    assert analyzer.query_tokens("珠江口海洋装备创新中心") == [("珠江口海洋装备创新中心",) * 2]
