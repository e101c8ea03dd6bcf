"""`python -m engine ledger ...` refuses what it cannot do as asked: a read-only command never creates a ledger,
an unreachable server or an unknown URL is one line (no traceback), a finding and a reversal are checked before
anything is recorded. Exit codes are the CLI's: 1 invalid, 2 usage (engine.cli.EXIT_INVALID / EXIT_USAGE).
"""

from __future__ import annotations

import sqlite3
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import ENTERPRISE_ID, claim, item
from test_ledger_support import EXAMPLE_ROUND, commit_round, reverse_at_cli
from test_ledger_support import run_cli as run

from engine.cli import EXIT_INVALID, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE
from engine.core.i18n import tr
from engine.records.ledger import Ledger, LedgerError, LedgerMissing, LedgerUrlError, check_finding, check_reversal, masked_url

ROOT = Path(__file__).resolve().parent.parent
POLICY = str(ROOT / "policies" / "pinggu_2020.yaml")


def one_line_error(r: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in r.stderr, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


# --- 1. read-only commands never create a ledger -----------------------------------------


@pytest.mark.parametrize(
    ("args", "url"),
    [
        (("info",), "sqlite:///{tmp}/no/such/dir/x.sqlite"),
        (("grants", "--applicant", ENTERPRISE_ID), "sqlite:///typo-ledger.sqlite"),
        (("verify", "--policy", POLICY), "sqlite:///typo-ledger.sqlite"),
        (("grants",), "typo.sqlite"),
    ],
)
def test_read_only_commands_refuse_a_missing_ledger(tmp_path, args, url):
    url = url.format(tmp=tmp_path)
    r = run(tmp_path, "ledger", *args, "--ledger", url)
    assert r.returncode == EXIT_INVALID
    line = one_line_error(r)
    assert line.startswith(f"error: no ledger at {url if '://' in url else 'sqlite:///' + url}: ")
    assert r.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no directory, no file created


def test_read_only_commands_work_on_an_existing_ledger(policy, tmp_path):
    url = f"sqlite:///{tmp_path}/ledger.sqlite"
    with Ledger(url) as ledger:
        ledger.commit(policy, claim(item("ip_management_certification", "c1"), claim_id="C-2021"))
    r = run(tmp_path, "ledger", "info", "--ledger", url)
    assert r.returncode == EXIT_OK and '"active_grants": 1' in r.stdout
    r = run(tmp_path, "ledger", "verify", "--policy", POLICY, "--ledger", url)
    assert r.returncode == EXIT_OK and r.stderr.strip() == "0 violation(s)"


@pytest.mark.parametrize(
    ("written", "said"),
    [
        # (walk of session 35) each was "--returned '5万' 不是金额（请写数字，如 50000 或 50000.00）": the clerk was
        # shown 50000 as an example, not the digits of the amount typed. By hand: 5万 = 5 × 10,000 = 50000; 1,000
        # without its separator is 1000; 8000元 without its unit is 8000; full-width １００.００ is 100.00
        (
            "5万",
            "退回的金额（--returned）：'5万' 不符合规定的格式：金额用“万”（或 w）作单位；申请中的金额以元为单位；"
            '应为 以元为单位、只写数字的金额：5万 请写作 "50000"',
        ),
        (
            "1,000",
            "退回的金额（--returned）：'1,000' 不符合规定的格式：数字中有千位分隔符（逗号）；应为 去掉分隔符，只写数字：请写作 \"1000\"",
        ),
        (
            "8000元",
            "退回的金额（--returned）：'8000元' 不符合规定的格式：带有货币符号或单位；"
            '应为 只写元数，不带 ¥、RMB 或“元”等符号和单位：请写作 "8000"',
        ),
        (
            "１００.００",
            "退回的金额（--returned）：'１００.００' 不符合规定的格式：用了全角数字，或数字之间有空格；"
            '应为 改用半角数字（把输入法切换到半角或英文），数字之间不留空格：请写作 "100.00"',
        ),
    ],
)
def test_an_amount_returned_written_as_officers_write_it_says_the_digits_to_write(tmp_path, written, said):
    r = run(tmp_path, "--lang", "zh", "ledger", "reverse", "--claim", "C-1", "--item", "i1", "--reason", "追回", "--date",
            "2022-09-01", "--ledger", f"sqlite:///{tmp_path}/l.sqlite", "--returned", written)  # fmt: skip
    assert r.returncode == EXIT_INVALID
    assert r.stderr.startswith(said), r.stderr
    assert not (tmp_path / "l.sqlite").exists()  # (refused before the ledger is opened)


def test_info_and_grants_say_their_counts_in_the_readers_words(tmp_path):
    # (the docs review, session 24) a Chinese run printed JSON with English keys alone; the data stays on stdout for
    # a script, and the officer reads the counts on stderr (the total grouped as every other amount a tool says: it
    # was 804200.00, walk of session 35). By hand: the example round grants 10 items of 6
    # applications, 1,492,200.00 in all; the example enterprise's five are 4,200 + 250,000 + 50,000 + 400,000 +
    # 100,000 = 804,200.00 (its insurance item is incomplete: no grant)
    url = f"sqlite:///{tmp_path}/ledger.sqlite"
    assert commit_round(tmp_path, url).returncode == 3  # (the example's deliberate bad row)
    r = run(tmp_path, "--lang", "zh", "ledger", "info", "--ledger", url)
    assert r.returncode == EXIT_OK and '"active_grants": 10' in r.stdout
    assert r.stderr.startswith(f"台账 {url}：6 次记入（现行 6 次），10 笔资助（现行 10 笔），0 笔追回，0 项认定事实，")
    r = run(tmp_path, "--lang", "zh", "ledger", "grants", "--ledger", url, "--applicant", "91110117MA01ABCD1F")
    assert r.returncode == EXIT_OK and len(r.stdout.splitlines()) == 5
    assert r.stderr.startswith("申请人 91110117MA01ABCD1F：5 笔资助记录，其中现行（未被替换）5 笔，核定合计 804,200.00 元，0 笔有追回记录")
    r = run(tmp_path, "--lang", "en", "ledger", "grants", "--ledger", url)
    assert r.stderr.startswith("10 grant record(s), 10 in force (not replaced), CNY 1,492,200.00 granted in all, 0 with funds returned")


def test_info_says_the_rounds_scaled_to_a_budget_as_a_phrase_not_a_count_of_none(tmp_path):
    """`ledger info` said "0 个轮次的按预算调减" of a ledger no round was scaled in: a count of nothing. It says
    "没有轮次按预算调减" then, and "1 个轮次按预算调减" once the example round (1,492,200.00 granted) is scaled to a
    budget of 1,000,000 (English: "no round scaled to a budget", "1 round(s) scaled to a budget")."""
    import engine
    from engine.records.ledger import Ledger

    url = f"sqlite:///{tmp_path}/ledger.sqlite"
    assert commit_round(tmp_path, url).returncode == 3  # (the example's deliberate bad row)
    r = run(tmp_path, "--lang", "zh", "ledger", "info", "--ledger", url)
    assert "，0 项认定事实，没有轮次按预算调减，" in r.stderr and "0 个轮次" not in r.stderr
    r = run(tmp_path, "--lang", "en", "ledger", "info", "--ledger", url)
    assert ", 0 finding(s), no round scaled to a budget, " in r.stderr
    with Ledger(url) as ledger:
        [rnd] = {g["round"] for g in ledger.grants()}
        assert ledger.scale_round(rnd, Decimal("1000000"), Decimal("0.01"), engine.load_policy(POLICY)) is not None
    r = run(tmp_path, "--lang", "zh", "ledger", "info", "--ledger", url)
    assert "，0 项认定事实，1 个轮次按预算调减，" in r.stderr
    r = run(tmp_path, "--lang", "en", "ledger", "info", "--ledger", url)
    assert ", 0 finding(s), 1 round(s) scaled to a budget, " in r.stderr


def test_the_same_reverse_command_run_twice_records_once(tmp_path):
    # (carried since session 21) `ledger reverse` had no request key: a retry, or the same command run again by a
    # slip of the up arrow, recorded the funds returned twice. By hand: PG-2022-0001's l1 was granted 250,000.00
    # (500,000 × 50 %, 第六条第（一）项); 10,000 returned is recorded once however often the command runs, a second
    # time with --again, and 10000 and 10000.00 are the same amount
    url = f"sqlite:///{tmp_path}/ledger.sqlite"
    assert commit_round(tmp_path, url).returncode == 3  # (the example's deliberate bad row)
    args = ["--lang", "zh", "ledger", "reverse", "--ledger", url, "--claim", "PG-2022-0001", "--item", "l1"]
    args += ["--reason", "退回部分贴息", "--date", "2022-06-01", "--returned"]
    first = run(tmp_path, *args, "10000")
    assert (first.returncode, first.stdout, first.stderr) == (
        EXIT_OK,
        "1\n",
        "已记录追回，编号 1：申请 PG-2022-0001，事项 l1，退回 10,000.00 元，决定日期 2022-06-01（编号另输出到标准输出）。"
        "追回不会取消申报资格：如经认定弄虚作假，请另用 ledger finding 记录认定日期\n",
    )
    again = run(tmp_path, *args, "10000.00")
    assert (again.returncode, again.stdout) == (EXIT_OK, "1\n")
    assert again.stderr.startswith(
        "同样的追回此前已记录，编号 1：申请 PG-2022-0001，事项 l1；本次未重复记录（确为另一笔追回的，请加 --again"
    )
    second = run(tmp_path, *args, "10000", "--again")
    assert (second.returncode, second.stdout) == (EXIT_OK, "2\n")
    keyed = [run(tmp_path, *args, "5000", "--request-key", "平财追〔2022〕7号").stdout for _ in range(2)]
    assert keyed == ["3\n", "3\n"]
    with Ledger(url) as ledger:
        assert ledger.counts()["reversals"] == 3
    # (the last review of session 24) --again under a key, an empty key, and the whole grant written either way
    both = run(tmp_path, *args, "5000", "--request-key", "K", "--again")
    assert both.returncode == 2 and "--again（再记一笔）与 --request-key（同一请求键只记一笔）不能同时使用" in both.stderr
    assert run(tmp_path, *args, "5000", "--request-key", "").returncode == 1  # (refused by the ledger, in one line)
    whole = ["--lang", "zh", "ledger", "reverse", "--ledger", url, "--claim", "PG-2022-0001", "--item", "p1"]
    whole += ["--reason", "退回", "--date", "2022-06-01"]  # p1: 8,400 of fees × 50 % = 4,200.00 granted
    assert run(tmp_path, *whole).stdout == "4\n"
    said = run(tmp_path, *whole, "--returned", "4200")
    assert (said.returncode, said.stdout) == (EXIT_OK, "4\n") and said.stderr.startswith("同样的追回此前已记录，编号 4")


def test_an_empty_file_is_not_a_ledger_for_a_read_only_command(tmp_path):
    (tmp_path / "empty.sqlite").write_bytes(b"")
    with pytest.raises(LedgerMissing, match="holds no ledger tables"):
        Ledger(f"sqlite:///{tmp_path}/empty.sqlite", create=False)
    assert (tmp_path / "empty.sqlite").read_bytes() == b""


def test_writing_commands_still_create_the_ledger(policy, tmp_path):
    url = f"sqlite:///{tmp_path}/ledger.sqlite"
    r = run(
        tmp_path,
        "ledger",
        "finding",
        "--policy",
        POLICY,
        "--applicant",
        ENTERPRISE_ID,
        "--fact",
        "fraud_finding_dates",
        "--value",
        "2021-06-30",
        "--reason",
        "fraud found",
        "--ledger",
        url,
    )
    assert r.returncode == EXIT_OK, r.stderr
    with Ledger(url, create=False) as ledger:
        assert ledger.facts_on_record(ENTERPRISE_ID) == {"fraud_finding_dates": ["2021-06-30"]}


def test_a_ledger_is_not_made_in_a_folder_that_does_not_exist(policy, tmp_path):
    """A mistyped folder made a new, empty ledger there (and its folders): caps and limits were then checked against
    no history, and the commit went where no one would look. The folder must exist; the command says so."""
    url = f"sqlite:///{tmp_path}/typo/dir/ledger.sqlite"
    args = ["--applicant", ENTERPRISE_ID, "--fact", "fraud_finding_dates", "--value", "2021-06-30", "--reason", "fraud found"]
    r = run(tmp_path, "--lang", "zh", "ledger", "finding", "--policy", POLICY, *args, "--ledger", url)
    assert r.returncode != EXIT_OK
    assert f"文件夹 {tmp_path}/typo/dir 不存在" in r.stderr
    assert not (tmp_path / "typo").exists()


# --- 2. unreachable server, unknown URL ------------------------------------------------


def test_unreachable_postgresql_is_one_line_with_the_password_masked(tmp_path):
    pytest.importorskip("psycopg")
    url = "postgresql://postgres:s3cret@127.0.0.1:1/nodb"  # port 1: nothing listens there
    for args in (
        ("ledger", "info", "--ledger", url),
        ("batch", "--policy", POLICY, str(EXAMPLE_ROUND), "-q", "--ledger", url),
    ):
        r = run(tmp_path, *args, *(["--out", str(tmp_path / "o")] if args[0] == "batch" else []))
        assert r.returncode == EXIT_INVALID
        line = one_line_error(r)
        assert line.startswith("error: cannot connect to the ledger postgresql://postgres:***@127.0.0.1:1/nodb: ")
        assert "s3cret" not in r.stderr and "refused" in line.lower()


def test_unknown_url_scheme_is_a_usage_error(tmp_path):
    for args in (("ledger", "info"), ("batch", "--policy", POLICY, str(EXAMPLE_ROUND), "-q", "--out", "o")):
        r = run(tmp_path, *args, "--ledger", "mysql://u:pw@db/x")
        assert r.returncode == EXIT_USAGE
        assert one_line_error(r) == "error: mysql://u:***@db/x: unknown ledger URL (use sqlite:///path or postgresql://...)"
    with pytest.raises(LedgerUrlError):
        Ledger("mysql://x")


def test_a_file_that_is_not_sqlite_is_one_line_and_left_as_it_was(tmp_path):
    # `--ledger` naming the wrong file (notes, a workbook): SQLite's DatabaseError came out as a traceback, from the
    # switch to WAL (a writing command) or from the first query (a read-only one)
    from engine.core.i18n import use_language

    wrong = tmp_path / "ledger.sqlite"
    wrong.write_bytes("台账说明：这不是台账，是存错了名字的文字。\n".encode() * 40)
    before = wrong.read_bytes()
    url = f"sqlite:///{wrong}"
    for args in (("ledger", "info"), ("batch", "--policy", POLICY, str(EXAMPLE_ROUND), "-q", "--out", "o")):
        r = run(tmp_path, *args, "--ledger", url)
        assert r.returncode == EXIT_INVALID
        assert one_line_error(r) == (
            f"error: {url}: {wrong} is not a ledger (not an SQLite database file): check that the URL names the ledger's file"
        )
    for create in (True, False):
        with use_language("zh"):  # (a message is worded when it is said: in the language then)
            with pytest.raises(LedgerError) as caught:
                Ledger(url, create=create)
            assert str(caught.value) == f"{url}：{wrong} 不是台账文件（不是 SQLite 数据库文件）：请检查地址是否指向台账文件"
    assert wrong.read_bytes() == before


def test_a_ledger_path_that_cannot_be_made_is_one_line(tmp_path):
    # a file where a folder of the path should be, a place nothing can be made, a device SQLite cannot write: these
    # were tracebacks (FileExistsError, FileNotFoundError, sqlite3.OperationalError from the schema's first commit)
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    (tmp_path / "adir").mkdir()
    for args in (
        ("ledger", "info"),
        ("batch", "--policy", POLICY, str(EXAMPLE_ROUND), "-q", "--commit", "--out", "o"),
    ):
        url = f"sqlite:///{tmp_path}/adir"  # a folder: the read-only commands said it did not exist; batch "unable to open"
        r = run(tmp_path, *args, "--ledger", url)
        assert r.returncode == EXIT_INVALID
        assert (
            one_line_error(r)
            == f"error: {url}: {tmp_path}/adir is a folder; the URL names the ledger's file (sqlite:///path/to/ledger.sqlite)"
        )
    for url, folder in (
        (f"sqlite:///{tmp_path}/afile/l.sqlite", f"{tmp_path}/afile"),
        ("sqlite:////proc/no-such-process/l.sqlite", "/proc/no-such-process"),
    ):
        r = commit_round(tmp_path, url)  # (a file where its folder should be; a folder nothing can make: no folder is made)
        assert r.returncode == EXIT_INVALID
        assert one_line_error(r) == f"error: ledger {url}: the folder {folder} does not exist" + (
            " (a ledger is made in a folder that does: check the path, or make the folder first)"
        )
    r = commit_round(tmp_path, "sqlite:////dev/null")
    assert r.returncode == EXIT_INVALID
    assert one_line_error(r) == "error: cannot open the ledger sqlite:////dev/null: disk I/O error"
    # SQLite's own words, in the officer's language
    r = run(
        tmp_path,
        "--lang",
        "zh",
        "batch",
        "--policy",
        POLICY,
        str(EXAMPLE_ROUND),
        "-q",
        "--commit",
        "--out",
        "o",
        "--ledger",
        "sqlite:////dev/null",
    )
    assert one_line_error(r) == "错误：无法打开台账 sqlite:////dev/null：磁盘读写出错"


def test_another_programs_sqlite_database_is_never_made_a_ledger(tmp_path):
    # `--ledger` naming, by mistake, the database of another program: the ledger's tables were added to it
    import sqlite3

    other = tmp_path / "office.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE staff (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO staff (name) VALUES ('王芳')")
    conn.close()
    url = f"sqlite:///{other}"
    r = commit_round(tmp_path, url)
    assert r.returncode == EXIT_INVALID
    assert one_line_error(r) == (
        f"error: {url}: an SQLite database of another program (it holds tables, and no ledger): a ledger is not "
        "added to it; check the URL, or name a new file"
    )
    with sqlite3.connect(other) as conn:
        assert [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")] == ["staff"]
    conn.close()
    with Ledger(f"sqlite:///{tmp_path / 'new.sqlite'}") as ledger:  # (a new file, or an empty one, is made a ledger)
        assert ledger.schema_version() > 0


@pytest.mark.parametrize("versions", [[], [3], ["1.2.0"]])
def test_another_programs_database_with_a_schema_version_table_of_its_own_is_never_made_a_ledger(tmp_path, versions):
    # `schema_version` is a common name: a database holding one (empty, or with another program's versions) and a
    # table of its own was taken for a ledger being created, and given the ledger's tables (or failed on '1.2.0')
    import sqlite3

    other = tmp_path / "app.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at TEXT NOT NULL)")
        conn.executemany("INSERT INTO schema_version VALUES (?, '2020-01-01')", [(v,) for v in versions])
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    conn.close()
    url = f"sqlite:///{other}"
    for create in (True, False):
        with pytest.raises(LedgerError) as caught:
            Ledger(url, create=create)
        assert type(caught.value) is LedgerError
        assert "an SQLite database of another program" in tr(caught.value.args[0], "en")
    with sqlite3.connect(other) as conn:
        assert sorted(t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")) == [
            "customers",
            "schema_version",
        ]
    conn.close()


def test_a_ledger_holding_another_tools_table_is_still_a_ledger(tmp_path):
    # Litestream's replication table, a DBA's backup copy beside the ledger's own: it was refused as "another
    # program's database" (and the service's rounds and reads with it)
    import sqlite3

    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    with Ledger(url) as ledger:
        assert ledger.schema_version() > 0
    with sqlite3.connect(tmp_path / "l.sqlite") as conn:
        conn.execute("CREATE TABLE _litestream_seq (id INTEGER PRIMARY KEY, seq INTEGER)")
        conn.execute("CREATE TABLE grants_backup AS SELECT * FROM grants")
    conn.close()
    with Ledger(url, create=False) as ledger:
        assert ledger.counts()["grants"] == 0


def test_a_damaged_ledger_is_one_line_that_says_what_to_do(tmp_path):
    # bytes overwritten inside an SQLite ledger (a disk fault, a copy cut short): the ledger commands printed
    # sqlite3.DatabaseError's traceback
    import sqlite3

    path = tmp_path / "l.sqlite"
    r = commit_round(tmp_path, f"sqlite:///{path}")
    assert r.returncode == 3, r.stderr  # (decided, with a refusal among them)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert path.stat().st_size > 24000
    with open(path, "r+b") as f:  # past the header and the schema's page: the grants' pages
        f.seek(20000)
        f.write(b"\xff" * 4000)
    r = run(tmp_path, "ledger", "info", "--ledger", f"sqlite:///{path}")
    assert r.returncode == EXIT_INVALID
    assert one_line_error(r) == (
        "error: the ledger's database failed (database disk image is malformed): the file may be damaged; restore it from a "
        "backup, or check the disk it is on"
    )
    r = run(tmp_path, "--lang", "zh", "ledger", "info", "--ledger", f"sqlite:///{path}")
    assert one_line_error(r) == "错误：台账数据库出错（数据库文件已损坏）：文件可能已损坏；请用备份恢复，或检查所在的磁盘"
    # `batch` gave every application an "internal error" record (SQLite's English words in its zh field too) and
    # exited 3 as if the applications were at fault; the ledger fails them all alike, so the run stops and says so
    for workers in ("1", "2"):
        args = ["-q", "--commit", "--workers", workers, "--out", f"o{workers}", "--ledger", f"sqlite:///{path}"]
        r = run(tmp_path, "batch", "--policy", POLICY, str(EXAMPLE_ROUND), *args)
        assert r.returncode == EXIT_INVALID
        assert one_line_error(r) == (
            "error: the ledger's database failed (database disk image is malformed): the file may be damaged; restore it "
            "from a backup, or check the disk it is on"
        )


def test_masked_url():
    assert masked_url("postgresql://u:p%40ss@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert masked_url("postgresql://u@h/db?password=x&sslmode=require") == "postgresql://u@h/db?password=***&sslmode=require"
    assert masked_url("sqlite:///a/b.sqlite") == "sqlite:///a/b.sqlite"


# --- 3. findings are checked against the policy ------------------------------------------


def finding(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run(tmp_path, "ledger", "finding", "--reason", "fraud found", "--ledger", f"sqlite:///{tmp_path}/l.sqlite", *extra)


def test_finding_needs_a_policy(tmp_path):
    r = finding(tmp_path, "--applicant", ENTERPRISE_ID, "--fact", "fraud_finding_dates", "--value", "2021-06-30")
    assert r.returncode == EXIT_USAGE and "finding needs --policy" in r.stderr
    assert not (tmp_path / "l.sqlite").exists()


@pytest.mark.parametrize(
    ("applicant", "fact", "value", "message"),
    [
        (
            ENTERPRISE_ID,
            "fraud_finding_dat",
            "2021-06-30",
            "'fraud_finding_dat' is not an applicant fact of the policy; did you mean 'fraud_finding_dates'?",
        ),
        (
            ENTERPRISE_ID,
            "fraud_finding_dates",
            "2021-13-01",
            "applicant fraud_finding_dates '2021-13-01' is not a valid date (expected a date YYYY-MM-DD that exists)",
        ),
        (
            ENTERPRISE_ID,
            "fraud_finding_dates",
            "2021-02-29",
            "applicant fraud_finding_dates '2021-02-29' is not a valid date",
        ),  # 2021: no 29 Feb
        (ENTERPRISE_ID, "fraud_finding_dates", "30/06/2021", "is not a valid date"),
        (ENTERPRISE_ID, "actually_operating", "true", "actually_operating is a boolean fact"),
        (ENTERPRISE_ID, "id", "x", "'id' is not an applicant fact"),
        ("not-an-id", "fraud_finding_dates", "2021-06-30", "applicant id 'not-an-id' is not a valid identifier"),
        (ENTERPRISE_ID[:-1] + ("0" if ENTERPRISE_ID[-1] != "0" else "1"), "fraud_finding_dates", "2021-06-30", "fails its check character"),
    ],
)
def test_a_bad_finding_is_refused(policy, applicant, fact, value, message):
    with pytest.raises(LedgerError) as err:
        check_finding(policy, applicant, fact, value)
    assert message in str(err.value)


@pytest.mark.parametrize(("fact", "value"), [("fraud_finding_dat", "2021-06-30"), ("fraud_finding_dates", "2021-13-01")])
def test_the_cli_refuses_a_bad_finding_and_records_nothing(tmp_path, fact, value):
    r = finding(tmp_path, "--policy", POLICY, "--applicant", ENTERPRISE_ID, "--fact", fact, "--value", value)
    assert r.returncode == EXIT_INVALID
    assert one_line_error(r).startswith("error: ")
    assert not (tmp_path / "l.sqlite").exists()  # checked before the ledger is even opened


def test_check_finding_accepts_what_claims_accept(policy):
    check_finding(policy, ENTERPRISE_ID, "fraud_finding_dates", "2021-06-30")
    with pytest.raises(LedgerError, match="did you mean 'kind'"):
        check_finding(policy, ENTERPRISE_ID, "knd", "enterprise")
    with pytest.raises(LedgerError, match="is not a valid choice"):
        check_finding(policy, ENTERPRISE_ID, "kind", "martian")


def test_record_finding_with_a_policy_checks_it(policy, tmp_path):
    with Ledger(f"sqlite:///{tmp_path}/l.sqlite") as ledger:
        with pytest.raises(LedgerError, match="not a valid date"):
            ledger.record_finding(ENTERPRISE_ID, "fraud_finding_dates", "2021-13-01", reason="x", policy=policy)
        assert ledger.counts()["findings"] == 0


# --- 4. reversals: no silent rounding, real dates -----------------------------------------


def test_reversal_amount_and_date_are_checked(policy, tmp_path):
    url = f"sqlite:///{tmp_path}/l.sqlite"
    with Ledger(url) as ledger:
        ledger.commit(policy, claim(item("ip_management_certification", "c1"), claim_id="C-2021"))  # 第七条（三）: 5万
    base = (
        "ledger",
        "reverse",
        "--claim",
        "C-2021",
        "--item",
        "c1",
        "--reason",
        "funds reclaimed",
        "--ledger",
        url,
        "--date",
        "2022-09-01",
    )
    for extra, message in [
        (("--returned", "1.234"), "the amount returned 1.234 is not a whole number of 0.01"),
        (("--returned", "1.234", "--policy", POLICY), "the amount returned 1.234 is not a whole number of 0.01"),
        (("--returned", "0"), "must be positive"),
        (("--returned", "-5"), "must be positive"),
        (("--date", "yesterday"), "the decision date 'yesterday' is not a real date YYYY-MM-DD"),
        (("--date", "2022-13-45"), "expected a date YYYY-MM-DD that exists (2022-13-45 does not)"),
        (("--date", "2022-9-1"), 'expected the date written YYYY-MM-DD: "2022-09-01"'),  # (the fix, as a finding says it)
    ]:
        r = run(tmp_path, *base, *extra)
        assert r.returncode == EXIT_INVALID, extra
        assert message in one_line_error(r), extra
    # an amount written any way but plain digits is refused as it is written, never read (Decimal() read 1e3 as 1000)
    for written in ("1e999999", "1e3", " 1.00", "1_000.00", "+5", "0100"):
        r = run(tmp_path, *base, "--returned", written)
        assert r.returncode == EXIT_INVALID, written  # (a refused value, as 1.234's: it was 2, a usage error)
        assert f"--returned {written!r} is not an amount in plain digits (write e.g. 50000 or 50000.00)" in r.stderr, r.stderr
    with Ledger(url) as ledger:
        assert ledger.reversals() == []
    r = run(tmp_path, *base, "--returned", "1234.50", "--date", "2022-09-01", "--policy", POLICY)
    assert r.returncode == EXIT_OK, r.stderr
    with Ledger(url) as ledger:
        [rev] = ledger.reversals()
        assert (rev["returned"], rev["decided_on"]) == ("1234.50", "2022-09-01")


def test_an_officer_s_words_are_checked_before_the_ledger_keeps_them(policy, tmp_path):
    # a reason left empty, or holding NUL and U+202E (which shows text reversed), and a round label of 60,000
    # characters or with a space after it (another round than the one without it, so another budget) were all kept
    url = f"sqlite:///{tmp_path}/l.sqlite"
    with Ledger(url) as ledger:
        ledger.commit(policy, claim(item("ip_management_certification", "c1"), claim_id="C-2021"))  # 第七条（三）: 5万
    base = ("ledger", "reverse", "--claim", "C-2021", "--item", "c1", "--ledger", url, "--date", "2022-09-01")
    assert run(tmp_path, *base, "--reason", "").returncode == EXIT_USAGE  # ("reverse needs --claim, --item, --reason and --date")
    for reason, said in [
        ("   ", "the reason is empty: say it in words"),
        ("funds\u202e reclaimed", "the reason holds the invisible character U+202E (a control or direction mark, which changes how the text reads): type it again without it"),
        ("x" * 2001, "the reason is 2001 characters long; at most 2000"),
    ]:  # fmt: skip
        r = run(tmp_path, *base, "--reason", reason)
        assert (r.returncode, one_line_error(r)) == (EXIT_INVALID, f"error: {said}"), reason
    r = run(tmp_path, "ledger", "finding", "--reason", "found\x07", "--ledger", url, "--policy", POLICY, "--applicant", ENTERPRISE_ID,
            "--fact", "fraud_finding_dates", "--value", "2021-06-30")  # fmt: skip
    assert (
        one_line_error(r)
        == "error: the reason holds the invisible character U+0007 (a control or direction mark, which changes how the text reads): type it again without it"
    )
    for label, said in [
        ("R-2021 ", "the round label 'R-2021 ' begins or ends with a space or a line end: labels are matched exactly, so it would be another round than the one without them"),
        ("R" * 101, "the round label is 101 characters long; at most 100"),
        ("R\n2021", "the round label holds the invisible character U+000A (a control or direction mark, which changes how the text reads): type it again without it"),
    ]:  # fmt: skip
        r = run(tmp_path, "batch", "--policy", POLICY, str(EXAMPLE_ROUND), "-q", "--commit", "--round", label,
                "--out", "o", "--ledger", url)  # fmt: skip
        assert (r.returncode, one_line_error(r)) == (EXIT_INVALID, f"error: {said}"), label
        with pytest.raises(LedgerError, match="round label"):
            Ledger(url).commit(policy, claim(item("ip_management_certification", "c2"), claim_id="C-2022"), round=label)
    with Ledger(url) as ledger:
        assert ledger.reversals() == [] and ledger.facts_on_record(ENTERPRISE_ID) == {}
        assert [c for (c,) in ledger.db.query("SELECT claim_id FROM commits")] == ["C-2021"]
    r = run(tmp_path, *base, "--reason", "资金已追回\n（区财政局 2022 年第 3 号决定）")  # (a reason may run over lines)
    assert r.returncode == EXIT_OK, r.stderr


def test_a_reversal_decided_after_today_is_refused():
    # a red team recorded a reversal "decided on" 9999-12-31: a reversal records a decision already made
    import datetime as dt

    today = dt.date(2026, 12, 5)
    check_reversal(None, "2026-12-05", today=today)
    check_reversal(None, "2026-12-06", today=today)  # (a day's slack for time zones)
    with pytest.raises(LedgerError) as caught:
        check_reversal(None, "9999-12-31", today=today)
    assert str(caught.value) == (
        "the decision date 9999-12-31 is after today (2026-12-05): a reversal records a decision already made; give the day it was made"
    )


def test_check_reversal_with_a_coarser_quantum():
    check_reversal(Decimal("100"), None, Decimal("1"))
    with pytest.raises(LedgerError, match="not a whole number of 1"):
        check_reversal(Decimal("100.50"), None, Decimal("1"))


def test_an_amount_returned_with_an_absurd_exponent_is_refused_at_once_and_said_as_written():
    # the service's POST /ledger/reverse with "returned": "1e999999999": its refusal wrote the amount out in full, a
    # billion digits (7 s, ~6 GB, and the audit entry too big to store); and 1E-999999999, below the decimal
    # context's least exponent, passed as a whole number of cents
    from engine.core.i18n import tr

    for text in ("1e999999999", "1e-999999999", "-1e999999999"):
        with pytest.raises(LedgerError) as caught:
            check_reversal(Decimal(text), None)
        said = str(caught.value), tr(caught.value.args[0], "zh")
        assert all(len(s) < 200 and str(Decimal(text)) in s for s in said), said
    check_reversal(Decimal("100.000000"), None)  # (trailing zeros: still a whole number of cents)


def test_read_only_refuses_an_empty_postgresql_schema_and_creates_no_tables(tmp_path):
    from test_ledger_support import make_ledger_url

    gen = make_ledger_url("postgresql", tmp_path)  # skips, saying why, without $POLICY_ENGINE_TEST_PG
    url = next(gen)
    try:
        r = run(tmp_path, "ledger", "info", "--ledger", url)
        assert r.returncode == EXIT_INVALID
        assert "holds no ledger tables" in one_line_error(r)
        with pytest.raises(LedgerMissing):
            Ledger(url, create=False)
        with Ledger(url) as ledger:  # a writing use creates it; then reading works
            assert ledger.counts()["grants"] == 0
        with Ledger(url, create=False) as ledger:
            assert ledger.schema_version() == 6  # 3: the audit table; 4: a reversal's request key; 5: withdrawn; 6: keys by grant
    finally:
        gen.close()


def test_a_ledger_held_by_another_commit_says_it_is_busy_not_damaged(tmp_path, monkeypatch, capsys):
    # another process holds the ledger's write lock past the busy timeout: "the file may be damaged; restore it from
    # a backup" sent an officer to restore a sound ledger
    import sqlite3

    from engine.cli import main
    from engine.records import ledger as ledger_module

    path = tmp_path / "l.sqlite"
    Ledger(f"sqlite:///{path}").close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # (as a long round on --workers holds it)
    monkeypatch.setattr(ledger_module, "BUSY_SECONDS", 0.2)
    try:
        code = main(
            ["--lang", "en", "batch", "--policy", POLICY, str(EXAMPLE_ROUND), "-q"]
            + ["--commit", "--ledger", f"sqlite:///{path}", "--out", str(tmp_path / "o")]
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert code == EXIT_INVALID
    err = capsys.readouterr().err
    assert err.startswith("error: the ledger is busy: another commit or round held it for more than") and "damaged" not in err


def test_a_commit_into_a_ledger_that_was_not_there_says_it_made_a_new_one(tmp_path: Path) -> None:
    """A clerk typed 台帐 for 台账: `batch --commit` made a new, empty ledger unsaid and committed the round against no
    history (a title rewarded again). It is still made (the first round of a ledger makes it), but said, and named."""
    import json

    def commit(out: str) -> subprocess.CompletedProcess[str]:
        return run(
            tmp_path,
            "--lang",
            "zh",
            "batch",
            "--policy",
            POLICY,
            str(EXAMPLE_ROUND),
            "--commit",
            "--ledger",
            "台帐.sqlite",
            "--out",
            out,
        )

    first = commit("o1")
    assert "注意：台帐.sqlite 处原无台账，本次新建一个空台账" in first.stderr + first.stdout
    assert "台账 台帐.sqlite（本次新建，此前无任何记录）：新记入 6 份" in first.stdout + first.stderr
    again = commit("o2")
    assert "原无台账" not in again.stderr + again.stdout
    assert "台账 台帐.sqlite：新记入 0 份，替换 0 份，6 份此前已记入" in again.stdout + again.stderr
    ledgers = [json.loads((tmp_path / o / "summary.json").read_text(encoding="utf-8"))["ledger"] for o in ("o1", "o2")]
    assert [(x["url"], x["new"], x["committed"]) for x in ledgers] == [("台帐.sqlite", True, 6), ("台帐.sqlite", False, 0)]


def test_a_round_decided_against_a_ledger_written_as_a_bare_path_reads_its_history(tmp_path: Path) -> None:
    """`--ledger 台账.sqlite` (no sqlite:///) is a ledger as `Ledger` reads it; a run that only decides was told there was
    no ledger there and decided without history. 第七条第（一）项 (R17): a national demonstration title is rewarded once:
    committed in one round, the same title claimed again (another claim id) is refused when the history is read."""
    import json

    data = claim(item("national_ip_title", "t1"), claim_id="T-1")
    (tmp_path / "one.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "two.json").write_text(json.dumps({**data, "claim_id": "T-2"}, ensure_ascii=False), encoding="utf-8")
    assert (
        run(tmp_path, "batch", "--policy", POLICY, "one.json", "-q", "--commit", "--ledger", "台账.sqlite", "--out", "o1").returncode == 0
    )
    r = run(tmp_path, "--lang", "zh", "batch", "--policy", POLICY, "two.json", "-q", "--ledger", "台账.sqlite", "--out", "o2")
    assert "没有台账" not in r.stderr
    [line] = (tmp_path / "o2" / "decisions.jsonl").read_text(encoding="utf-8").splitlines()
    [it] = json.loads(line)["items"]
    assert (it["status"], it["amount"]) == ("refused", "0.00")  # (200,000.00 without the history)


def test_a_finding_dated_after_today_is_refused_as_a_reversal_is(tmp_path: Path) -> None:
    """A clerk typed 2027 for 2023: the finding was kept, and would have barred the enterprise from 2027 to 2032 (第十四条,
    R24). A finding records a determination made, as a reversal records a decision made."""
    import datetime

    url = f"sqlite:///{tmp_path}/l.sqlite"
    later = (datetime.date.today() + datetime.timedelta(days=400)).isoformat()
    base = ("--lang", "zh", "ledger", "finding", "--ledger", url, "--policy", POLICY, "--applicant", ENTERPRISE_ID)
    r = run(tmp_path, *base, "--fact", "fraud_finding_dates", "--value", later, "--reason", "弄虚作假")
    assert r.returncode == EXIT_INVALID
    assert f"被认定弄虚作假套取资金的日期（fraud_finding_dates） = {later} 晚于今天" in one_line_error(r)
    ok = run(tmp_path, *base, "--fact", "fraud_finding_dates", "--value", "2023-04-01", "--reason", "弄虚作假")
    assert ok.returncode == EXIT_OK, ok.stderr
    assert "已记录认定事实" in ok.stderr


def test_a_reversal_needs_its_date_and_finds_no_ledger_where_none_is(tmp_path: Path) -> None:
    """A reversal without --date was kept with no decision date, unsaid, for good; one on a mistyped ledger path made an
    empty ledger there (and then found no grant in it)."""
    r = run(tmp_path, "--lang", "zh", "ledger", "reverse", "--ledger", "台帐.sqlite", "--claim", "C-1", "--item", "c1", "--reason", "追回")
    assert (r.returncode, r.stderr.strip()) == (
        EXIT_USAGE,
        "reverse 需要 --claim、--item、--reason 和 --date（作出追回决定的日期，YYYY-MM-DD）",
    )
    r = run(
        tmp_path, "ledger", "reverse", "--ledger", "台帐.sqlite", "--claim", "C-1", "--item", "c1", "--reason", "r", "--date", "2023-04-01"
    )
    assert r.returncode == EXIT_INVALID and "台帐.sqlite does not exist" in one_line_error(r)
    assert not (tmp_path / "台帐.sqlite").exists()


def test_the_old_file_after_a_correction_is_told_apart_from_a_new_amendment(policy, tmp_path: Path) -> None:
    """A clerk corrected PG-2022-0002 (--replace), then re-ran the original workbook: told "commit the amended
    application as a replacement", she did, and the correction was undone. The three cases are now said apart."""
    import json

    from engine.core.i18n import tr as said
    from engine.records.ledger import AlreadyCommitted

    first = claim(item("patent_insurance", "i1", premium_paid="50000.00"), claim_id="PG-2022-0002")
    fixed = claim(item("patent_insurance", "i1", premium_paid="40000.00"), claim_id="PG-2022-0002")
    other = claim(item("patent_insurance", "i1", premium_paid="30000.00"), claim_id="PG-2022-0002")
    with Ledger(f"sqlite:///{tmp_path}/l.sqlite") as ledger:
        assert ledger.commit(policy, first).status == "committed"  # commit 1
        assert ledger.commit(policy, fixed, replace=True).status == "replaced"  # commit 2 corrects commit 1
        with pytest.raises(AlreadyCommitted) as old:
            ledger.commit(policy, first)
        with pytest.raises(AlreadyCommitted) as new:
            ledger.commit(policy, other)
        assert ledger.stored_decision("PG-2022-0002")["items"][0]["amount"] == "20000.00"  # 40,000 × 50% (第六条第（二）项)
    today = __import__("datetime").date.today().isoformat()
    # (said to a program in its own words: a caller of Ledger.commit was told to use the batch's --replace)
    assert said(old.value.args[0], "zh") == (
        f"申请 PG-2022-0002 在台账中已更正：记录 2 是 {today} 对记录 1 的更正，本次提交的内容与被替换的记录 1 相同，是更正前的内容，"
        "未记入。无需再提交；只有确要撤销该更正时，才作为替换提交：ledger.commit(policy, claim, replace=True)"
    )
    assert said(new.value.args[0], "zh").startswith(f"申请 PG-2022-0002 已以不同的内容记入台账：记录 2 是 {today} 对记录 1 的更正")
    assert said(new.value.args[0], "en").endswith(
        "If it is a further correction, commit it as a replacement: ledger.commit(policy, claim, replace=True); "
        "if it is an older file, there is nothing to commit"
    )
    # the batch says the same case in the command line's words
    (tmp_path / "first.json").write_text(json.dumps(first, ensure_ascii=False), encoding="utf-8")
    url = f"sqlite:///{tmp_path}/l.sqlite"
    r = run(tmp_path, "--lang", "zh", "batch", "--policy", POLICY, "first.json", "-q", "--commit", "--ledger", url, "--out", "o")
    assert r.returncode == EXIT_PARTIAL, r.stderr  # (every application failed)
    error = json.loads((tmp_path / "o" / "errors.jsonl").read_text(encoding="utf-8"))
    assert error["problems"][0]["said"]["zh"]["message"] == (
        f"申请 PG-2022-0002 在台账中已更正：记录 2 是 {today} 对记录 1 的更正，本次提交的内容与被替换的记录 1 相同，是更正前的内容，"
        "未记入。无需再提交；只有确要撤销该更正时，才作为替换提交：batch --commit --replace"
    )
    assert error["problems"][0]["said"]["en"]["message"].endswith(
        "only to undo the correction, commit it as a replacement: batch --commit --replace"
    )


def test_no_grant_to_reverse_is_told_apart(tmp_path: Path) -> None:
    """One message ('没有有效的支持记录') said a claim id in lower case, one with a space pasted from a sheet, an item that
    was not granted, an item the claim has not, and a claim the ledger has not. PG-2022-0001 of the example round:
    p1, l1, l2, a1, t1 granted; i1 incomplete (its receipts missing)."""
    url = f"sqlite:///{tmp_path}/ledger.sqlite"
    assert commit_round(tmp_path, url).returncode == 3

    def reverse(claim_id: str, item_id: str, *more: str) -> str:
        return one_line_error(reverse_at_cli(tmp_path, url, claim_id, item_id, *more, reason="追回", first=("--lang", "zh")))

    assert (
        reverse("pg-2022-0001", "t1")
        == "错误：台账中没有申请 'pg-2022-0001'：是不是 PG-2022-0001？（申请编号须完全一致，包括大小写和空格）"
    )
    assert reverse("PG-2022-0001 ", "t1").startswith("错误：台账中没有申请 'PG-2022-0001 '：是不是 PG-2022-0001？")
    assert reverse("PG-2022-0001", "i1") == "错误：申请 PG-2022-0001 的事项 i1 未获支持（材料不全）：没有可追回的资助"
    assert reverse("PG-2022-0001", "zz") == "错误：申请 PG-2022-0001 中没有事项 'zz'；获得支持的事项有：p1、l1、l2、a1、t1"
    assert reverse("NOPE", "t1").startswith("错误：台账中没有申请 'NOPE'")
    # part returned, then "the rest" asked the whole grant again: what is left is said (t1: 10万, 30,000 back first)
    assert reverse_at_cli(tmp_path, url, "PG-2022-0001", "t1", "--returned", "30000").returncode == 0
    assert reverse("PG-2022-0001", "t1").endswith("；尚可退回 70000.00（--returned 70000.00）")


def test_two_arguments_joined_by_a_wide_comma_are_named(tmp_path: Path) -> None:
    """`--claim PG-2022-0001，--item t1`: argparse blamed `t1` ('无法识别的参数：t1'); the joined argument is named."""
    r = run(tmp_path, "--lang", "zh", "ledger", "reverse", "--claim", "PG-2022-0001，--item", "t1", "--reason", "r", "--date", "2023-04-01")
    assert r.returncode == 2
    assert "'PG-2022-0001，--item' 是用逗号或全角空格连在一起的两个参数：参数之间请用半角空格分隔，不用逗号" in r.stderr


def test_a_round_run_again_says_its_applications_were_committed_before(tmp_path: Path) -> None:
    """A re-run of a committed round committed nothing (its summary said so), yet each line's ledger said "committed"
    and the workbook's 台账 column 已记入台账 of every row: a clerk could not tell the run apart from the first."""
    import json

    import openpyxl

    url = f"sqlite:///{tmp_path}/ledger.sqlite"
    assert commit_round(tmp_path, url).returncode == 3
    first = [json.loads(x)["ledger"]["status"] for x in (tmp_path / "o" / "decisions.jsonl").read_text(encoding="utf-8").splitlines()]
    zh = commit_round(tmp_path, url, "--lang", "zh")
    assert zh.returncode == 3
    again = [json.loads(x)["ledger"] for x in (tmp_path / "o" / "decisions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert first == ["committed"] * 6 and [x["status"] for x in again] == ["already_committed"] * 6
    assert [x["commit"] for x in again] == [1, 2, 3, 4, 5, 6]  # (the commits they were recorded by)
    sheet = openpyxl.load_workbook(tmp_path / "o" / "summary.xlsx").worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    column = rows[0].index("台账")
    assert {r[column] for r in rows[1:]} == {"此前已记入"}


def test_a_replacement_names_the_later_claims_decided_on_its_old_grants(tmp_path: Path) -> None:
    """第六条第（四）项第一款 (R14): a platform's transformation services, 50% of the fee, at most 100万 in all. 2021: fee
    900,000 -> 450,000. 2022: fee 1,200,000 -> 600,000, cut to 550,000 (100万 - 450,000). The 2021 claim is then
    corrected to a fee of 300,000 -> 150,000: the 2022 decision, made on the old 450,000, should now have paid 600,000,
    and the clerk was told nothing (verify finds no violation: 700,000 is under 100万)."""
    import json

    def platform(claim_id: str, year: int, fee: str) -> dict[str, Any]:
        it = item("platform_transformation_service", "s1", date=f"{year}-06-01", technology_service_fee=fee)
        return claim(it, applicant="platform", funding_year=year, claim_id=claim_id)

    for name, data in (("a.json", platform("P-2021", 2021, "900000.00")), ("b.json", platform("P-2022", 2022, "1200000.00"))):
        (tmp_path / name).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    url = f"sqlite:///{tmp_path}/l.sqlite"
    for name in ("a.json", "b.json"):
        assert run(tmp_path, "batch", "--policy", POLICY, name, "-q", "--commit", "--ledger", url, "--out", "o").returncode == 0
    assert json.loads((tmp_path / "o" / "decisions.jsonl").read_text(encoding="utf-8"))["items"][0]["amount"] == "550000.00"
    (tmp_path / "a.json").write_text(json.dumps(platform("P-2021", 2021, "300000.00"), ensure_ascii=False), encoding="utf-8")
    r = run(tmp_path, "--lang", "zh", "batch", "--policy", POLICY, "a.json", "-q", "--commit", "--replace", "--ledger", url, "--out", "o2")
    assert r.returncode == 0, r.stderr
    said = "有 1 份在被替换的申请之后记入的申请与之共用封顶、次数限制或同一对象，是按其原来的支持作出的决定：P-2022（2022 年度）。"
    assert said in r.stderr
    summary = json.loads((tmp_path / "o2" / "summary.json").read_text(encoding="utf-8"))
    assert any("P-2022" in w for w in summary["warnings"])


def test_a_finding_names_its_fact_by_its_words_too(tmp_path: Path) -> None:
    """The Chinese words of the fact (as the claims' form heads it, with or without its hint for the form) were refused:
    '被认定弄虚作假套取资金的日期' 不是本政策的申请人事实. They name it; the confirmation says the code it is."""
    url = f"sqlite:///{tmp_path}/l.sqlite"
    for words in ("被认定弄虚作假套取资金的日期", "被认定弄虚作假套取资金的日期（无则留空）"):
        r = run(tmp_path, "--lang", "zh", "ledger", "finding", "--ledger", url, "--policy", POLICY, "--applicant", ENTERPRISE_ID,
                "--fact", words, "--value", "2023-04-01", "--reason", "弄虚作假")  # fmt: skip
        assert r.returncode == EXIT_OK, r.stderr
        # (walk of session 35) the confirmation said the code alone, fraud_finding_dates = 2023-04-01, to the officer
        # who had named the fact in Chinese: it says the words and the code
        assert "申请人 91110117MA01ABCD1F，被认定弄虚作假套取资金的日期（fraud_finding_dates） = 2023-04-01" in r.stderr
    r = run(tmp_path, "--lang", "zh", "ledger", "finding", "--ledger", url, "--policy", POLICY, "--applicant", ENTERPRISE_ID,
            "--fact", "弄虚作假日期", "--value", "2023-04-01", "--reason", "x")  # fmt: skip
    assert r.returncode == EXIT_INVALID and "不是本政策的申请人事实" in r.stderr


def test_the_same_finding_entered_twice_is_recorded_once(tmp_path: Path) -> None:
    """The clerk's 2023-04-01 finding against enterprise A, entered twice, was stored twice (numbers 2 and 3) and
    listed twice. The second says it is on record already -- its number, 1, and the day it was recorded -- records
    nothing, prints the number as the first did, and exits 0 as a reversal run twice does. Another date is another
    finding (2); once the first is withdrawn, the same date may be recorded again (3)."""
    import datetime as dt

    url = f"sqlite:///{tmp_path}/l.sqlite"
    args = ("--lang", "zh", "ledger", "finding", "--ledger", url, "--policy", POLICY, "--applicant", ENTERPRISE_ID,
            "--fact", "fraud_finding_dates", "--reason")  # fmt: skip
    first = run(tmp_path, *args, "弄虚作假", "--value", "2023-04-01")
    assert (first.returncode, first.stdout) == (EXIT_OK, "1\n"), first.stderr
    again = run(tmp_path, *args, "再录一次", "--value", "2023-04-01")
    assert (again.returncode, again.stdout) == (EXIT_OK, "1\n"), again.stderr
    today = dt.datetime.now(dt.UTC).date().isoformat()  # (recorded_at is UTC)
    assert again.stderr.strip() == (
        f"同样的认定事实此前已记录，编号 1（{today} 记录）：申请人 {ENTERPRISE_ID}，被认定弄虚作假套取资金的日期（fraud_finding_dates） = 2023-04-01；"
        "本次未重复记录（编号另输出到标准输出）"
    )
    other = run(tmp_path, *args, "另一次认定", "--value", "2022-01-10")
    assert (other.returncode, other.stdout) == (EXIT_OK, "2\n")
    with Ledger(url) as ledger:
        assert [(f["id"], f["value"], f["reason"]) for f in ledger.findings()] == [
            (1, "2023-04-01", "弄虚作假"),
            (2, "2022-01-10", "另一次认定"),
        ]
        # the API says the same: the number on record, and that nothing was recorded
        record, recorded = ledger.record_finding_once(ENTERPRISE_ID, "fraud_finding_dates", "2023-04-01", reason="x")
        assert (record["id"], recorded) == (1, False)
        assert ledger.record_finding(ENTERPRISE_ID, "fraud_finding_dates", "2023-04-01", reason="x") == 1
        ledger.withdraw("finding", 1, reason="误录")
        assert ledger.record_finding_once(ENTERPRISE_ID, "fraud_finding_dates", "2023-04-01", reason="重新认定")[1] is True
        assert [f["id"] for f in ledger.findings()] == [1, 2, 3]
        assert [e["outcome"] for e in ledger.audit_log() if e["action"] == "finding"] == ["recorded", "already_recorded", "recorded"]


def test_a_reversal_or_finding_recorded_by_mistake_is_withdrawn_not_deleted(policy, tmp_path: Path) -> None:
    """A clerk's stray reversal of 4,200 (p1: 8,400 × 50%, 第五条第（一）项) and a finding dated 2022-03-01 that bars the
    enterprise (第十四条, R24: five years) could never be taken back. Withdrawn, each is kept and marked, and counts no
    more: the 4,200 can be returned again (it could not: returned in full), and a claim submitted 2023-03-15 is not barred."""
    import json

    url = f"sqlite:///{tmp_path}/ledger.sqlite"
    assert commit_round(tmp_path, url).returncode == 3
    base = ("--lang", "zh", "ledger")
    assert (
        run(
            tmp_path, *base, "reverse", "--ledger", url, "--claim", "PG-2022-0001", "--item", "p1", "--reason", "c", "--date", "2023-01-01"
        ).returncode
        == 0
    )
    r = run(
        tmp_path,
        *base,
        "finding",
        "--ledger",
        url,
        "--policy",
        POLICY,
        "--applicant",
        ENTERPRISE_ID,
        "--fact",
        "fraud_finding_dates",
        "--value",
        "2022-03-01",
        "--reason",
        "误录",
    )
    assert r.returncode == 0, r.stderr
    with Ledger(url) as ledger:
        assert ledger.facts_on_record(ENTERPRISE_ID) == {"fraud_finding_dates": ["2022-03-01"]}
    r = run(tmp_path, *base, "withdraw", "--ledger", url, "--reversal", "1", "--reason", "误录：未退回")
    assert (r.returncode, r.stderr.strip()) == (0, "已撤销追回记录 1（误录：未退回）：该记录保留并注明已撤销，其退回金额不再计入")
    assert json.loads(r.stdout)["withdrawn"]["reason"] == "误录：未退回"
    r = run(tmp_path, *base, "withdraw", "--ledger", url, "--finding", "1", "--reason", "日期写错")
    assert r.returncode == 0, r.stderr
    again = run(tmp_path, *base, "withdraw", "--ledger", url, "--finding", "1", "--reason", "x")
    assert again.returncode == EXIT_INVALID and "认定事实 1 已于" in again.stderr
    with Ledger(url) as ledger:
        assert ledger.facts_on_record(ENTERPRISE_ID) == {}
        [kept] = ledger.reversals()
        assert (kept["returned"], kept["withdrawn"]["reason"]) == ("4200.00", "误录：未退回")
        assert not next(g for g in ledger.grants() if g["item_id"] == "p1" and g["claim_id"] == "PG-2022-0001")["reversed"]
        assert ledger.verify(policy) == []
        # the same 4,200 returned again, for real: 4,200 of 4,200 (the withdrawn one no longer counts)
        assert ledger.reverse("PG-2022-0001", "p1", reason="退回", decided_on="2023-02-01", returned=None) == 2
    r = run(tmp_path, *base, "statement", "--ledger", url, "--policy", POLICY, "--applicant", ENTERPRISE_ID)
    assert "追回 1：申请 PG-2022-0001 事项 p1，退回 4,200.00 元，决定日期 2023-01-01（c）（已撤销：误录：未退回，" in r.stdout
    assert "合计：核定 804,200.00 元，已追回 4,200.00 元，净额 800,000.00 元" in r.stdout


def test_a_replacement_says_the_difference_to_recover(tmp_path: Path) -> None:
    """第六条第（二）项: insurance, 50% of the premium. A premium of 50,000 corrected to 40,000: 25,000.00 granted before,
    20,000.00 now, −5,000.00 for finance to recover; the clerk was told only '替换 1 份'."""
    import json

    for name, premium in (("a.json", "50000.00"), ("b.json", "40000.00")):
        data = claim(item("patent_insurance", "i1", premium_paid=premium), claim_id="PG-2022-0002")
        (tmp_path / name).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    url = f"sqlite:///{tmp_path}/l.sqlite"
    assert run(tmp_path, "batch", "--policy", POLICY, "a.json", "-q", "--commit", "--ledger", url, "--out", "o1").returncode == 0
    r = run(tmp_path, "--lang", "zh", "batch", "--policy", POLICY, "b.json", "-q", "--commit", "--replace", "--ledger", url, "--out", "o2")
    assert "申请 PG-2022-0002 已替换：替换前核定 25,000.00 元，替换后 20,000.00 元，差额 −5,000.00 元（应追回或补发的金额）" in r.stderr


def test_a_write_waiting_for_another_programs_lock_says_so_before_it_waits(policy, tmp_path: Path) -> None:
    """A clerk's reversal, while a database browser held the ledger, printed nothing for 120 s, then spoke of
    "applications kept". The wait is said at once, once; giving up says nothing was recorded."""
    import sqlite3

    from engine.records.ledger import LedgerBusyError

    path = tmp_path / "l.sqlite"
    with Ledger(f"sqlite:///{path}") as ledger:
        ledger.commit(policy, claim(item("ip_management_certification", "c1"), claim_id="C-1"))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # (as a browser with an edit open holds it)
    told: list[str] = []
    try:
        with Ledger(f"sqlite:///{path}", busy_seconds=0.3) as ledger:
            ledger.wait_said(lambda: told.append("waiting"))
            with pytest.raises(LedgerBusyError):
                ledger.reverse("C-1", "c1", reason="r", decided_on="2023-01-01")
            with pytest.raises(LedgerBusyError):
                ledger.reverse("C-1", "c1", reason="r", decided_on="2023-01-01")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert told == ["waiting"]  # (said once, before the first wait)
    with Ledger(f"sqlite:///{path}") as ledger:  # free again: recorded without a word of waiting
        ledger.wait_said(lambda: told.append("again"))
        assert ledger.reverse("C-1", "c1", reason="r", decided_on="2023-01-01") == 1
    assert told == ["waiting"]


def test_the_command_lines_writes_are_audited_with_their_operator(tmp_path: Path) -> None:
    """Only the service's writes were audited; a clerk's reversals, findings and withdrawals left no operator."""
    import getpass

    url = f"sqlite:///{tmp_path}/ledger.sqlite"
    assert commit_round(tmp_path, url).returncode == 3
    assert reverse_at_cli(tmp_path, url, "PG-2022-0001", "p1", date="2023-01-01").returncode == 0
    assert run(tmp_path, "ledger", "withdraw", "--ledger", url, "--reversal", "1", "--reason", "误录").returncode == 0
    with Ledger(url) as ledger:
        entries = ledger.audit_log()
    assert [(e["actor"], e["action"], e["target"], e["outcome"]) for e in entries] == [
        (f"{getpass.getuser()}@cli", "batch", str(tmp_path / "o"), "started"),  # (the round: an entry as it starts,
        (f"{getpass.getuser()}@cli", "batch", str(tmp_path / "o"), "committed"),  # and one as it ends)
        (f"{getpass.getuser()}@cli", "reverse", "PG-2022-0001/p1", "recorded"),
        (f"{getpass.getuser()}@cli", "withdraw", "reversal 1", "withdrawn"),
    ]


def test_a_committed_batch_is_audited_at_its_start_and_end_with_its_counts_on_workers_too(tmp_path: Path) -> None:
    """A batch's commits at the command line left no audit entry (the reversals, findings and withdrawals did): each
    committing run is now two, as it starts and as it ends: its operator, output folder and, at its end, its counts. The example 2021 round: 7 applications, 1
    an error record (its bad row), 6 committed for 1,492,200.00 (worked out by hand in the clerk's findings: 4,200 +
    250,000 + 50,000 + 400,000 + 100,000 + 60,000 + 25,000 + 150,000 + 3,000 + 450,000). Run again on 2 workers:
    nothing new, 6 found committed already. A run deciding only is no write: not audited."""
    import getpass
    import json

    url = f"sqlite:///{tmp_path}/ledger.sqlite"
    assert commit_round(tmp_path, url).returncode == 3
    again = commit_round(tmp_path, url, out="again", more=("--workers", "2"))
    assert again.returncode == 3, again.stderr
    dry = run(tmp_path, "batch", "--policy", POLICY, str(EXAMPLE_ROUND), "-q", "--out", "dry", "--ledger", url)
    assert dry.returncode == 3, dry.stderr
    with Ledger(url) as ledger:
        entries = [e for e in ledger.audit_log() if e["action"] == "batch"]
    assert [(e["actor"], e["roles"], e["target"], e["outcome"]) for e in entries] == [
        (f"{getpass.getuser()}@cli", ["cli"], str(tmp_path / "o"), "started"),
        (f"{getpass.getuser()}@cli", ["cli"], str(tmp_path / "o"), "committed"),
        (f"{getpass.getuser()}@cli", ["cli"], str(tmp_path / "again"), "started"),
        (f"{getpass.getuser()}@cli", ["cli"], str(tmp_path / "again"), "committed"),
    ]
    # each ending entry names its start's; a start says the ledger's last commit then (none; the 6 of the first run)
    assert [entries[1]["detail"]["started"], entries[3]["detail"]["started"]] == [entries[0]["id"], entries[2]["id"]]
    assert [entries[0]["detail"]["after_seq"], entries[2]["detail"]["after_seq"]] == [0, 6]
    first, second = (e["detail"] if isinstance(e["detail"], dict) else json.loads(e["detail"]) for e in entries[1::2])
    assert (first["applications"], first["failed"], first["total"], first["workers"]) == (7, 1, "1492200.00", 1)
    assert (first["ledger"]["committed"], first["ledger"]["already_committed"], first["ledger"]["replaced"]) == (6, 0, 0)
    assert first["input"] == str(EXAMPLE_ROUND) and first["out"] == str(tmp_path / "o")
    assert (second["ledger"]["committed"], second["ledger"]["already_committed"], second["workers"]) == (0, 6, 2)


# --- a committing batch stopped part-way is audited ------------------------------------------------------------


def stop_at(monkeypatch: pytest.MonkeyPatch, url: str, claim_id: str, error: BaseException) -> None:
    """`Ledger.commit` into the ledger at `url` raises `error` when it is given `claim_id`, before committing it
    (as Ctrl-C, or the ledger's disk, may stop a run between two applications)."""
    committing = Ledger.commit

    def commit(self: Ledger, policy: Any, claim: Any, **kw: Any) -> Any:
        if self.url == url and claim.claim_id == claim_id:
            raise error
        return committing(self, policy, claim, **kw)

    monkeypatch.setattr(Ledger, "commit", commit)


def batch_main(tmp_path: Path, url: str, source: Path, out: str, *more: str) -> int:
    from engine.cli import main

    return main(
        ["--lang", "zh", "batch", "--policy", POLICY, str(source), "-q", "--commit", "--ledger", url, "--out", str(tmp_path / out), *more]
    )


def batch_entries(url: str) -> list[tuple[str, dict[str, Any]]]:
    with Ledger(url) as ledger:
        return [(e["outcome"], e["detail"]) for e in ledger.audit_log() if e["action"] == "batch"]


def test_a_committing_batch_stopped_by_ctrl_c_part_way_is_audited_with_what_it_had_committed(tmp_path, monkeypatch, capsys):
    """A clerk pressed Ctrl-C part-way through `batch --commit`: the applications committed before it stood, and no
    audit entry named who had committed them (the run's one entry was written after it ended). Now the run's start is
    audited, and its stop too: the example round's applications are PG-2022-0001 .. 0007, the 6th an error record
    (never committed); stopped as the 4th is committed, the ledger holds 0001, 0002, 0003: 3 new commits, numbered 1
    to 3 (none before: after_seq 0). Exit 130, as any Ctrl-C."""
    import getpass

    url = f"sqlite:///{tmp_path}/ledger.sqlite"
    stop_at(monkeypatch, url, "PG-2022-0004", KeyboardInterrupt())
    assert batch_main(tmp_path, url, EXAMPLE_ROUND, "o") == 130
    assert capsys.readouterr().err.strip().endswith("已中断")
    with Ledger(url) as ledger:
        assert sorted({g["claim_id"] for g in ledger.grants()}) == ["PG-2022-0001", "PG-2022-0002", "PG-2022-0003"]
        entries = ledger.audit_log()
    assert [(e["actor"], e["action"], e["target"], e["outcome"]) for e in entries] == [
        (f"{getpass.getuser()}@cli", "batch", str(tmp_path / "o"), "started"),
        (f"{getpass.getuser()}@cli", "batch", str(tmp_path / "o"), "stopped"),
    ]
    start, stop = (e["detail"] for e in entries)
    asked = {
        "input": str(EXAMPLE_ROUND),
        "out": str(tmp_path / "o"),
        "round": None,
        "replace": False,
        "workers": 1,
    }
    assert start == {**asked, "after_seq": 0}
    assert stop == {**asked, "started": entries[0]["id"], "error": "已中断", "ledger": {"committed": 3, "replaced": 0, "seq": [1, 3]}}


def test_a_committing_batch_stopped_by_the_ledger_counts_only_the_commits_after_its_start(tmp_path, monkeypatch, capsys):
    """The first two applications were committed by an earlier run (commits 1 and 2); the whole round run again stops
    at its last application, PG-2022-0007, on a disk error: 0001 and 0002 were committed already (no new commit),
    0003 .. 0005 are commits 3 to 5, 0006 an error record. The stop's entry counts 3, not the ledger's 5, and the
    officer's words for the error as the console said them; exit 1 as before."""
    url = f"sqlite:///{tmp_path}/ledger.sqlite"
    first_two = tmp_path / "first_two.jsonl"
    first_two.write_text("".join((EXAMPLE_ROUND).read_text(encoding="utf-8").splitlines(True)[:2]), encoding="utf-8")
    assert batch_main(tmp_path, url, first_two, "o1") == EXIT_OK
    disk = sqlite3.OperationalError("disk I/O error")
    disk.sqlite_errorcode = 10  # type: ignore[attr-defined]  # (SQLITE_IOERR)
    stop_at(monkeypatch, url, "PG-2022-0007", disk)
    assert batch_main(tmp_path, url, EXAMPLE_ROUND, "o2") == EXIT_INVALID
    said = capsys.readouterr().err.strip().splitlines()[-1]
    assert said.startswith("错误：台账数据库出错")
    entries = batch_entries(url)
    assert [outcome for outcome, _ in entries] == ["started", "committed", "started", "stopped"]
    assert entries[1][1]["ledger"]["committed"] == 2 and entries[2][1]["after_seq"] == 2
    stop = entries[3][1]
    assert stop["ledger"] == {"committed": 3, "replaced": 0, "seq": [3, 5]}
    assert said == "错误：" + stop["error"]


def test_a_stop_the_ledger_cannot_audit_is_said_and_a_start_it_cannot_audit_commits_nothing(tmp_path, monkeypatch, capsys):
    """The ledger refuses the stop's entry: the officer is told the run was not audited at its stop, and why (its start
    was). A ledger that refuses the start's entry: the run stops before it commits anything."""
    from engine.core.i18n import msg

    url = f"sqlite:///{tmp_path}/ledger.sqlite"
    recording = Ledger.record_audit

    def refuse(outcome: str) -> None:
        def record_audit(self: Ledger, actor: str, roles: Any, action: str, target: str, said: str, detail: Any) -> int:
            if said == outcome:
                raise LedgerError(msg("ledger.busy", seconds=10))
            return recording(self, actor, roles, action, target, said, detail)

        monkeypatch.setattr(Ledger, "record_audit", record_audit)

    refuse("stopped")
    stop_at(monkeypatch, url, "PG-2022-0002", KeyboardInterrupt())
    assert batch_main(tmp_path, url, EXAMPLE_ROUND, "o") == 130
    err = capsys.readouterr().err
    assert "错误：本次运行中途停止，停止前已记入的申请仍保留（运行开始时已写入审计记录），但未能写入运行停止的审计记录：台账正被占用" in err
    assert [outcome for outcome, _ in batch_entries(url)] == ["started"]
    monkeypatch.undo()
    refuse("started")
    assert batch_main(tmp_path, url, EXAMPLE_ROUND, "o") == EXIT_INVALID
    assert capsys.readouterr().err.strip().startswith("错误：台账正被占用")
    with Ledger(url) as ledger:
        assert {g["claim_id"] for g in ledger.grants()} == {"PG-2022-0001"}  # (the first run's one commit: no more)
    assert [outcome for outcome, _ in batch_entries(url)] == ["started"]


def test_a_committing_batch_stopped_on_workers_says_it_committed_nothing(tmp_path, monkeypatch, capsys):
    """On `--workers` the round is one transaction: stopped as it writes its 3rd commit (PG-2022-0003), the two before
    it are rolled back with it -- the ledger holds no commit, and the stop's entry says 0 (the run had counted 2)."""
    url = f"sqlite:///{tmp_path}/ledger.sqlite"
    importing = Ledger.import_commit

    def import_commit(self: Ledger, decided: Any, decision: Any = None) -> int:
        if decided.commit[0] == "PG-2022-0003":
            raise KeyboardInterrupt
        return importing(self, decided, decision)

    monkeypatch.setattr(Ledger, "import_commit", import_commit)
    assert batch_main(tmp_path, url, EXAMPLE_ROUND, "o", "--workers", "2") == 130
    with Ledger(url) as ledger:
        assert ledger.counts()["commits"] == 0
    assert [(outcome, detail.get("ledger")) for outcome, detail in batch_entries(url)] == [
        ("started", None),
        ("stopped", {"committed": 0, "replaced": 0, "seq": None}),
    ]


def test_sigterm_stops_a_committing_batch_as_ctrl_c_does_and_the_handler_before_it_is_put_back(tmp_path, monkeypatch, capsys):
    """SIGTERM as the 4th application (PG-2022-0004) is committed: the run stops as on Ctrl-C (3 commits stand,
    numbered 1 to 3, the stop audited with them), says `已被终止（SIGTERM）` and exits 128 + 15 = 143. The process's
    own SIGTERM handler (a program embedding the command line, here the test's) is the one in place after the run."""
    import os
    import signal

    url = f"sqlite:///{tmp_path}/ledger.sqlite"
    committing = Ledger.commit

    def commit(self: Ledger, policy: Any, claim: Any, **kw: Any) -> Any:
        if self.url == url and claim.claim_id == "PG-2022-0004":
            os.kill(os.getpid(), signal.SIGTERM)
        return committing(self, policy, claim, **kw)

    class TheTests(Exception):
        pass

    def theirs(signum: int, frame: Any) -> None:
        raise TheTests(signum)

    monkeypatch.setattr(Ledger, "commit", commit)
    before = signal.signal(signal.SIGTERM, theirs)
    try:
        assert batch_main(tmp_path, url, EXAMPLE_ROUND, "o") == 143
        assert signal.getsignal(signal.SIGTERM) is theirs
    finally:
        signal.signal(signal.SIGTERM, before)
    assert capsys.readouterr().err.strip().endswith("已被终止（SIGTERM）")
    with Ledger(url) as ledger:
        assert sorted({g["claim_id"] for g in ledger.grants()}) == ["PG-2022-0001", "PG-2022-0002", "PG-2022-0003"]
    [(started, _), (stopped, detail)] = batch_entries(url)
    assert (started, stopped) == ("started", "stopped")
    assert (detail["error"], detail["ledger"]) == ("已被终止（SIGTERM）", {"committed": 3, "replaced": 0, "seq": [1, 3]})
