"""The chats a browser keeps (``assistant.serve.conversations``): what is
saved, in which order, and within which bounds."""

from __future__ import annotations

from assistant.serve import conversations as c


def _chat(question: str, answer: str = "答") -> list[dict]:
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


def test_a_chat_moves_to_the_top_when_it_goes_on():
    _, chats = c.save(None, _chat("一"), [])
    _, chats = c.save(None, _chat("二"), chats)
    assert [c.title(x) for x in chats] == ["二", "一"]
    index, chats = c.save(1, _chat("一") + _chat("再问"), chats)  # "一" reopened and asked on
    assert index == 0 and [c.title(x) for x in chats] == ["一", "二"] and len(chats[0]) == 4


def test_notices_and_odd_values_from_a_browser_are_not_kept():
    notice = {"role": "assistant", "content": "⚠️ too long"}
    forged = [[notice], "text", [{"role": "system", "content": "x"}], 7, _chat("好")]
    assert c.saved_chats(forged) == [_chat("好")]
    _, chats = c.save(None, [*_chat("问"), notice], forged)
    assert chats[0] == _chat("问")
    assert c.saved_chats({"not": "a list"}) == []


def test_the_saved_chats_stay_within_count_and_size():
    chats: list = []
    for i in range(c.MAX_CHATS + 5):
        _, chats = c.save(None, _chat(f"问题{i}"), chats)
    assert len(chats) == c.MAX_CHATS and c.title(chats[0]) == f"问题{c.MAX_CHATS + 4}"
    big = "长" * (c.MAX_SAVED_CHARS // 3)
    for i in range(5):
        _, chats = c.save(None, _chat(f"大{i}", big), chats)
    assert sum(len(m["content"]) for chat in chats for m in chat) <= c.MAX_SAVED_CHARS
    assert c.title(chats[0]) == "大4"


def test_clearing_and_opening_by_index():
    _, chats = c.save(None, _chat("一"), [])
    _, chats = c.save(None, _chat("二"), chats)
    assert c.opened(1, chats) == (1, _chat("一"))
    assert c.opened(9, chats) == (None, []) and c.opened("0", chats) == (None, [])
    assert c.delete(0, chats) == (None, [_chat("一")])


def test_a_title_is_the_first_question_as_text_and_short():
    assert c.title(_chat("&lt;b&gt; " + "字" * 60)).startswith("<b> 字")
    assert len(c.title(_chat("字" * 60))) == c.TITLE_CHARS
