"""Typos in questions, corrected against the corpus's own words.

People type Chinese by pinyin, so their slips are homophones (微信小点 for
微信小店) or sounds an accent merges (视屏号 for 视频号: ping/pin, one of the
fuzzy sounds input methods offer), and Latin acronyms get letters swapped
(GVM for GMV). A word of the question that the corpus never uses is replaced
by the one corpus word that sounds the same, or the same under fuzzy sounds,
or that has the same letters in another order. Only words of three or
more characters are touched: short ones are too often real words with
homophones of their own — except that a two-character piece that is no word
of the general dictionary becomes the one proper name (抖音, 快手, 淘宝: our
lexicon's ``nz`` words) or else the one corpus word it sounds exactly like
(抖因 → 抖音: a question about another platform must be recognised as one,
typo or not; 指表 → 指标, 粉思 → 粉丝); so does a dictionary word the corpus
lacks that is rare in general Chinese, when the corpus word is rarer still
(小点 → 小店, 直拨 → 直播; 上架 stays, not 商家; 新号 stays, not 信号).
Numerals are never read as slips (方向二 is not 方向而).
The vocabulary is the index's, so new articles bring their own terms.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable

from pypinyin import lazy_pinyin

from ..ingest.text import general_surprisal, in_dictionary, segments, t2s

_HAN_RUN = re.compile(r"[\u4e00-\u9fff]{3,}")
_LATIN = re.compile(r"(?<![A-Za-z])[A-Za-z]{3,8}(?![A-Za-z])")
#: numerals are never slips: 方向二 is not 方向而, 二是 not 而是 (a numeral's
#: homophone would change what is asked). Not 一: it is in too many words,
#: and 一上 is a slip for 以上.
_NUMERAL = re.compile(r"[二三四五六七八九十两零百千万亿]")
#: corpus words this long at most are candidates (longer runs are tried in windows)
MAX_WORD = 6


def _fuzzy(syllable: str) -> str:
    """A syllable as pinyin input methods' fuzzy sounds (模糊音) hear it: zh/z,
    ch/c, sh/s, l/n, and -ang/-an, -eng/-en, -ing/-in alike. These are the
    confusions of regional accents that make people type 视屏 for 视频.

    >>> _fuzzy("ping"), _fuzzy("shi"), _fuzzy("lan")
    ('pin', 'si', 'nan')
    """
    syllable = re.sub(r"^([zcs])h", r"\1", syllable)
    syllable = re.sub(r"^l", "n", syllable)
    return re.sub(r"(a|e|i)ng$", r"\1n", syllable)


class Speller:
    """Corrects a question's words against ``vocabulary`` (the index's tokens)."""

    def __init__(
        self, vocabulary: Iterable[str], names: Iterable[str] = (), rare_word: float = math.inf
    ) -> None:
        #: a dictionary word at least this rare in general Chinese that the corpus
        #: lacks may be a slip for the corpus word it sounds exactly like (小点 →
        #: 小店, 直拨 → 直播); an everyday word (时间 7.5) never is
        self.rare_word = rare_word
        words = set(vocabulary)
        #: two-character proper names, and corpus words, by their exact sound
        self.names: dict[tuple[str, ...], list[str]] = defaultdict(list)
        self.pairs: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for name in names:
            if len(name) == 2 and _HAN_RUN.fullmatch(name + name):
                self.names[tuple(lazy_pinyin(name))].append(name)
        for word in sorted(words):
            if len(word) == 2 and _HAN_RUN.fullmatch(word + word):
                self.pairs[tuple(lazy_pinyin(word))].append(word)
        self.known = words
        #: pieces of corpus words: a question's piece that is one is no typo
        self.parts = {
            w[i:j] for w in words for i in range(len(w)) for j in range(i + 3, len(w) + 1)
        }
        # corpus words by their sound, and by their sound under fuzzy sounds
        self.by_sound: dict[tuple[str, ...], list[str]] = defaultdict(list)
        self.by_fuzzy: dict[tuple[str, ...], list[str]] = defaultdict(list)
        self.latin: dict[str, list[str]] = defaultdict(list)
        for word in sorted(words):
            if 3 <= len(word) <= MAX_WORD and _HAN_RUN.fullmatch(word):
                sound = tuple(lazy_pinyin(word))
                self.by_sound[sound].append(word)
                self.by_fuzzy[tuple(_fuzzy(x) for x in sound)].append(word)
            elif word.isascii() and word.isalpha() and 3 <= len(word) <= 8:
                self.latin["".join(sorted(word))].append(word)

    def correct(self, question: str) -> str:
        """The question with its unknown words replaced by the corpus words they
        sound like; unchanged when no single such word exists.

        >>> Speller(["视频号", "微信小店", "gmv", "推荐"]).correct("视屏号和微信小点的GVM？")
        '视频号和微信小店的GMV？'
        >>> Speller(["视频号"]).correct("视频号和视频的区别")
        '视频号和视频的区别'
        >>> Speller(["视频号"], names=["抖音", "快手"]).correct("抖因和块手的视频号")
        '抖音和快手的视频号'
        >>> Speller(["指标", "粉丝"]).correct("看哪几个指表和粉思")
        '看哪几个指标和粉丝'
        >>> Speller(["优质", "实际"]).correct("有直播没，是几个点")
        '有直播没，是几个点'
        >>> Speller(["小店", "事件"], rare_word=11.5).correct("小点的时间")  # 时间 is everyday
        '小店的时间'
        >>> Speller(["商家", "而是"], rare_word=11.5).correct("多久能上架商品，方向二是什么")
        '多久能上架商品，方向二是什么'
        """
        question = _HAN_RUN.sub(lambda m: self._han(m.group()), question)
        question = self._two_characters(question)
        return _LATIN.sub(lambda m: self._acronym(m.group()), question)

    def _han(self, run: str) -> str:
        # pinyin and simplified form once per run (t2s keeps the length); pieces are slices
        simple = t2s(run)
        if len(simple) != len(run):
            simple = run
        sound = lazy_pinyin(run)
        if len(sound) != len(run):
            return run
        out, i = [], 0
        while i < len(run):
            for n in range(min(MAX_WORD, len(run) - i), 2, -1):
                piece = simple[i : i + n]
                if piece in self.known:  # a corpus word (in either script): kept whole
                    out.append(run[i : i + n])
                    i += n
                    break
                if piece in self.parts or _NUMERAL.search(piece):
                    continue
                found = self._sounds_like(tuple(sound[i : i + n]))
                if found:
                    out.append(found)
                    i += n
                    break
            else:
                out.append(run[i])
                i += 1
        return "".join(out)

    def _two_characters(self, question: str) -> str:
        """Two-character typos, found by the segmenter: a two-character word it
        does not know (指表, 粉思) becomes the one proper name or else the one
        corpus word it sounds exactly like; two single characters side by side
        (抖/因, 块/手) only a proper name. Pieces across words (有/直播) are
        never read as one."""
        tokens = segments(question)
        out, i = [], 0
        while i < len(tokens):
            token = tokens[i]
            pair = i + 1 < len(tokens) and len(token) == 1 and len(tokens[i + 1]) == 1
            if len(token) == 2 and (found := self._sounds_as(token, (self.names, self.pairs))):
                out.append(found)
            elif pair and (found := self._sounds_as(token + tokens[i + 1], (self.names,))):
                out.append(found)
                i += 1
            else:
                out.append(token)
            i += 1
        return "".join(out)

    def _sounds_as(self, piece: str, tables: tuple[dict, ...]) -> str | None:
        """The one word of the first table that has one for this non-word's sound.

        A dictionary word (rare enough) becomes a word only when that word is
        rarer still in general Chinese: a pinyin input method offers the
        commoner of two homophones first, so a slip lands on the commoner one
        (小店 typed as 小点, 直播 as 直拨), and a word rarer than its corpus
        homophone was chosen on purpose (上架, not a slip for 商家).
        """
        simple = t2s(piece)
        if not _HAN_RUN.fullmatch(piece + piece) or simple in self.known or _NUMERAL.search(piece):
            return None
        word = in_dictionary(simple)
        if word and general_surprisal(simple) < self.rare_word:
            return None
        sound = tuple(lazy_pinyin(piece))
        for table in tables:
            found = table.get(sound, [])
            if found:
                if len(found) > 1:
                    return None
                rarer = general_surprisal(t2s(found[0])) > general_surprisal(simple)
                return found[0] if not word or rarer else None
        return None

    def _sounds_like(self, sound: tuple[str, ...]) -> str | None:
        """The one corpus word with this sound, or with it under fuzzy sounds."""
        exact = self.by_sound.get(sound, [])
        if exact:
            return exact[0] if len(exact) == 1 else None  # two alike: no guess
        near = self.by_fuzzy.get(tuple(_fuzzy(x) for x in sound), [])
        return near[0] if len(near) == 1 else None

    def _acronym(self, word: str) -> str:
        lower = word.lower()
        if lower in self.known:
            return word
        same = [w for w in self.latin.get("".join(sorted(lower)), []) if w != lower]
        return same[0].upper() if len(same) == 1 and word.isupper() else word
