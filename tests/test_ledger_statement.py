"""`ledger statement`: what an auditor asks of one enterprise, from the ledger alone. The figures are the example
round's (examples/round_2021.jsonl), worked by hand from the measures (a ledger clerk's review, session 30: the tools
listed grants as JSON Lines with English rule ids, no clause, no funds returned, no room left, and no spreadsheet)."""

from __future__ import annotations

import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import ENTERPRISE_ID
from test_ledger_support import commit_round, reverse_at_cli
from test_ledger_support import run_cli as run

import engine
from engine.records.ledger import Ledger
from engine.records.statement import statement

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "pinggu_2020.yaml"


@pytest.fixture
def ledger_url(tmp_path: Path) -> str:
    """The example round committed, then t1 (国家知识产权优势企业, 10万: 第七条第（一）项) reversed in full on 2023-04-01."""
    url = f"sqlite:///{tmp_path}/ledger.sqlite"
    r = commit_round(tmp_path, url)
    assert r.returncode == 3, r.stderr  # (the example's deliberate bad row)
    r = reverse_at_cli(tmp_path, url, "PG-2022-0001", "t1", reason="以虚假材料取得")
    assert r.returncode == 0, r.stderr
    return url


def test_an_enterprises_grants_returns_and_room(ledger_url: str) -> None:
    """PG-2022-0001 (the example enterprise): p1 8,400 × 50% = 4,200 (第五条第（一）项); l1 500,000 × 50% = 250,000 and
    l2 200,000 × 50% = 100,000 cut to 50,000 by the 30万 yearly cap (第六条第（一）项); a1 中国专利奖银奖 40万 (第五条第（二）项);
    t1 10万, returned in full. Granted 804,200.00, returned 100,000.00, net 704,200.00 (i1 is incomplete: no grant). The
    pledge cap is used up (300,000 of 300,000); the pledge limit has counted 2 loans of its 3 (R29); the returned title
    still counts (a reversal frees nothing)."""
    policy = engine.load_policy(POLICY)
    with Ledger(ledger_url) as ledger:
        s = statement(ledger, [policy], ENTERPRISE_ID)
    assert [(g.item_id, g.cites, g.amount, g.returned) for g in s.grants] == [
        ("p1", "第五条第（一）项", Decimal("4200.00"), Decimal(0)),
        ("l1", "第六条第（一）项", Decimal("250000.00"), Decimal(0)),
        ("l2", "第六条第（一）项", Decimal("50000.00"), Decimal(0)),
        ("a1", "第五条第（二）项", Decimal("400000.00"), Decimal(0)),
        ("t1", "第七条第（一）项", Decimal("100000.00"), Decimal("100000.00")),
    ]
    assert (s.granted, s.returned, s.net) == (Decimal("804200.00"), Decimal("100000.00"), Decimal("704200.00"))
    [cap] = [r for r in s.rooms if r.kind == "cap"]
    assert (cap.cites, cap.scope, cap.used, cap.ceiling, cap.left) == (
        "第六条第（一）项",
        (ENTERPRISE_ID, 2021),
        Decimal("300000.00"),
        Decimal("300000"),
        Decimal(0),
    )
    pledges = next(r for r in s.rooms if r.kind == "limit" and r.cites == "第六条第（一）项")
    assert (pledges.used, pledges.ceiling, pledges.left) == (2, 3, 1)
    title = next(r for r in s.rooms if r.kind == "limit" and r.cites == "第七条第（一）项")
    assert (title.used, title.left) == (1, 0)
    assert [(v["item_id"], v["returned"], v["decided_on"]) for v in s.reversals] == [("t1", "100000.00", "2023-04-01")]


def test_the_statement_in_chinese_and_as_a_workbook(ledger_url: str, tmp_path: Path) -> None:
    import openpyxl

    def said(*more: str) -> subprocess.CompletedProcess[str]:
        return run(
            tmp_path,
            "--lang",
            "zh",
            "ledger",
            "statement",
            "--ledger",
            ledger_url,
            "--policy",
            str(POLICY),
            "--applicant",
            ENTERPRISE_ID,
            *more,
        )

    r = said("--out", "对账单.xlsx")
    assert r.returncode == 0, r.stderr
    assert (
        "  2021 年度  申请 PG-2022-0001  事项 t1  第七条第（一）项 国家知识产权示范/优势企业称号：核定 100,000.00 元，已追回 100,000.00 元"
        in r.stdout
    )
    assert "  合计：核定 804,200.00 元，已追回 100,000.00 元，净额 704,200.00 元" in r.stdout
    assert "：已用 300,000.00 元，上限 300,000.00 元，剩余 0.00 元" in r.stdout
    assert "追回 1：申请 PG-2022-0001 事项 t1，退回 100,000.00 元，决定日期 2023-04-01（以虚假材料取得）" in r.stdout
    book = openpyxl.load_workbook(tmp_path / "对账单.xlsx")
    assert book.sheetnames == ["支持记录", "额度使用", "追回与认定"]
    rows = list(book["支持记录"].iter_rows(values_only=True))
    assert rows[0] == ("申报年度", "申请编号", "事项编号", "条款", "事项类型", "核定金额", "已追回", "净额")
    assert rows[-1][0] == "合计" and rows[-1][5:] == (804200, 100000, 704200)  # numbers a spreadsheet sums
    # a year without grants lists none, and still says the room as it stands
    r = said("--year", "2022")
    assert "该申请人在台账中没有 2022 申报年度的现行支持" in r.stdout and "剩余 0.00 元" in r.stdout
    # reversals and findings are listed too (they were only counted)
    r = run(tmp_path, "--lang", "zh", "ledger", "reversals", "--ledger", ledger_url)
    assert (r.returncode, len(r.stdout.splitlines()), r.stderr.strip()) == (0, 1, "共 1 笔追回记录（每笔一行 JSON，输出到标准输出）")
    r = run(tmp_path, "--lang", "zh", "ledger", "findings", "--ledger", ledger_url)
    assert (r.returncode, r.stdout, r.stderr.strip()) == (0, "", "共 0 项认定事实（每项一行 JSON，输出到标准输出）")
    r = run(tmp_path, "--lang", "zh", "ledger", "statement", "--ledger", ledger_url)
    assert r.returncode == 2 and "statement 需要 --applicant" in r.stderr


def test_a_scope_is_said_by_the_applicants_name_and_the_policys_words_with_the_code_after(ledger_url: str, tmp_path: Path) -> None:
    """A cap's or limit's scope was its codes (`范围 91110117MA01ABCD1F、advantage`). The applicant is said by its name
    as its decision on record gives it (北京平谷示例科技有限公司, examples/round_2021.jsonl), the title by the policy's
    words for it (国家知识产权优势企业); each code after; a patent number and a year as they are."""
    import openpyxl

    from engine.records.statement import statement_text, write_statement

    with Ledger(ledger_url) as ledger:
        s = statement(ledger, [engine.load_policy(POLICY)], ENTERPRISE_ID)
    zh = statement_text(s, "zh")
    name = "北京平谷示例科技有限公司"
    assert f"（每个称号一次性奖励；范围 {name}（{ENTERPRISE_ID}）、国家知识产权优势企业（advantage））：已计 1 次" in zh
    assert f"；范围 {name}（{ENTERPRISE_ID}）、2021）：已用 300,000.00 元" in zh
    assert "（每件发明专利支持一次；范围 ZL202010000001.1）：已计 1 次" in zh
    en = statement_text(s, "en")
    assert f"(each title is rewarded once; scope {name} ({ENTERPRISE_ID}), national IP advantage enterprise (advantage)): counted 1" in en
    write_statement(s, tmp_path / "s.xlsx", "zh")
    scopes = [r[3] for r in openpyxl.load_workbook(tmp_path / "s.xlsx")["额度使用"].iter_rows(min_row=2, values_only=True)]
    assert f"{name}（{ENTERPRISE_ID}）、国家知识产权优势企业（advantage）" in scopes
    [cap] = [r for r in s.rooms if r.kind == "cap"]
    assert cap.scope == (ENTERPRISE_ID, 2021)  # (the codes themselves are kept: the service's JSON gives them)


def test_the_statement_is_headed_by_the_applicants_name_with_its_code_after(ledger_url: str, tmp_path: Path) -> None:
    """The statement was headed by the code alone (`申请人 91110117MA01ABCD1F 的台账记录`), while its scopes said the
    applicant by name. It is headed as a scope says it: the name its latest decision on record gives
    (examples/round_2021.jsonl: 北京平谷示例科技有限公司), the code after; an applicant the ledger holds no decision
    of is headed by the code written, alone."""
    from engine.records.statement import statement_text

    policy = engine.load_policy(POLICY)
    with Ledger(ledger_url) as ledger:
        every, of_2021 = statement(ledger, [policy], ENTERPRISE_ID), statement(ledger, [policy], ENTERPRISE_ID, 2021)
        unknown = statement(ledger, [policy], "91110117MA01ABCD1X")
    name = "北京平谷示例科技有限公司"
    assert (
        statement_text(every, "zh").splitlines()[0] == f"申请人 {name}（{ENTERPRISE_ID}） 的台账记录（现行的支持；封顶和次数按台账现状）："
    )
    assert statement_text(every, "en").splitlines()[0] == (
        f"applicant {name} ({ENTERPRISE_ID}) in the ledger (grants in force; caps and limits as the ledger stands):"
    )
    assert statement_text(of_2021, "zh").splitlines()[0] == (
        f"申请人 {name}（{ENTERPRISE_ID}） 在 2021 申报年度的台账记录（封顶和次数按台账现状，含其他年度）："
    )
    assert statement_text(unknown, "zh").splitlines()[0] == "申请人 91110117MA01ABCD1X 的台账记录（现行的支持；封顶和次数按台账现状）："
    r = run(tmp_path, "--lang", "zh", "ledger", "statement", "--ledger", ledger_url, "--policy", str(POLICY), "--applicant", ENTERPRISE_ID)
    assert r.returncode == 0 and r.stdout.startswith(f"申请人 {name}（{ENTERPRISE_ID}） 的台账记录"), r.stdout[:200]


def test_an_applicant_id_typed_wrong_is_said_with_the_nearest(ledger_url: str, tmp_path: Path) -> None:
    """91110117MA01ABCD1X for …1F (its check character): '0 笔资助记录' read as "received nothing"."""
    for action in ("grants", "statement"):
        r = run(tmp_path, "--lang", "zh", "ledger", action, "--ledger", ledger_url, "--applicant", "91110117MA01ABCD1X")
        assert f"台账中没有这个申请人代码：是不是 {ENTERPRISE_ID}？" in r.stderr, action
    # the company's name for its code: it was told to check the check character
    r = run(tmp_path, "--lang", "zh", "ledger", "grants", "--ledger", ledger_url, "--applicant", "北京平谷示例科技有限公司")
    said = "'北京平谷示例科技有限公司' 是名称，不是申请人代码：--applicant 请填写统一社会信用代码或居民身份证号码（与申请中填写的一致）"
    assert said in r.stderr and "校验位" not in r.stderr
    r = run(tmp_path, "--lang", "zh", "ledger", "grants", "--ledger", ledger_url, "--applicant", "91110117MA09ZZZZ9Z")
    assert "台账中没有这个申请人代码（按申请中填写的代码查找，请核对校验位）" in r.stderr


def test_without_the_policy_a_ceiling_is_not_known_and_is_not_said_computed(ledger_url: str) -> None:
    """Without the version that made the grants (`ledger statement` with no --policy) the pledge cap's ceiling cannot be
    known: the statement said "ceiling computed from the claim's facts", which the 30万 yearly cap of 第六条第（一）项 is not.
    What is known is still said: 250,000 + 50,000 = 300,000.00 used in the scope (the enterprise, 2021), under the cap's
    id, not after an empty clause ("  的封顶（pledge-annual-cap；…", "  cap of  (pledge-annual-cap; …")."""
    from engine.core.i18n import use_language
    from engine.records.statement import statement_text

    policy = engine.load_policy(POLICY)
    with Ledger(ledger_url) as ledger:
        bare, full = statement(ledger, [], ENTERPRISE_ID), statement(ledger, [policy], ENTERPRISE_ID)
    with use_language("en"):
        [cap] = [line for line in statement_text(bare, "en").splitlines() if line.startswith("  cap ")]
        assert cap == (
            f"  cap pledge-annual-cap (scope {ENTERPRISE_ID}, 2021): CNY 300,000.00 used, "
            "ceiling not known: the policy version that made these grants was not given (add --policy)"
        ), cap
        caps = [line for line in statement_text(full, "en").splitlines() if line.startswith("  cap of 第六条第（一）项")]
        assert len(caps) == 1 and caps[0].endswith("CNY 300,000.00 used, ceiling CNY 300,000.00, CNY 0.00 left"), caps
    with use_language("zh"):
        [cap] = [line for line in statement_text(bare, "zh").splitlines() if line.startswith("  封顶 ")]
        assert (
            cap
            == f"  封顶 pledge-annual-cap（范围 {ENTERPRISE_ID}、2021）：已用 300,000.00 元，上限不详：未指定作出这些资助的政策版本（请加 --policy）"
        )
        # a grant's line names its rule once (it was "pledge-loan-interest pledge-loan-interest": the rule's id
        # standing for the clause and for the item type, neither known without the version)
        grants = [line for line in statement_text(bare, "zh").splitlines() if "pledge-loan-interest" in line]
        assert grants == [
            "  2021 年度  申请 PG-2022-0001  事项 l1  规则 pledge-loan-interest：核定 250,000.00 元",
            "  2021 年度  申请 PG-2022-0001  事项 l2  规则 pledge-loan-interest：核定 50,000.00 元",
        ], grants
        assert "  2021 年度  申请 PG-2022-0001  事项 l1  第六条第（一）项 知识产权质押贷款贴息：核定 250,000.00 元" in statement_text(
            full, "zh"
        )


# --- an applicant with no grant in force: said plainly, and why (a ledger clerk's review, session 40: the statement
# was headed by the code and said "没有现行的支持记录" alone, and the command then said on stderr that the ledger had no
# applicant of that id -- "did you mean" the very id typed -- for an applicant whose application was on record)


def lines_of(s: object, lang: str) -> list[str]:
    from engine.records.statement import statement_text

    return statement_text(s, lang).splitlines()  # type: ignore[arg-type]


def test_an_applicant_on_record_with_nothing_granted_is_said_so_and_not_taken_for_a_slip(ledger_url: str, tmp_path: Path) -> None:
    """PG-2022-0005 (91110117MA05AGEN75, the example round's agency) is committed and has no grant: s1 and n1 were not
    granted. The ledger has its one application."""
    agency = "91110117MA05AGEN75"
    policy = engine.load_policy(POLICY)
    with Ledger(ledger_url) as ledger:
        s = statement(ledger, [policy], agency)
    assert (s.grants, s.applications, s.replaced) == ((), 1, 0)
    assert lines_of(s, "zh")[1:3] == [
        "  该申请人在台账中没有现行的支持：记入台账的 1 份申请均未获核定支持",
        "  合计：核定 0.00 元，已追回 0.00 元，净额 0.00 元",
    ]
    assert (
        lines_of(s, "en")[1] == "  this applicant has no grant in force in the ledger: none of its 1 application(s) on record was granted"
    )
    r = run(tmp_path, "--lang", "zh", "ledger", "statement", "--ledger", ledger_url, "--applicant", agency)
    assert r.returncode == 0 and "没有这个申请人代码" not in r.stderr, r.stderr
    r = run(tmp_path, "--lang", "zh", "ledger", "grants", "--ledger", ledger_url, "--applicant", agency)
    assert r.returncode == 0 and "没有这个申请人代码" not in r.stderr, r.stderr


def test_an_applicant_the_ledger_has_no_record_of_is_said_so(ledger_url: str, tmp_path: Path) -> None:
    """91110117MA09ZZZZ9Z committed nothing: no application, grant, reversal or finding (the nearest-id words follow on
    stderr, as before)."""
    with Ledger(ledger_url) as ledger:
        s = statement(ledger, [], "91110117MA09ZZZZ9Z")
    assert lines_of(s, "zh")[1] == "  台账中没有该申请人的任何记录：没有记入台账的申请，也没有支持、追回或认定"
    assert (
        lines_of(s, "en")[1] == "  the ledger has no record of this applicant: no application committed, and no grant, reversal or finding"
    )
    r = run(tmp_path, "--lang", "zh", "ledger", "statement", "--ledger", ledger_url, "--applicant", "91110117MA09ZZZZ9Z")
    assert "台账中没有这个申请人代码（按申请中填写的代码查找，请核对校验位）" in r.stderr


def test_a_year_without_grants_says_so_and_that_reversals_are_on_record(ledger_url: str) -> None:
    """The example enterprise was granted in 2021 only, and its t1 was reversed: its 2022 statement has no grant line."""
    with Ledger(ledger_url) as ledger:
        s = statement(ledger, [], ENTERPRISE_ID, 2022)
    assert lines_of(s, "zh")[1:3] == [
        "  该申请人在台账中没有 2022 申报年度的现行支持（其他年度的支持不在此列）",
        "  该申请人有 1 笔追回记录，列在下方",
    ]
    assert lines_of(s, "en")[1:3] == [
        "  this applicant has no grant in force in the ledger for funding year 2022 (grants of other years are not listed)",
        "  this applicant has 1 reversal(s) on record, listed below",
    ]


def test_grants_returned_in_full_are_said_so(ledger_url: str, tmp_path: Path) -> None:
    """张三 (110117198503120026) was granted 3,000.00 for p1 (第五条第（一）项); it is reversed in full: net 0.00."""
    r = reverse_at_cli(tmp_path, ledger_url, "PG-2022-0004", "p1", reason="以虚假材料取得")
    assert r.returncode == 0, r.stderr
    with Ledger(ledger_url) as ledger:
        s = statement(ledger, [engine.load_policy(POLICY)], "110117198503120026")
    assert lines_of(s, "zh")[2:4] == [
        "  以上支持已全部追回：净额 0.00 元（追回不释放额度）",
        "  合计：核定 3,000.00 元，已追回 3,000.00 元，净额 0.00 元",
    ]
    assert lines_of(s, "en")[2] == "  every grant above was returned in full: net CNY 0.00 (returned funds free no room)"
    # the enterprise's 100,000.00 returned of 804,200.00 is not all: no such line
    with Ledger(ledger_url) as ledger:
        assert not [x for x in lines_of(statement(ledger, [], ENTERPRISE_ID), "zh") if "全部追回" in x]


def test_grants_replaced_by_a_later_decision_are_said_so(tmp_path: Path) -> None:
    """A-1's patent insurance: 40,000 premium × 50% = 20,000.00 granted; the claim is decided again, replaced, on a
    premium the applicant did not pay in full (nothing granted): the first grant is replaced, none is in force."""
    from conftest import claim, item

    policy = engine.load_policy(POLICY)
    with Ledger(f"sqlite:///{tmp_path}/l.sqlite") as ledger:
        first = ledger.commit(policy, claim(item("patent_insurance", "i1", premium_paid="40000.00"), claim_id="A-1"))
        assert first.decision["total"] == "20000.00"
        again = claim(item("patent_insurance", "i1", premium_paid="40000.00"), claim_id="A-1")
        again["applicant"]["pays_tax_in_district"] = False  # (第三条: refused)
        assert ledger.commit(policy, again, replace=True).decision["total"] == "0.00"
        s = statement(ledger, [policy], ENTERPRISE_ID)
    assert (s.grants, s.applications, s.replaced) == ((), 1, 1)
    assert lines_of(s, "zh")[1] == "  该申请人在台账中没有现行的支持：原有的 1 笔支持已被其申请重新审核后的决定替换"
    assert (
        lines_of(s, "en")[1]
        == "  this applicant has no grant in force in the ledger: its 1 grant(s) were replaced by a later decision of their claim"
    )
