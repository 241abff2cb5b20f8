"""Saved WeChat official-account pages (``mp.weixin.qq.com``, "Save page as").

Such a page holds the article in ``#js_content``; around it are the title
(``#activity-name``, ``og:title``), the byline (``#js_author_name_text`` or
``meta[name=author]``), the account (``#js_name``), the publish time
(``#publish_time`` once rendered, else ``var ct = "1700000000"`` or
``create_time`` in a script) and the page's chrome: the account card, the
QR code with 微信扫一扫, 阅读原文, 在看 and the like. Here the byline, account,
date and link become metadata, as front matter does for Markdown (never
body text to quote), and the chrome is cut out of the body.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from .bounded import MAX_META_CHARS
from .text import strip_controls

#: elements of the page's chrome, inside or beside ``#js_content``
CHROME = ", ".join(
    [
        "#js_pc_qr_code",
        ".qr_code_pc_outer",
        ".qr_code_pc",
        "#js_toobar3",
        ".rich_media_tool",
        "#content_bottom_area",
        "#js_sponsor_ad_area",
        ".reward_area",
        "#js_tags_preview_toast",
        "#wx_stream_article_slide_tip",
        "mp-common-profile",
        ".mp_profile_iframe_wrp",
        ".wx_profile_card_inner",
        "#js_profile_qrcode",
    ]
)
#: whole lines of chrome text that a saved page can leave in the article
CHROME_LINES = frozenset(
    """微信扫一扫 关注该公众号 微信扫一扫可打开此内容，使用完整服务 阅读原文 轻触阅读原文
    继续滑动看下一个 向上滑动看下一个 预览时标签不可点 知道了 取消 允许 在看 分享 收藏
    点赞 赞 写留言 留言 听过 喜欢此内容的人还喜欢""".split()
)
_BEIJING = timezone(timedelta(hours=8))  # WeChat shows times in China Standard Time
_STAMP = re.compile(r"""\b(?:ct|create_time|publish_time)\s*[=:]\s*["']?(\d{10})\b""")
_NICKNAME = re.compile(r"""var nickname\s*=\s*(?:htmlDecode\()?["']([^"']+)""")
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")


def is_wechat(soup: Any) -> bool:
    """True for a saved official-account article page."""
    if soup.select_one("#js_content, #activity-name, #js_article") is not None:
        return True
    url = soup.select_one('meta[property="og:url"], link[rel=canonical]')
    return url is not None and "mp.weixin.qq.com" in str(url.get("content") or url.get("href"))


def publish_date(text: str) -> str:
    """``YYYY-MM-DD`` from a shown date or a Unix time (China Standard Time).

    >>> publish_date("2024年1月5日 10:30"), publish_date('var ct = "1700000000";')
    ('2024-01-05', '2023-11-15')
    """
    if m := _DATE.search(text):
        year, month, day = (int(g) for g in m.groups())
        if 1 <= month <= 12 and 1 <= day <= 31:
            return f"{year:04d}-{month:02d}-{day:02d}"
    if m := _STAMP.search(text):
        return datetime.fromtimestamp(int(m.group(1)), UTC).astimezone(_BEIJING).date().isoformat()
    return ""


def _text(soup: Any, *selectors: str) -> str:
    """The text (or ``content``) of the first of ``selectors`` that has some."""
    for selector in selectors:
        for node in soup.select(selector):
            value = node.get("content") if node.name == "meta" else node.get_text(" ")
            value = " ".join(strip_controls(str(value or "")).split())
            if value:
                return value[:MAX_META_CHARS]
    return ""


def wechat_meta(soup: Any) -> dict[str, str]:
    """Author, source (the account), date and url of a saved WeChat page;
    read before scripts and ``<meta>`` tags are dropped. The account stands
    in for the author when the article names none."""
    scripts = "\n".join(s.get_text() for s in soup.find_all("script"))
    account = _text(soup, "#js_name", ".rich_media_meta_nickname")
    if not account and (m := _NICKNAME.search(scripts)):
        account = " ".join(m.group(1).split())[:MAX_META_CHARS]
    author = _text(
        soup,
        "#js_author_name_text",
        "#js_author_name",
        'meta[name="author"]',
        'meta[property="og:article:author"]',
    )
    date = publish_date(_text(soup, "#publish_time")) or publish_date(scripts)
    url = _text(soup, 'meta[property="og:url"]')
    meta = {"author": author or account, "source": account, "date": date, "url": url}
    return {k: v for k, v in meta.items() if v}


def drop_chrome(main: Any) -> None:
    """Remove the page's chrome elements from ``main`` (in place)."""
    for node in main.select(CHROME):
        node.decompose()
