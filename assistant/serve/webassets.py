"""The page's own styles and script, given to Gradio at launch (``ui.py``)
and when the chat is mounted in the server.

The script does what Gradio does not: a citation mark ``[n]`` in an answer
scrolls to source n of the same answer and opens its passage; a chat
message's screen-reader label is the text a reader sees (Gradio labels a
message with its raw Markdown and HTML: ``<sup>``, ``**来源**``, ``&#43;``);
and the page's ``<html lang>`` follows the language switch. It reads only
the page's own rendered text and never inserts markup, so passages stay data.
"""

from __future__ import annotations

#: The quoted sentences (``<mark>``) read dark on pale yellow in the light
#: theme and light on dark amber in the dark one (the browser's default mark,
#: light text on bright yellow in the dark theme, was unreadable); both well
#: over WCAG AA's 4.5:1. A source that a citation was followed to is outlined.
APP_CSS = """
mark { background: #fff3a3; color: #1f2937; }
.dark mark { background: #6b5a12; color: #fff8db; }
a[href^="#source-"] { color: var(--link-text-color); text-decoration: none; padding: 0 1px; }
.followed-source { outline: 2px solid var(--color-accent); border-radius: 4px; }
"""

APP_JS = """
() => {
  const LABEL = /^(.*?'s message): /s;

  // [n] → source n of the same answer (the paragraph opening with a bold
  // "[n]"): scrolled to, outlined for a moment, its whole passage opened
  document.addEventListener("click", (event) => {
    const link = event.target instanceof Element &&
      event.target.closest("a[href^='#source-']");
    if (!link) return;
    event.preventDefault();  // no jump, and no change to an embedding page's URL
    const n = link.getAttribute("href").slice("#source-".length);
    const scope = link.closest("[data-testid='bot']") || document;
    const source = [...scope.querySelectorAll("p > b:first-child")]
      .find((b) => b.textContent === `[${n}]`);
    if (!source) return;
    const paragraph = source.parentElement;
    const details = paragraph.nextElementSibling;
    if (details && details.tagName === "DETAILS") details.open = true;
    paragraph.classList.add("followed-source");
    setTimeout(() => paragraph.classList.remove("followed-source"), 2000);
    paragraph.scrollIntoView({ behavior: "smooth", block: "center" });
  }, true);

  // a message's label for screen readers: the text shown, not its markup;
  // and <html lang> as the language switch says (Gradio leaves it "en")
  // message → [the label set here, its content then]: unchanged, no layout pass again
  const written = new WeakMap();
  const relabel = () => {
    const english = document.querySelector("input[type=radio][value='English']");
    const lang = english && english.checked ? "en" : "zh-CN";
    if (document.documentElement.lang !== lang) document.documentElement.lang = lang;
    for (const el of document.querySelectorAll("[aria-label*=\\"'s message: \\"]")) {
      const label = el.getAttribute("aria-label");
      const seen = written.get(el);
      if (seen && seen[0] === label && seen[1] === el.textContent) continue;
      const found = LABEL.exec(label);
      if (!found) continue;
      const text = (el.innerText || "").replace(/\\s+/g, " ").trim();
      const wanted = `${found[1]}: ${text}`;
      written.set(el, [wanted, el.textContent]);
      if (label !== wanted) el.setAttribute("aria-label", wanted);
    }
  };
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; relabel(); });
  }).observe(document.body, {
    subtree: true, childList: true, characterData: true, attributes: true,
    attributeFilter: ["aria-label"],
  });
}
"""
