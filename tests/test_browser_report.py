"""The reviewer's report and one explanation, opened in a real headless Chromium.

Chromium comes from Debian's `chromium` package; `.ci/start-chromium.sh` installs it
on CI. Checks are made on the DOM *after* the page's own script ran (`--dump-dom`):
clause text, amounts, index links and their targets, filtering and sorting. A
desktop screenshot of the report, a phone-sized one of an explanation and an A4 PDF
print are saved under tests/artefacts/ (git-ignored).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import claim, item

import engine
from engine.explaining.render import ReportError, explain, render_report
from engine.records.inputs import read_document

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden"
ARTEFACTS = HERE / "artefacts"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def _chromium() -> str:
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if candidate and shutil.which(candidate):
            return str(shutil.which(candidate))
    pytest.skip(
        "no Chromium on this machine and none could be installed here: install Debian's `chromium` package "
        "(`.ci/start-chromium.sh` does it as root) or set CHROMIUM=/path/to/chromium"
    )


def _run(browser: str, *args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        return subprocess.run(
            [browser, *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )


@pytest.fixture(scope="module")
def pages(policy: engine.CompiledPolicy, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Render the pages, then run every Chromium job in parallel, once."""
    browser = _chromium()
    out = tmp_path_factory.mktemp("browser")
    decisions = []
    for path in sorted(GOLDEN.glob("*.claim.json")):
        data, _ = read_document(path)
        decisions.append(engine.evaluate(policy, data))
    evil = engine.evaluate(
        policy, claim(item("invention_patent_grant"), claim_id="C-EVIL", name="<script>document.title='pwned'</script>恶意公司")
    )
    entries: list[object] = [*decisions, ReportError("broken.json", "not valid JSON", ["broken.json:1:3: Expecting property name"]), evil]
    report = out / "report.html"
    report.write_text(render_report(policy, entries, "zh"), encoding="utf-8")  # type: ignore[arg-type]
    from test_render_golden import scaled_round_decisions  # a round scaled to its 30万 budget (figures worked there)

    scaled_policy, *scaled = scaled_round_decisions(out / "scaled-round")
    scaled_report = out / "scaled-report.html"
    scaled_report.write_text(render_report(scaled_policy, scaled, "zh"), encoding="utf-8")  # type: ignore[arg-type]
    one = out / "explanation.html"
    one.write_text(explain(policy, decisions[0], "en", "html"), encoding="utf-8")
    ARTEFACTS.mkdir(exist_ok=True)
    jobs = {
        "report_dom": ("--dump-dom", report.as_uri()),
        "report_sorted_dom": ("--dump-dom", report.as_uri() + "?flag=reduced&sort=total&dir=desc"),
        "explanation_dom": ("--dump-dom", one.as_uri()),
        "scaled_dom": ("--dump-dom", scaled_report.as_uri() + "?flag=scaled"),
        "report_png": ("--window-size=1280,2200", f"--screenshot={ARTEFACTS / 'report.png'}", report.as_uri()),
        "phone_png": ("--window-size=390,1600", f"--screenshot={ARTEFACTS / 'explanation-phone.png'}", one.as_uri()),
        "pdf": ("--no-pdf-header-footer", f"--print-to-pdf={ARTEFACTS / 'explanation.pdf'}", one.as_uri()),
    }
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {k: pool.submit(_run, browser, *args) for k, args in jobs.items()}
        results = {k: f.result() for k, f in futures.items()}
    for k, r in results.items():
        assert r.returncode == 0, f"chromium {k} failed ({r.returncode}): {r.stderr[-2000:]}"
    return {"results": results, "count": len(entries)}


def _dom(pages: dict[str, object], key: str) -> str:
    results = pages["results"]
    assert isinstance(results, dict)
    dom = results[key].stdout
    assert "</html>" in dom, f"{key}: no DOM dumped"
    return str(dom)


def test_report_page_has_index_links_clauses_and_amounts(pages: dict[str, object]) -> None:
    dom = _dom(pages, "report_dom")
    assert 'data-js="ready"' in dom  # the page's own script ran
    n = pages["count"]
    assert isinstance(n, int)
    for i in range(1, n + 1):
        assert f'href="#app-{i}"' in dom, f"index link {i} missing"
        assert f'id="app-{i}"' in dom, f"link target {i} missing"
    # clause text, verbatim, and amounts as the reader sees them (01: 30 万 cap, 100,000 cut to 50,000)
    assert "每家企业每年享受贴息补助最高不超过 30 万元。" in dom
    assert "本项按规定可得 100,000.00 元，核减 50,000.00 元。" in dom
    assert "454,200.00 元" in dom  # 01: 4,200 + 250,000 + 50,000 + 100,000 + 50,000
    assert "1,100,000.00 元" in dom  # 07: 1,000,000 (platform, capped) + 100,000 (agency, capped)
    # the applicant's <script> is text, never an element, and never ran
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;恶意公司" in dom
    assert "<title>pwned" not in dom and "<script>document.title" not in dom
    assert "无法处理：broken.json" in dom


def test_report_filters_and_sorts_in_the_browser(pages: dict[str, object]) -> None:
    dom = _dom(pages, "report_sorted_dom")
    rows = re.findall(r'<tr( class="error")? data-n="(\d+)" data-flags="([^"]*)"( hidden="")?', dom)
    assert rows, "no index rows"
    visible = [(int(n), flags) for _, n, flags, hidden in rows if not hidden]
    assert visible and all("reduced" in flags.split() for _, flags in visible)
    assert all("reduced" not in flags.split() for _, _, flags, hidden in rows if hidden)
    # sorted by total, largest first: among all rows, 07 (1,100,000.00) comes first
    totals = re.findall(r'<td class="num" data-v="(-?[0-9.]+)">', dom.split("<tbody>")[1].split("</tbody>")[0])
    amounts = [float(t) for t in totals[2::3]]  # per row: number, items, total
    assert amounts == sorted(amounts, reverse=True)
    assert amounts[0] == 1100000.0


def test_explanation_page(pages: dict[str, object]) -> None:
    dom = _dom(pages, "explanation_dom")
    assert "the interest subsidies enjoyed by each enterprise in each year shall not exceed CNY 300,000." in dom
    assert "loan interest paid in the funding year CNY 200,000.00 × 50% = CNY 100,000.00" in dom
    assert "Total granted: " in dom and "CNY 454,200.00" in dom


def test_screenshots_and_a4_print_are_saved(pages: dict[str, object]) -> None:
    for name in ("report.png", "explanation-phone.png"):
        png = (ARTEFACTS / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000, name
    pdf = (ARTEFACTS / "explanation.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    # @page { size: A4 } -> 595 x 842 points
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([0-9.]+)\s+([0-9.]+)\s*\]", pdf)
    assert boxes and all(abs(float(w) - 595.3) < 1 and abs(float(h) - 841.9) < 1 for w, h in boxes), boxes[:3]


def test_scaled_round_in_the_browser(pages: dict[str, object]) -> None:
    """Issue 4.9: the report of a round scaled to its budget shows, per item, before × factor → after with 第十三条,
    and per application the budget, approved total, factor and totals before/after; the `scaled` filter keeps both rows."""
    dom = _dom(pages, "scaled_dom")
    assert 'data-js="ready"' in dom
    rows = re.findall(r'<tr data-n="(\d+)" data-flags="([^"]*)"( hidden="")?', dom)
    assert [(n, hidden) for n, _, hidden in rows] == [("1", ""), ("2", "")]  # both scaled, neither hidden
    assert (
        "250,000.00 元 × 预算 300,000.00 元 ÷ 核定总额 350,000.00 元 = 214,285.7142…，向下舍至 0.01 元：214,285.71 元，按余数补 0.01 元 → 214,285.72 元（第十三条："
        in dom
    )
    assert "50,000.00 元 × 预算 300,000.00 元 ÷ 核定总额 350,000.00 元 = 42,857.1428…，向下舍至 0.01 元：42,857.14 元（第十三条：" in dom
    assert "资金预算 300,000.00 元，核定支持总额 350,000.00 元" in dom
    assert "本申请预算调减前合计 300,000.00 元，调减后合计 257,142.86 元" in dom
    assert "预算调减前 300,000.00 元" in dom  # in the index, under the total
    assert "根据上一年度支持或奖励资金申报情况，提出资金使用计划" in dom  # 第十三条, verbatim
