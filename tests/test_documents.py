"""PDF, DOCX and saved WeChat pages, read from real files made here by real
libraries (fpdf2 with Debian's Noto CJK, python-docx, Pillow); the hostile
files (bombs) are written by hand, as no library makes them."""

from __future__ import annotations

import io
import os
import subprocess
import unicodedata
import zipfile
import zlib
from datetime import datetime
from pathlib import Path

import docx
import pypdfium2 as pdfium
import pytest
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from fpdf import FPDF
from PIL import Image, ImageDraw

from assistant.answer.chain import Assistant
from assistant.ingest.chunking import sections
from assistant.ingest.corpus import UnreadableFile, load_corpus, read_article
from assistant.ingest.documents import read_pdf
from assistant.ingest.text import split_sentences
from assistant.ingest.uploads import ALLOWED_TEXT, UploadRejected, save_upload
from assistant.ingest.word import read_docx
from assistant.settings import Settings
from assistant.store.sync import sync
from tests.servers import CHROMIUM, CHROMIUM_ARGS, need_chromium

NOTO = Path("/usr/share/fonts/opentype/noto")
if not (NOTO / "NotoSansCJK-Regular.ttc").exists():
    if os.environ.get("CI"):
        raise RuntimeError("fonts-noto-cjk is missing: .ci/run installs it with apt-get")
    pytest.skip("Debian fonts-noto-cjk not installed", allow_module_level=True)
SC = 2  # Noto Sans CJK SC in the collection

REPORT = {
    "一、微信小店": [
        "微信小店的GMV增长了1.92倍，订单数量增长2.25倍，带货者的数量也比去年翻了一番。"
        "这一增长主要来自视频号直播和短视频带货，平台对中小商家的流量扶持也起了作用。",
        "小程序今年新增了直播挂件功能，商家可以在小程序里直接开播，用户下单不必离开直播间。"
        "这个功能在灰度测试中，首批开放给三千个商家，明年一季度向全部商家开放。",
    ],
    "二、视频号": [
        "影片號優質內容主播數量增加了一倍，微信小店帶貨規模高速增長，再創新高，點選率提升了三成。"
        "視頻號的日活躍用戶同比增長了兩成，其中三十歲以下的用戶佔比超過四成。",
    ]
    * 3,
}


def cjk_pdf(path: Path, report: dict[str, list[str]] = REPORT, pages_of_filler: int = 1) -> Path:
    """A report as fpdf2 writes it: a running head and page numbers on every
    page, a large title, bold section headings, paragraphs wrapped mid-sentence
    and running across pages."""

    class Report(FPDF):
        def header(self) -> None:
            self.set_font("noto", size=8)
            self.cell(text="2025微信公开课 · 内部资料")
            self.ln(12)

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("noto", size=8)
            self.cell(w=0, text=f"- {self.page_no()} -", align="C")

    pdf = Report()
    pdf.set_title("微信公开课2025报告")
    pdf.set_author("新榜研究院")
    pdf.set_creation_date(datetime(2025, 1, 9, 10, 0))
    pdf.add_font("noto", fname=NOTO / "NotoSansCJK-Regular.ttc", collection_font_number=SC)
    pdf.add_font("noto", "B", fname=NOTO / "NotoSansCJK-Bold.ttc", collection_font_number=SC)
    pdf.add_page()
    pdf.set_font("noto", size=20)
    pdf.multi_cell(w=0, text="微信公开课2025：视频号与微信小店")
    pdf.ln(6)
    for heading, paragraphs in report.items():
        pdf.set_font("noto", "B", size=13)
        pdf.multi_cell(w=0, text=heading)
        pdf.ln(2)
        pdf.set_font("noto", size=11)
        for paragraph in paragraphs * pages_of_filler:
            pdf.multi_cell(w=0, h=7, text=paragraph)
            pdf.ln(3)
    pdf.output(str(path))
    return path


def report_docx(path: Path) -> Path:
    """A Word report: Title, Heading 1/2, a heading by outline level only, a table."""
    doc = docx.Document()
    doc.core_properties.title = "视频号年度复盘"
    doc.core_properties.author = "新榜研究院"
    doc.core_properties.created = datetime(2025, 1, 10, 9, 0)
    doc.add_paragraph("视频号年度复盘", style="Title")
    doc.add_heading("一、整体数据", level=1)
    doc.add_paragraph("视频号的日活跃用户同比增长了两成，直播带货的场次增加了三成。")
    doc.add_heading("1. 直播间", level=2)
    doc.add_paragraph("直播间的平均观看时长达到了二十七分钟，比去年多出六分钟。")
    table = doc.add_table(rows=2, cols=3)
    for r, row in enumerate([["指标", "2024年", "2025年"], ["场次", "100万", "130万"]]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    heading = doc.add_paragraph("二、用户画像")  # a heading by outline level, no heading style
    level = OxmlElement("w:outlineLvl")
    level.set(qn("w:val"), "0")
    heading._p.get_or_add_pPr().append(level)
    doc.add_paragraph("女性用户的占比提升到了百分之四十五。")
    doc.save(str(path))
    return path


def scanned_pdf(path: Path) -> Path:
    """What a scanner makes: each page one picture of text, no text layer."""
    picture = Image.new("RGB", (600, 800), "white")
    draw = ImageDraw.Draw(picture)
    for y in range(60, 700, 40):
        draw.rectangle((50, y, 550, y + 18), fill="black")  # lines of "text"
    pdf = FPDF()
    for _ in range(2):
        pdf.add_page()
        pdf.image(picture, x=0, y=0, w=210)
    pdf.output(str(path))
    return path


def raw_pdf(objects: list[bytes]) -> bytes:
    """A PDF file around the given objects (object 1 is the catalog)."""
    out, offsets = bytearray(b"%PDF-1.7\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def bomb_pdf(pages: int = 1, inflated_mb: int = 0) -> bytes:
    """One page listed ``pages`` times, its content a deflated megabyte of
    text operators listed ``inflated_mb`` times (or one line when 0)."""
    line = b"BT /F1 12 Tf 72 720 Td (Hello) Tj ET\n"
    content = zlib.compress(line * ((1 << 20) // len(line)) if inflated_mb else line, 9)
    kids = b" ".join([b"3 0 R"] * pages)
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents [%s] "
            b"/Resources << /Font << /F1 5 0 R >> >> >>"
            % b" ".join([b"4 0 R"] * max(1, inflated_mb)),
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream"
            % (len(content), content),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


def test_chinese_pdf_comes_back_in_whole_sentences_without_page_furniture(tmp_path):
    path = cjk_pdf(tmp_path / "report.pdf", pages_of_filler=4)
    assert len(pdfium.PdfDocument(path)) >= 2  # a paragraph runs across the page break
    article = read_article(path, "report.pdf")
    lines = article.text.split("\n")
    for paragraph in [p for ps in REPORT.values() for p in ps]:
        for sentence in split_sentences(paragraph):
            assert any(sentence in line for line in lines), sentence
    assert article.title == "微信公开课2025报告"
    assert article.meta == {"author": "新榜研究院", "date": "2025-01-09"}
    assert lines[:2] == ["# 微信公开课2025：视频号与微信小店", "## 一、微信小店"]
    assert "## 二、视频号" in lines
    assert not any("内部资料" in line or line.startswith("- ") for line in lines)
    paths = [path for path, _ in sections(article.text, article.title)]
    assert any(path.endswith("二、视频号") for path in paths)


def test_a_page_printed_to_pdf_by_chromium_reads_as_its_characters(tmp_path):
    """The file that chose the library: pypdf, pdfminer.six and pdfplumber read
    this PDF's 长 as the radical ⻓ (and 小 as ⼩); PDFium reads what was typed."""
    need_chromium()
    page = tmp_path / "page.html"
    paragraphs = REPORT["一、微信小店"] + REPORT["二、视频号"][:1]
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    style = "body{font-family:'Noto Sans CJK SC';width:420px;font-size:15px}"
    page.write_text(f"<meta charset=utf-8><style>{style}</style><h1>报告</h1>{body}", "utf-8")
    printed = tmp_path / "printed.pdf"
    subprocess.run(
        [CHROMIUM, *CHROMIUM_ARGS, "--headless", "--no-pdf-header-footer"]
        + [f"--print-to-pdf={printed}", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    lines = read_article(printed, "printed.pdf").text.split("\n")
    assert lines == ["# 报告", *paragraphs]
    assert not any(
        unicodedata.name(ch, "").startswith(("KANGXI", "CJK RADICAL")) for ch in "".join(lines)
    )


def test_pdf_without_text_layer_is_refused_with_the_reason(tmp_path):
    scanned_pdf(tmp_path / "scan.pdf")
    with pytest.raises(UnreadableFile, match="scanned PDF with no text layer.*run OCR on it first"):
        read_article(tmp_path / "scan.pdf", "scan.pdf")
    (tmp_path / "good.txt").write_text("一篇好文章。内容在这里。", encoding="utf-8")
    load = load_corpus(tmp_path)
    assert [a.doc_id for a in load.articles] == ["good.txt"]
    assert load.skipped[0].doc_id == "scan.pdf" and "OCR" in load.skipped[0].reason


def test_encrypted_pdf_is_refused_and_a_permissions_only_one_is_read(tmp_path):
    for name, user in (("locked.pdf", "secret"), ("open.pdf", None)):
        pdf = FPDF()
        pdf.add_font("noto", fname=NOTO / "NotoSansCJK-Regular.ttc", collection_font_number=SC)
        pdf.add_page()
        pdf.set_font("noto", size=12)
        pdf.multi_cell(w=0, text="机密报告：小店的GMV增长了1.92倍。")
        pdf.set_encryption(owner_password="owner", user_password=user)
        pdf.output(str(tmp_path / name))
    with pytest.raises(UnreadableFile, match="encrypted PDF .*needs a password"):
        read_article(tmp_path / "locked.pdf", "locked.pdf")
    assert (
        read_article(tmp_path / "open.pdf", "open.pdf").text == "机密报告：小店的GMV增长了1.92倍。"
    )


def test_pdf_bombs_are_refused_not_read(tmp_path):
    many = tmp_path / "pages.pdf"
    many.write_bytes(bomb_pdf(pages=100_000))  # 600 KB that list 100,000 pages
    with pytest.raises(UploadRejected, match="100,000 pages; at most 1,000"):
        save_upload(many, "pages.pdf", tmp_path / "corpus", 2_000_000)
    # 5 KB whose page inflates to 300 MB: unbounded, PDFium took 4.1 GB and 17 s
    bomb = bomb_pdf(inflated_mb=300)
    assert len(bomb) < 10_000
    with pytest.raises(UnreadableFile, match="over 1,024 MiB of memory"):
        read_pdf(bomb)
    with pytest.raises(UnreadableFile, match="took over 0.2 s"):
        read_pdf(bomb, max_memory=8 << 30, timeout=0.2)
    text = cjk_pdf(tmp_path / "report.pdf").read_bytes()
    with pytest.raises(UnreadableFile, match="over 100 characters"):
        read_pdf(text, max_chars=100)
    assert not (tmp_path / "corpus").exists()


def test_docx_headings_become_sections_and_tables_rows(tmp_path):
    article = read_article(report_docx(tmp_path / "review.docx"), "review.docx")
    assert article.title == "视频号年度复盘"
    assert article.meta == {"author": "新榜研究院", "date": "2025-01-10"}
    assert article.text.split("\n") == [
        "# 视频号年度复盘",
        "# 一、整体数据",
        "视频号的日活跃用户同比增长了两成，直播带货的场次增加了三成。",
        "## 1. 直播间",
        "直播间的平均观看时长达到了二十七分钟，比去年多出六分钟。",
        "指标：场次，2024年：100万，2025年：130万。",  # a row names its columns
        "# 二、用户画像",
        "女性用户的占比提升到了百分之四十五。",
    ]
    assert [path for path, _ in sections(article.text, article.title)] == [
        "一、整体数据",
        "一、整体数据 › 1. 直播间",
        "二、用户画像",
    ]


def test_docx_zip_bombs_and_other_files_named_docx_are_refused(tmp_path):
    good = report_docx(tmp_path / "good.docx").read_bytes()
    packed = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(packed, "w") as out:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "word/document.xml":  # 60 MB of spaces after the root element
                data += b" " * 60_000_000
            out.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    bomb = tmp_path / "bomb.docx"
    bomb.write_bytes(packed.getvalue())
    assert bomb.stat().st_size < 200_000
    with pytest.raises(UploadRejected, match="unzips to 6. MB .*at most 50 MB of XML"):
        save_upload(bomb, "bomb.docx", tmp_path / "corpus", 2_000_000)
    (tmp_path / "old.docx").write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 600)  # a Word 97 .doc
    with pytest.raises(UnreadableFile, match=r"not a \.docx file .*save it as \.docx"):
        read_article(tmp_path / "old.docx", "old.docx")
    with pytest.raises(UnreadableFile, match="over 20 characters"):
        read_docx(good, max_chars=20)


WECHAT_SAVED = """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>小店的新玩法</title>
<meta property="og:title" content="小店的新玩法：直播挂件全面开放">
<meta property="og:url" content="http://mp.weixin.qq.com/s?__biz=MzA5&amp;mid=2650&amp;idx=1">
<meta property="og:site_name" content="微信公众平台">
<meta name="author" content="松露">
<link rel="stylesheet" href="./小店的新玩法_files/appmsg.css">
<script>var biz = "MzA5"; var ct = "1700000000"; var nickname = htmlDecode("新榜");</script>
</head><body id="activity-detail" class="zh_CN wx_wap_page">
<div id="js_article" class="rich_media"><div class="rich_media_inner">
<div id="page-content" class="rich_media_area_primary"><div class="rich_media_area_primary_inner">
<h1 class="rich_media_title" id="activity-name">
  <span class="js_title_inner">小店的新玩法：直播挂件全面开放</span></h1>
<div id="meta_content" class="rich_media_meta_list">
  <span id="copyright_logo" class="wx_tap_link">原创</span>
  <span class="rich_media_meta rich_media_meta_text">
    <span id="js_author_name_text">松露</span></span>
  <span class="rich_media_meta rich_media_meta_nickname" id="profileBt">
    <a id="js_name">新榜</a></span>
  <em id="publish_time" class="rich_media_meta rich_media_meta_text">2024年01月15日 10:30</em>
  <em id="js_ip_wording_wrp">发表于<span id="js_ip_wording">北京</span></em>
</div>
<div class="rich_media_content js_underline_content" id="js_content" style="visibility: visible;">
  <section class="mp_profile_iframe_wrp"><mp-common-profile class="js_uneditable custom_select_card"
    data-nickname="新榜" data-signature="内容产业服务平台"></mp-common-profile>
    <span>新榜</span><span>内容产业服务平台，每天分享新媒体干货</span><span>1823篇原创内容</span><span>公众号</span>
  </section>
  <h2>一、直播挂件</h2>
  <p><span>小程序今年新增了直播挂件功能，商家可以在小程序里直接开播。</span></p>
  <p>这个功能在灰度测试中，首批开放给三千个商家。</p>
  <section><img data-src="https://mmbiz.qpic.cn/x.png" class="rich_pages wxw-img"></section>
  <p>明年一季度向全部商家开放。</p>
  <p>微信扫一扫</p>
</div>
<div id="js_pc_qr_code" class="qr_code_pc_outer">
  <div class="qr_code_pc_inner"><div class="qr_code_pc">
  <img id="js_pc_qr_code_img" class="qr_code_pc_img">
  <p>微信扫一扫<br>关注该公众号</p></div></div></div>
<div class="rich_media_tool" id="js_toobar3"><a id="js_view_source" href="#">阅读原文</a>
  <span>阅读 10万+</span><span>在看</span><span>赞</span></div>
<div id="content_bottom_area"><p>喜欢此内容的人还喜欢</p><p>另一篇推荐文章的标题</p></div>
</div></div></div></div>
<div class="weui-dialog"><p>微信扫一扫可打开此内容，使用完整服务</p><a>知道了</a></div>
</body></html>"""


def test_saved_wechat_page_gives_byline_and_date_as_metadata_and_a_clean_body(tmp_path):
    (tmp_path / "page.html").write_text(WECHAT_SAVED, encoding="utf-8")
    article = read_article(tmp_path / "page.html", "page.html")
    assert article.title == "小店的新玩法：直播挂件全面开放"
    assert article.meta == {
        "author": "松露",
        "source": "新榜",
        "date": "2024-01-15",
        "url": "http://mp.weixin.qq.com/s?__biz=MzA5&mid=2650&idx=1",
    }
    assert article.text.split("\n") == [
        "## 一、直播挂件",
        "小程序今年新增了直播挂件功能，商家可以在小程序里直接开播。",
        "这个功能在灰度测试中，首批开放给三千个商家。",
        "明年一季度向全部商家开放。",
    ]
    # saved before the script filled #publish_time, with no byline: the
    # script's time (Beijing) and the account stand in
    bare = WECHAT_SAVED.replace("2024年01月15日 10:30", "").replace('"author" content="松露"', "")
    bare = bare.replace('<span id="js_author_name_text">松露</span>', "")
    (tmp_path / "page.html").write_text(bare.replace('<a id="js_name">新榜</a>', ""), "utf-8")
    meta = read_article(tmp_path / "page.html", "page.html").meta
    assert (meta["author"], meta["source"], meta["date"]) == ("新榜", "新榜", "2023-11-15")


def test_uploads_take_pdf_and_docx_within_the_limits(tmp_path):
    corpus = tmp_path / "corpus"
    pdf = cjk_pdf(tmp_path / "up.pdf")
    saved = save_upload(pdf, "报告 2025.PDF", corpus, 2_000_000)
    assert saved.path == corpus / "报告_2025.pdf" and saved.article.title == "微信公开课2025报告"
    saved = save_upload(report_docx(tmp_path / "up.docx"), "review.docx", corpus, 2_000_000)
    assert saved.article.meta["author"] == "新榜研究院"
    with pytest.raises(UploadRejected, match="sentences; an upload may have 5"):
        save_upload(pdf, "again.pdf", corpus, 2_000_000, max_sentences=5)
    with pytest.raises(UploadRejected, match="the limit is 0.0 MB"):
        save_upload(pdf, "again.pdf", corpus, 1_000)
    with pytest.raises(UploadRejected, match="scanned PDF"):
        save_upload(scanned_pdf(tmp_path / "scan.pdf"), "scan.pdf", corpus, 2_000_000)
    with pytest.raises(UploadRejected, match=f"only {ALLOWED_TEXT} files"):
        save_upload(pdf, "sheet.xlsx", corpus, 2_000_000)
    assert ALLOWED_TEXT.endswith(".pdf or .docx")
    assert sorted(p.name for p in corpus.iterdir()) == ["review.docx", "报告_2025.pdf"]


def test_pdf_and_docx_are_indexed_and_answer_a_question(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    cjk_pdf(corpus / "report.pdf")
    report_docx(corpus / "review.docx")
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    result = sync(settings.index_dir, load_corpus(corpus), embedder)
    assert sorted(result.added) == ["report.pdf", "review.docx"] and not result.skipped
    assistant = Assistant(settings, embedder)
    answer = assistant.ask("直播挂件首批开放给多少商家？")
    assert not answer.refused and "三千个商家" in answer.text
    assert answer.citations[0].doc_id == "report.pdf"
    answer = assistant.ask("直播间的平均观看时长是多少？")
    assert not answer.refused and "二十七分钟" in answer.text
    assert answer.citations[0].doc_id == "review.docx"
    assert answer.citations[0].section == "一、整体数据 › 1. 直播间"
    answer = assistant.ask("2025年直播场次是多少？")  # a table row, quoted with its headers
    assert not answer.refused and "2025年：130万" in answer.text, answer.text
