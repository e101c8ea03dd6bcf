"""Issue 15.5: the explanation and the reviewer's report print on A4, in a real headless Chromium.

Chromium is found and started as in tests/test_browser_report.py (`.ci/start-chromium.sh` installs it on CI; the
tests skip, saying why, where there is none). Here it is driven over the DevTools protocol on a pipe
(`--remote-debugging-pipe`: no port, no network), so that one browser can both print a page to PDF (`Page.printToPDF`,
with the page's own `@page` size and margins, as the print dialog does) and measure it laid out for print
(`Emulation.setEmulatedMedia`) at the width of the printable area. The PDF's text is read with pypdf (the `test`
extra in pyproject.toml).

What is checked, for the 6-item explanation of tests/golden/03-refusals and for the report of the twelve golden
applications (one unreadable file besides):
* A4 (595 × 842 pt) on every page;
* items flow across pages: the page count is what the content needs (its height laid out for print divided by a
  page's printable height, rounded up, plus one page for keeping headings with their text and the sign-off whole),
  not one page (or more) per item as when each item was kept whole on a page of its own;
* nothing is wider than the printable width (every element's right edge, laid out for print);
* every page names the application it shows (its number, in the running header) and its page, "第 N 页，共 M 页";
* the sign-off block (审核意见, 审核人, 日期) is there, on one page: once per application, and once under the report's
  index for the round.
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
import subprocess
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from conftest import claim, item
from test_browser_report import FLAGS, _chromium

import engine
from engine.explaining.render import ReportError, explain, render_report
from engine.records.inputs import read_document

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden"
ARTEFACTS = HERE / "artefacts"
A4_PT = (595.28, 841.89)  # 210 × 297 mm at 72 pt per inch
MM = 96 / 25.4  # CSS px per mm
# The printable area of the pages' own `@page { size: A4; margin: 16mm 12mm 15mm }` (engine/explaining/templates/_style.css.j2),
# in CSS px: 210 - 2 × 12 = 186 mm wide (703 px), 297 - 16 - 15 = 266 mm high (1005 px).
PRINT_WIDTH = 186 * MM
PRINT_HEIGHT = 266 * MM
# Laid out for print at the printable width: the document's height, the right edge of its widest element.
MEASURE = """JSON.stringify({
  height: document.documentElement.scrollHeight,
  right: Math.max(...Array.from(document.querySelectorAll('body *')).map(e => e.getBoundingClientRect().right)),
  widest: (Array.from(document.querySelectorAll('body *')).sort((a, b) => b.getBoundingClientRect().right
    - a.getBoundingClientRect().right)[0] || {}).outerHTML?.slice(0, 200)
})"""
# pypdf reads some Chinese glyphs back as the CJK radical drawn with the same glyph (页 as ⻚, 见 as ⻅, 人 as ⼈):
# the Kangxi radicals are mapped back by NFKC, the two radicals-supplement ones of the words checked here by hand;
# and English ligatures as their letters (ﬀ as ff).
RADICALS = str.maketrans(
    {"⻚": "页", "⻅": "见"} | {chr(c): unicodedata.normalize("NFKC", chr(c)) for c in (*range(0x2F00, 0x2FD6), *range(0xFB00, 0xFB07))}
)


class DevTools:
    """A minimal client of Chromium's DevTools protocol over `--remote-debugging-pipe` (fd 3 in, fd 4 out, JSON
    messages ending in NUL)."""

    def __init__(self, browser: str, profile: str) -> None:
        cmd_r, self.cmd_w = os.pipe()
        self.out_r, out_w = os.pipe()
        self.proc = subprocess.Popen(
            ["bash", "-c", f'exec "$@" 3<&{cmd_r} 4>&{out_w} {cmd_r}<&- {out_w}>&-', "chromium", browser, *FLAGS,
             "--remote-debugging-pipe", f"--user-data-dir={profile}"],
            pass_fds=(cmd_r, out_w),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(cmd_r)
        os.close(out_w)
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self.buffer:
            chunk = os.read(self.out_r, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        data: dict[str, Any] = json.loads(message)
        return data

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self.cmd_w, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)

    def wait_for(self, event: str, session: str) -> None:
        while True:
            for e in self.events:
                if e.get("method") == event and e.get("sessionId") == session:
                    self.events.remove(e)
                    return
            self.events.append(self._read())

    def print_page(self, url: str) -> tuple[bytes, dict[str, Any]]:
        """The page printed to PDF as the print dialog would (its own @page size and margins, backgrounds, no
        browser header or footer), and measured laid out for print at the printable width."""
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        s = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable", s)
        self.call("Page.navigate", s, url=url)
        self.wait_for("Page.loadEventFired", s)
        pdf = base64.b64decode(self.call("Page.printToPDF", s, preferCSSPageSize=True, printBackground=True)["data"])
        self.call("Emulation.setEmulatedMedia", s, media="print")
        self.call(
            "Emulation.setDeviceMetricsOverride", s, width=round(PRINT_WIDTH), height=round(PRINT_HEIGHT), deviceScaleFactor=1, mobile=False
        )
        found = self.call("Runtime.evaluate", s, expression=MEASURE, returnByValue=True)["result"]["value"]
        self.call("Target.closeTarget", targetId=target)
        measured: dict[str, Any] = json.loads(found)
        return pdf, measured

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except RuntimeError:
            pass
        os.close(self.cmd_w)
        os.close(self.out_r)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _decisions(policy: engine.CompiledPolicy) -> list[engine.Decision]:
    out = []
    for path in sorted(GOLDEN.glob("*.claim.json")):
        data, _ = read_document(path)
        out.append(engine.evaluate(policy, data))
    return out


@pytest.fixture(scope="module")
def printed(policy: engine.CompiledPolicy, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[list[str], dict[str, Any], Any]]:
    """Each page printed once: name -> (the text of each PDF page, the print layout's measures, the PDF reader)."""
    pypdf = pytest.importorskip("pypdf", reason="pypdf reads the printed PDF's text: pip install -e '.[test]'")
    browser = _chromium()
    out = tmp_path_factory.mktemp("print")
    decisions = _decisions(policy)
    assert decisions[2].claim.claim_id == "G-03" and len(decisions[2].items) == 6  # 03-refusals: six items
    pages = {
        "explanation.zh": explain(policy, decisions[2], "zh", "html"),
        "explanation.en": explain(policy, decisions[2], "en", "html"),
        "report.zh": render_report(
            policy, [*decisions, ReportError("broken.json", "not valid JSON", ["broken.json:1:3: Expecting property name"])], "zh"
        ),
    }
    ARTEFACTS.mkdir(exist_ok=True)
    result = {}
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        tools = DevTools(browser, profile)
        try:
            for name, html in pages.items():
                page = out / f"{name}.html"
                page.write_text(html, encoding="utf-8")
                pdf, measured = tools.print_page(page.as_uri())
                (ARTEFACTS / f"print-{name}.pdf").write_bytes(pdf)
                reader = pypdf.PdfReader(ARTEFACTS / f"print-{name}.pdf")
                texts = [p.extract_text().translate(RADICALS) for p in reader.pages]
                result[name] = (texts, measured, reader)
        finally:
            tools.close()
    return result


def _pages_needed(measured: dict[str, Any]) -> int:
    """The pages the content needs: its height laid out for print over a page's printable height, rounded up, and one
    more for what is moved to the next page whole (a heading kept with its text, a clause, the sign-off block)."""
    return math.ceil(measured["height"] / PRINT_HEIGHT) + 1


@pytest.mark.parametrize("name", ["explanation.zh", "explanation.en", "report.zh"])
def test_a4_and_nothing_wider_than_the_page(printed: dict[str, Any], name: str) -> None:
    _, measured, reader = printed[name]
    for page in reader.pages:
        box = page.mediabox
        assert abs(float(box.width) - A4_PT[0]) < 1 and abs(float(box.height) - A4_PT[1]) < 1, (name, box)
    # every element's right edge, laid out for print at the printable width (703 px), is within it
    assert measured["right"] <= PRINT_WIDTH + 0.5, f"{name}: {measured['right']:.1f} px > {PRINT_WIDTH:.1f} px: {measured['widest']}"


@pytest.mark.parametrize("name", ["explanation.zh", "explanation.en"])
def test_six_items_flow_across_pages(printed: dict[str, Any], name: str) -> None:
    texts, measured, _ = printed[name]
    needed = _pages_needed(measured)
    assert len(texts) <= needed, f"{name}: {len(texts)} pages for content of {measured['height']} px ({needed} pages at most)"
    # items share pages: an item too long for the rest of a page starts there all the same, under the end of the one
    # before (kept whole, each would start at the top of a page of its own), for most of items 2 to 6
    word = "事项" if name.endswith("zh") else "Item"
    items = ("u1", "c1", "a1", "n1", "p2", "l9")  # the six items of 03-refusals, in order
    below = 0
    for n, ident in enumerate(items, 1):
        heading = re.compile(rf"(?m)^{n}\. {word} {ident} ")
        found = [(i, t, m.start()) for i, t in enumerate(texts) if (m := heading.search(t))]
        assert len(found) == 1, (n, ident, [i for i, _, _ in found])
        _, text, at = found[0]
        before = text[:at].split("\n")[2:]  # below the running header
        below += n > 1 and any(line.strip() for line in before)
    assert below >= 3, below


def test_explanation_names_its_application_and_page_on_every_page(printed: dict[str, Any]) -> None:
    texts, _, _ = printed["explanation.zh"]
    n = len(texts)
    for i, text in enumerate(texts, 1):
        assert "申报审查说明 · 申请编号：G-03" in text, (i, text[:200])
        assert f"第 {i} 页，共 {n} 页" in text, (i, text[-200:])
    texts, _, _ = printed["explanation.en"]
    n = len(texts)
    for i, text in enumerate(texts, 1):
        assert "Application" in text and "G-03" in text.split("\n", 2)[0] + text.split("\n", 2)[1], (i, text[:200])
        assert f"Page {i} of {n}" in text, (i, text[-200:])


def test_explanation_ends_with_the_sign_off_block(printed: dict[str, Any]) -> None:
    texts, _, _ = printed["explanation.zh"]
    whole = "\n".join(texts)
    assert whole.count("审核签署") == 1
    last = texts[-1]  # the block, whole on the last page: its heading and the three labels
    assert all(word in last for word in ("审核签署", "审核意见", "审核人", "日期")), last
    texts, _, _ = printed["explanation.en"]
    assert all(word in texts[-1] for word in ("Review and sign-off", "Reviewer's opinion", "Reviewer", "Date")), texts[-1]


def test_report_pages_name_their_application_and_page(printed: dict[str, Any]) -> None:
    texts, measured, _ = printed["report.zh"]
    n = len(texts)
    assert n <= _pages_needed(measured) + 13, n  # each of the 13 entries starts a page of its own (at most one page more each)
    heads = []
    for i, text in enumerate(texts, 1):
        assert f"第 {i} 页，共 {n} 页" in text, (i, text[-200:])
        head = text.split("\n", 1)[0]
        assert head.startswith("申报审查汇总 · "), (i, head)
        heads.append(head.removeprefix("申报审查汇总 · "))
    # the index pages first (the policy's title), then each application's pages with its number, in order, then the
    # unreadable file's; the generator's line stays on the last application's page
    ids = [f"G-{k:02d}" for k in range(1, 13)]
    shown = [h for i, h in enumerate(heads) if i == 0 or h != heads[i - 1]]
    assert shown == ["平谷区知识产权促进办法", *(f"申请编号：{c}" for c in ids), "无法处理：broken.json"], shown
    # every application's first page shows its section's heading under its own header
    for c in ids:
        first = heads.index(f"申请编号：{c}")
        assert "申报审查说明 · " in texts[first], (c, texts[first][:200])


def test_report_has_a_sign_off_block_per_application_and_for_the_round(printed: dict[str, Any]) -> None:
    texts, _, _ = printed["report.zh"]
    blocks = [i for i, t in enumerate(texts) for _ in range(t.count("审核签署"))]
    assert len(blocks) == 12 + 1, blocks  # one per application (12 decided; none for the unreadable file), one for the index
    for i in blocks:  # each whole on one page
        assert all(w in texts[i] for w in ("审核意见", "审核人", "日期")), texts[i]
    heads = [t.split("\n", 1)[0] for t in texts]
    assert heads[blocks[0]].endswith("平谷区知识产权促进办法")  # the round's, on an index page
    assert [heads[i].rsplit("：", 1)[-1] for i in blocks[1:]] == [f"G-{k:02d}" for k in range(1, 13)]


def test_running_header_cannot_leave_its_css_string(policy: engine.CompiledPolicy) -> None:
    """The application number goes into the style sheet (the running header's `content`): a quote, backslash, `<`
    or `&` of it is a CSS hex escape (a control character is refused with the claim), so it ends neither the string nor the <style> element."""
    evil = 'X"; } body { display: none } /* \\ </style><script>alert(1)</script>&amp;'
    page = explain(policy, engine.evaluate(policy, claim(item("invention_patent_grant"), claim_id=evil)), "zh", "html")
    style = page.split("<style>", 1)[1].split("</style>", 1)[0]
    assert "<" not in style
    header = re.search(r'@top-left \{ content: ("[^"]*"); \}', style)
    assert header is not None, style[-400:]
    # 申请编号：X then `"` as \000022, `;` kept, ` } body { display` with its braces as \00007b/\00007d, ...
    assert header.group(1).startswith(
        '"申报审查说明 · 申请编号：X\\000022; \\00007d body \\00007b display: none \\00007d /\\00002a \\00005c \\00003c/style\\00003e'
    )
    assert header.group(1).endswith('\\000026amp;"')
    # and in the report, per application
    report = render_report(policy, [engine.evaluate(policy, claim(item("invention_patent_grant"), claim_id=evil))], "zh")
    assert report.split("<style>", 1)[1].split("</style>", 1)[0].count("<") == 0


def test_the_model_carries_the_sign_off_words(policy: engine.CompiledPolicy) -> None:
    """The words of the printed page are the catalogue's, in the model (the templates only lay them out); the plain
    text and Markdown show no sign-off block."""
    decision = engine.evaluate(policy, claim(item("invention_patent_grant")))
    zh = engine.explanation(policy, decision, lang="zh").sign_off
    assert tuple(zh) == ("审核签署", "审核意见", "审核人", "日期", "第 {page} 页，共 {pages} 页")
    en = engine.explanation(policy, decision, lang="en").sign_off
    assert tuple(en) == ("Review and sign-off", "Reviewer's opinion", "Reviewer", "Date", "Page {page} of {pages}")
    for fmt in ("text", "md"):
        assert "审核意见" not in explain(policy, decision, "zh", fmt)
    html = explain(policy, decision, "zh", "html")
    assert html.count('<section class="sign-off">') == 1 and '<th scope="row">审核意见</th>' in html
    assert '@bottom-right { content: "第 " counter(page) " 页，共 " counter(pages) " 页"; }' in html
