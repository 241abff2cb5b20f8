"""What the web chat says, in its two languages.

Every label, placeholder and status line of the page has a Chinese and an
English form here, picked by the page's language switch, so that an English
page never shows "索引完成 · Indexed…". The answers themselves follow the
language of the question (``assistant.answer.response.FRAMES``), not the page.
"""

from __future__ import annotations

from typing import Any

from ..errors import AssistantError, EmptyQuestion, QuestionTooLong

LANGUAGES = {"中文": "zh", "English": "en"}
EXAMPLES = [
    "微信小店的GMV增长了多少？",
    "How much did GMV grow?",
    "影片號推薦演算法看重哪些指標？",
    "视频号对新人创作者有什么扶持？",
]
TEXT: dict[str, dict[str, Any]] = {
    "zh": {
        "title": "## 文章问答助手\n"
        "基于文章回答问题，每句话都注明出处。可以用简体、繁体或英文提问。",
        "question": "问题",
        "placeholder": "输入问题，例如：微信小店的GMV增长了多少？",
        "empty": "**有什么想问的？** 点下面的例子，或在下方输入问题。",
        "new_chat": "＋ 新对话",
        "chats": "对话记录（保存在本浏览器）",
        "kb": "知识库",
        "reindex": "重新索引",
        "upload": "上传文章（.md / .txt / .html / .pdf / .docx）",
        "add": "添加并索引",
        "headers": ["标题", "文件", "段落数", "索引时间"],
        "reasons": ["答非所问", "引用不对", "信息过时", "说得不清楚"],
        "too_long": "问题有 {length:,} 个字符，上限是 {limit:,}。"
        "请缩短后再发送，原文仍在输入框里。",
        "empty_question": "请输入问题，例如：微信小店的GMV增长了多少？",
        "not_text": "问题必须是文字。",
        "indexed": "索引完成：写入 {written} 段，删除 {deleted} 段，"
        "共 {total} 段（{seconds:.1f} 秒）。",
        "added": "✓ 已添加 {name}（{title}）。",
        "replaced_by": "✓ 已用新文件替换 {old}：{name}（{title}）。",
        "removed": "✓ 已删除 {name}。",
        "selected": "已选：{name}",
        "none_selected": "在上表中点一篇文章，即可删除或替换它。",
        "remove": "删除所选文章",
        "replace": "用上传的文件替换所选文章",
        "not_added": "⚠️ 未添加：{reason}",
        "not_replaced": "⚠️ 未替换：{reason}",
        "failed": "⚠️ {reason}",
        "skipped": "⚠️ 已跳过：{reason}",
    },
    "en": {
        "title": "## Article assistant\nAnswers quoted from the articles, every sentence "
        "cited. Ask in simplified Chinese, traditional Chinese or English.",
        "question": "Question",
        "placeholder": "Ask a question, e.g. How much did GMV grow?",
        "empty": "**What would you like to know?** Click an example or type below.",
        "new_chat": "＋ New chat",
        "chats": "Chats (kept in this browser)",
        "kb": "Knowledge base",
        "reindex": "Re-index",
        "upload": "Upload an article (.md / .txt / .html / .pdf / .docx)",
        "add": "Add and index",
        "headers": ["Title", "File", "Passages", "Indexed at"],
        "reasons": ["Doesn't answer it", "Wrong source", "Out of date", "Unclear"],
        "too_long": "The question is {length:,} characters long; the limit is {limit:,}. "
        "Please shorten it — your text is still in the box.",
        "empty_question": "Please type a question, e.g. How much did GMV grow?",
        "not_text": "The question must be text.",
        "indexed": "Indexed — passages written: {written}, deleted: {deleted}, "
        "in all: {total} ({seconds:.1f} s).",
        "added": "✓ Added {name} ({title}).",
        "replaced_by": "✓ Replaced {old} with {name} ({title}).",
        "removed": "✓ Removed {name}.",
        "selected": "Selected: {name}",
        "none_selected": "Click an article in the table to remove or replace it.",
        "remove": "Remove the selected article",
        "replace": "Replace the selected article with the upload",
        "not_added": "⚠️ Not added: {reason}",
        "not_replaced": "⚠️ Not replaced: {reason}",
        "failed": "⚠️ {reason}",
        "skipped": "⚠️ Skipped: {reason}",
    },
}
#: what a 👎 may say, stored by key whichever language the page is in (the
#: chat's flag menu: Gradio's feedback options beyond Like and Dislike)
REASON_KEYS = ("off_topic", "wrong_source", "out_of_date", "unclear")
REASONS = {
    label: key for t in TEXT.values() for label, key in zip(t["reasons"], REASON_KEYS, strict=True)
}


def lang_of(choice: Any) -> str:
    """The page language (``zh``/``en``) for the switch's value; anything else
    (a script may send anything) is Chinese.

    >>> lang_of("English"), lang_of("中文"), lang_of(None)
    ('en', 'zh', 'zh')
    """
    return LANGUAGES.get(choice, "zh") if isinstance(choice, str) else "zh"


def full_stop(text: str, lang: str) -> str:
    """``text`` ending as a sentence does in ``lang`` (a reason from deeper
    down may end without a stop).

    >>> full_stop("请先做文字识别（OCR）", "zh"), full_stop("split it", "en")
    ('请先做文字识别（OCR）。', 'split it.')
    """
    text = text.rstrip()
    if not text or text[-1] in "。！？.!?":
        return text
    return text + ("。" if lang == "zh" else ".")


def feedback_options(t: dict[str, Any]) -> tuple[str, ...]:
    """👍, 👎 and the reasons a 👎 may give, in the page's language."""
    return ("Like", "Dislike", *t["reasons"])


def question_message(error: AssistantError, lang: str) -> str:
    """What the chat says about a question it will not answer, in the page's language.

    >>> question_message(QuestionTooLong(2100, 2000), "zh")[:24]
    '问题有 2,100 个字符，上限是 2,000。'
    """
    t = TEXT[lang]
    if isinstance(error, QuestionTooLong):
        return t["too_long"].format(length=error.length, limit=error.limit)
    if isinstance(error, EmptyQuestion):
        return t["empty_question"]
    return t["not_text"]
