"""A corpus scaler for benchmarks: N articles derived from a real one.

The real article is copied as it is; the N-1 others are made from it with
numbers, names and sentence order changed, so that every document differs
(no two share a passage id or a sentence vector) while the vocabulary, length
and structure stay those of a real help-desk corpus. The dev questions then
measure retrieval of the real article hidden among look-alikes.

"Names" covers the article's terms too: besides the product and people
names, its nouns (联盟, 动销, 垂类 …) are permuted among themselves, so a
derived article uses the same vocabulary for other statements. Changing
only numbers and product names leaves N-1 copies of "联盟动销商品数超过160%"
that no question can tell apart (at N=10 that cost 0.2 of hit@5); swapping
nine in ten nouns still left about one article in a hundred with the
question's exact terms (hybrid hit@5 0.87 at N=1,000, with BM25 alone at
1.00). A corpus of different articles does not look like either.

Deterministic for a given seed.
"""

from __future__ import annotations

import random
import re
from functools import cache
from pathlib import Path

import frontmatter

from ..ingest.text import _pos, han_count, split_sentences

# Names in the article and the kind of name that replaces each (Taiwan forms, as written).
_NAMES = {
    "微信小店": "小店",
    "影片號": "號",
    "視頻號": "號",
    "微信公開課": "開放日",
    "張小龍": "",
    "騰訊": "集團",
    "新榜": "榜",
}
_PREFIXES = (
    "星河 雲棲 藍鯨 青禾 赤焰 遠山 白露 金穗 銀杏 晴川 松果 海鹽 風鈴 竹影 橙光 石榴 "
    "長風 知更 木棉 雪松 流螢 燈塔 琥珀 晨曦 錦鯉 鹿角 山茶 月桂 鯨落 霜降"
).split()
_SURNAMES = "王 李 張 劉 陳 楊 黃 趙 吳 周 徐 孫 馬 朱 胡 郭 何 高 林 羅".split()
_GIVEN = "志明 春嬌 小雨 建國 思遠 一鳴 若水 子涵 浩然 欣怡 嘉豪 雅婷".split()
_NUMBER = re.compile(r"(?<![\d.])(\d+)(\.\d+)?(?![\d.])")
_YEAR = re.compile(r"^(19|20)\d\d$")


def _renaming(rng: random.Random) -> dict[str, str]:
    """One new name per name of the article (the same throughout a derived one)."""
    return {
        name: rng.choice(_PREFIXES) + suffix
        if suffix
        else rng.choice(_SURNAMES) + rng.choice(_GIVEN)
        for name, suffix in _NAMES.items()
    }


def _renamed(text: str, names: dict[str, str]) -> str:
    if not names:
        return text
    pattern = re.compile("|".join(map(re.escape, sorted(names, key=len, reverse=True))))
    return pattern.sub(lambda m: names[m.group()], text)


@cache
def _nouns(text: str) -> tuple[str, ...]:
    """The article's nouns of two or more characters (jieba tags n*, vn)."""
    words = {
        w.word
        for w in _pos().cut(text)
        if (w.flag.startswith("n") or w.flag == "vn")
        and len(w.word) >= 2
        and han_count(w.word) == len(w.word)
    }
    return tuple(sorted(words - set(_NAMES)))


def _swapping(nouns: tuple[str, ...], rng: random.Random, share: float = 1.0) -> dict[str, str]:
    """About ``share`` of the nouns, each replaced by another of them."""
    chosen = [n for n in nouns if rng.random() < share]
    shuffled = chosen[:]
    rng.shuffle(shuffled)
    return {old: new for old, new in zip(chosen, shuffled, strict=True) if old != new}


def _renumbered(text: str, rng: random.Random) -> str:
    """Every figure scaled by a random factor (years and one-digit list numbers kept)."""

    def scale(m: re.Match[str]) -> str:
        whole, decimals = m.group(1), m.group(2) or ""
        if _YEAR.match(whole) and not decimals:
            return m.group()
        value = float(whole + decimals)
        if value < 10 and not decimals:
            return m.group()
        new = value * rng.uniform(0.4, 1.9)
        return f"{new:.{len(decimals) - 1}f}" if decimals else str(max(1, round(new)))

    return _NUMBER.sub(scale, text)


def _reordered(text: str, rng: random.Random) -> str:
    """Sentences shuffled within each paragraph; headings stay where they are."""
    lines = []
    for line in text.split("\n"):
        sentences = split_sentences(line)
        if line.startswith("#") or len(sentences) < 2:
            lines.append(line)
            continue
        rng.shuffle(sentences)
        lines.append("".join(sentences))
    return "\n".join(lines)


def derive(post: frontmatter.Post, number: int, seed: int = 0) -> frontmatter.Post:
    """Article number ``number`` derived from ``post``."""
    rng = random.Random(f"{seed}:{number}")
    names = {**_swapping(_nouns(post.content), rng), **_renaming(rng)}
    body = _reordered(_renumbered(_renamed(post.content, names), rng), rng)
    title = _renamed(str(post.get("title", "")), names) + f"（第{number}期）"
    return frontmatter.Post(body, title=title, language=post.get("language", "zh-Hant"))


def write_corpus(source: Path, target: Path, n: int, seed: int = 0) -> Path:
    """Write ``n`` articles into ``target``: ``source`` itself and n-1 derived ones.
    Returns the path of the real article's copy."""
    target.mkdir(parents=True, exist_ok=True)
    post = frontmatter.load(str(source))
    real = target / source.name
    real.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    for number in range(1, n):  # jieba's tagging, the slow part, is cached
        derived = derive(post, number, seed)
        path = target / f"derived-{number:04d}.md"
        path.write_text(frontmatter.dumps(derived) + "\n", encoding="utf-8")
    return real
