"""Replies to what is not a search (see ``intents``): a greeting that says what
the assistant covers, thanks, and questions about an article itself,
answered from its front matter (title, source, authors, editor, date,
language) and its headings. Nothing here is made up: the card lists what
the article's file says, and a field it lacks is said to be missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import zip_longest

from ..ingest.chunking import SECTION_SEP, heading_text
from ..ingest.text import Script, to_script
from .intents import IntentMatch
from .response import Answer, Citation

#: headings shown as topics: short ones, without their numbering
_TOPICS = 3
_TOPIC_CHARS = 30
_SUMMARY_TOPICS = 6

_FIELDS: dict[Script, dict[str, str]] = {
    "zh-Hans": {
        "title": "标题",
        "source": "来源",
        "authors": "作者",
        "author": "作者",
        "editor": "编辑",
        "date": "日期",
        "language": "语言",
        "url": "链接",
        "summary": "主要内容",
    },
    "zh-Hant": {
        "title": "標題",
        "source": "來源",
        "authors": "作者",
        "author": "作者",
        "editor": "編輯",
        "date": "日期",
        "language": "語言",
        "url": "連結",
        "summary": "主要內容",
    },
    "en": {
        "title": "Title",
        "source": "Source",
        "authors": "Authors",
        "author": "Author",
        "editor": "Editor",
        "date": "Date",
        "language": "Language",
        "url": "Link",
        "summary": "What it covers",
    },
}
_LANGUAGES: dict[str, dict[Script, str]] = {
    "zh-hant": {"zh-Hans": "繁体中文", "zh-Hant": "繁體中文", "en": "Traditional Chinese"},
    "zh-hans": {"zh-Hans": "简体中文", "zh-Hant": "簡體中文", "en": "Simplified Chinese"},
    "zh": {"zh-Hans": "中文", "zh-Hant": "中文", "en": "Chinese"},
    "en": {"zh-Hans": "英文", "zh-Hant": "英文", "en": "English"},
}
_COLON: dict[Script, str] = {"zh-Hans": "：", "zh-Hant": "：", "en": ": "}
_REPLIES: dict[Script, dict[str, str]] = {
    "zh-Hans": {
        "greeting": "你好！我回答关于已收录文章的问题，答案直接引用原文并标明出处。",
        "capabilities": "我根据已收录的文章回答问题：答案引用原文句子并标明出处，"
        "文章没有写到的我会直说。",
        "thanks": "不客气！还有问题随时问我。",
        "articles": "已收录的文章：",
        "topics": "可以问这些话题，例如：",
        "missing": "文章没有注明{field}。以下是它注明的信息：",
    },
    "zh-Hant": {
        "greeting": "你好！我回答關於已收錄文章的問題，答案直接引用原文並標明出處。",
        "capabilities": "我根據已收錄的文章回答問題：答案引用原文句子並標明出處，"
        "文章沒有寫到的我會直說。",
        "thanks": "不客氣！還有問題隨時問我。",
        "articles": "已收錄的文章：",
        "topics": "可以問這些話題，例如：",
        "missing": "文章沒有註明{field}。以下是它註明的資訊：",
    },
    "en": {
        "greeting": "Hello! I answer questions about the articles I hold, quoting them "
        "with their sources.",
        "capabilities": "I answer questions from the articles I hold: each answer quotes "
        "their sentences with a citation, and I say so when they do not cover something.",
        "thanks": "You're welcome! Ask me anything else about the articles.",
        "articles": "Articles:",
        "topics": "Topics you can ask about, for example:",
        "missing": "The article does not give its {field}. What it does give:",
    },
}


@dataclass(frozen=True)
class ArticleCard:
    """What an article says about itself: front matter, and its headings."""

    doc_id: str
    title: str
    meta: dict[str, str] = field(default_factory=dict)
    headings: tuple[str, ...] = ()

    def topics(self, most: int = _TOPICS) -> list[str]:
        """Short headings without their numbering, from each part in turn (up to three)."""
        by_part: dict[str, list[str]] = {}
        deeper = any(SECTION_SEP in h for h in self.headings)
        for heading in self.headings:
            if deeper and SECTION_SEP not in heading:
                continue  # a part's own name (微信小店): its sub-headings say more
            top, last = heading.split(SECTION_SEP)[0], heading_text(heading).strip(" 。:：")
            if 4 <= len(last) <= _TOPIC_CHARS and last not in by_part.get(top, []):
                by_part.setdefault(top, []).append(last)
        # one from each part of the article in turn, so the examples cover it
        rounds = zip_longest(*by_part.values())
        return [t for round_ in rounds for t in round_ if t][:most]

    def lines(self, script: Script, summary: bool = False) -> list[str]:
        """``标题：…``, ``来源：…`` …: the fields the article gives."""
        names = _FIELDS[script]
        values = {"title": self.title, **self.meta}
        out = []
        for key in ("title", "source", "authors", "author", "editor", "date", "language", "url"):
            value = values.get(key, "")
            if key == "language":
                value = _LANGUAGES.get(value.lower(), {}).get(script, value)
            if value:
                out.append(f"{names[key]}{_COLON[script]}{to_script(value, script)}")
        if summary and self.topics():
            topics = "；".join(to_script(t, script) for t in self.topics(_SUMMARY_TOPICS))
            out.append(f"{names['summary']}{_COLON[script]}{topics}")
        return out


def chit_chat(
    match: IntentMatch, question: str, cards: list[ArticleCard], script: Script
) -> Answer:
    """A greeting, thanks or "what can you do": what the assistant covers,
    with the articles and a few of their topics (not for thanks)."""
    replies = _REPLIES[script]
    lines = [replies[match.intent]]
    if match.intent != "thanks" and cards:
        lines.append(replies["articles"])
        lines += [f"· {to_script(c.title, script)}" for c in cards[:5]]
        topics = [t for c in cards for t in c.topics()][:_TOPICS]
        if topics:
            lines.append(replies["topics"])
            lines += [f"· {to_script(t, script)}" for t in topics]
    return Answer(question, "\n".join(lines), False, [], script, evidence=_evidence(match))


def about_article(match: IntentMatch, question: str, card: ArticleCard, script: Script) -> Answer:
    """The article's card, cited; when the field asked for is not in the front
    matter (no date), the answer says so and is a refusal."""
    wanted = match.field
    given = {"title", "summary", *card.meta}
    if wanted == "author":
        given |= {"author"} if "authors" in card.meta else set()
    card_lines = card.lines(script, summary=wanted == "summary")
    text = "\n".join(card_lines)
    citation = Citation(1, card.doc_id, card.title, "", text, 1.0, True)
    if wanted in given:
        return Answer(question, f"{text}[1]", False, [citation], script, evidence=_evidence(match))
    head = _REPLIES[script]["missing"].format(field=_FIELDS[script].get(wanted, wanted))
    body = f"{head}\n{text}[1]"
    return Answer(question, body, True, [citation], script, evidence=_evidence(match))


def _evidence(match: IntentMatch) -> dict[str, object]:
    return {"intent": match.intent, "similarity": match.similarity, "example": match.example}


def article_cards(documents: dict[str, dict], records: list[dict]) -> list[ArticleCard]:
    """A card per indexed article, from the index's manifest (title, front
    matter) and its passage records (headings, in order)."""
    headings: dict[str, list[str]] = {}
    for record in sorted(records, key=lambda r: r.get("ordinal", 0)):
        section = record.get("section", "")
        if section and section not in headings.setdefault(record.get("doc_id", ""), []):
            headings[record["doc_id"]].append(section)
    return [
        ArticleCard(
            doc_id,
            info.get("title", ""),
            dict(info.get("meta", {})),
            tuple(headings.get(doc_id, [])),
        )
        for doc_id, info in sorted(documents.items())
    ]
