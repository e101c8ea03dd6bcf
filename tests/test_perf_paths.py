"""Issue 14: the fast paths taken for speed give what the cell-by-cell paths give (no timings here).

* the CSV and workbook writers test a whole row at once (`_plain_row`) and skip `safe_cell` for a row with nothing to
  escape or guard: on random rows of hostile text the files and the counted alterations are the same as writing every
  cell through `safe_cell`;
"""

from __future__ import annotations

import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.records import tabular
from engine.records.tabular import CsvOut, XlsxOut

#: characters that matter to the writers: controls, surrogates, formula starts, line ends, markup, CJK
_CHARS = st.sampled_from(list("ab =+-@\t\r\n\x00\x07\x1f\ud800\ufffe<&>\"'；中文1.0") + ["\ufeff", "\u202e"])
#: amounts as texts and as Decimals, and texts that only look like amounts: in a money column, an amount's text is a
#: number cell (kept by its text on a plain row, `_MONEY_TEXT_CELLS`), anything else a text cell
_AMOUNTS = st.sampled_from(["12.50", "0.07", "7", "-3.10", "12.50\n", "1e3", " 5", "=1.00", "99999999999999.99"])
_CELL = st.one_of(
    st.none(),
    st.integers(-5, 10**12),
    st.booleans(),
    st.text(_CHARS, max_size=12),
    _AMOUNTS,
    _AMOUNTS.filter(lambda t: t.strip() == t and "e" not in t and "=" not in t).map(Decimal),
)


def _slow(monkeypatch: Any) -> None:
    monkeypatch.setattr(tabular, "_plain_row", lambda values: False)


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.lists(_CELL, min_size=1, max_size=6), min_size=1, max_size=8))
def test_a_plain_row_is_written_as_safe_cell_would_write_it(rows: list[list[Any]], tmp_path_factory: Any) -> None:
    import pytest

    out: list[tuple[bytes, bytes, int, list[str]]] = []
    for slow in (False, True):
        d: Path = tmp_path_factory.mktemp("rows")
        with pytest.MonkeyPatch.context() as mp:
            if slow:
                _slow(mp)
            c = CsvOut(d / "a.csv", [f"h{i}" for i in range(6)])
            x = XlsxOut(d / "a.xlsx")
            x.sheet("s", [f"h{i}" for i in range(6)], money=["h1", "h3"])
            for r in rows:
                c.row(r)
                x.row("s", r)
            c.close()
            x.close()
        with zipfile.ZipFile(d / "a.xlsx") as z:
            sheet = z.read("xl/worksheets/sheet1.xml")
        out.append(((d / "a.csv").read_bytes(), sheet, c.altered.count + x.altered.count, c.altered.first + x.altered.first))
    assert out[0] == out[1]


def test_formula_starts_and_unstorable_characters_are_not_plain() -> None:
    # each formula start at the start of a cell, and each character a worksheet cannot hold, sends the row the
    # cell-by-cell way; a plain row has none
    for start in tabular.FORMULA_START:
        assert not tabular._plain_row(["ok", start + "1"])
        assert not tabular._plain_row([start + "1", "ok"])  # (the first cell: the start of the row's text)
        assert not tabular._plain_row([None, "", 3, start + "1"])  # (after an empty text: a line feed before it)
        assert not tabular._plain_row(["ok", "line\n" + start + "1"])  # (a line inside a cell: counted too)
    for ch in ("\x00", "\x07", "\x1f", "\ud800", "\ufffe", "\uffff"):
        assert not tabular._plain_row(["a" + ch + "b"])
    assert tabular._plain_row(["申请 C-1", "a-b", "x=1", None, 5, "北京\n第三条"])


# --- the batch reads JSON inputs through the fast intake ---------------------------------------------------------


def test_batch_reads_json_lines_and_json_lists_through_the_fast_intake(tmp_path: Path, monkeypatch: Any) -> None:
    # issue 14: a JSON Lines or JSON list input is read by `parse_claim_json` from each record's text (the fast
    # intake); the outputs are byte for byte those of `parse_claim` on the decoded data, bad claims included
    import io
    import json
    import sys

    import engine
    from engine.deciding import claims as claims_module
    from engine.records import batch

    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root / "benchmarks"))
    from generate import claims as generated

    policy = engine.load_policy(root / "policies" / "pinggu_2020.yaml")
    apps = list(generated(120, seed=11))
    bad = json.loads(json.dumps(apps[0]))
    bad["claim_id"], bad["items"][0]["date"] = "BAD-1", "2021-02-30"  # no such day: a located problem
    apps.append(bad)
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in apps), encoding="utf-8")
    listed = tmp_path / "in.json"
    listed.write_text(json.dumps(apps, ensure_ascii=False, indent=1), encoding="utf-8")

    seen: list[int] = []
    real = claims_module._Intake.from_text

    def counted(self: Any, text: str) -> Any:
        seen.append(1)
        return real(self, text)

    def outputs(src: Path, out: Path) -> tuple[bytes, ...]:
        batch.run_batch(policy, src, out, report=False, stderr=io.StringIO(), ledger_url=f"sqlite:///{tmp_path / 'none.sqlite'}")
        return tuple((out / n).read_bytes() for n in ("decisions.jsonl", "errors.jsonl", "summary_items.csv"))

    monkeypatch.setattr(claims_module._Intake, "from_text", counted)
    fast = {src.suffix: outputs(src, tmp_path / ("fast" + src.suffix)) for src in (jsonl, listed)}
    assert len(seen) == 2 * len(apps)  # every application of both inputs went through the fast intake
    monkeypatch.setattr(batch, "parse_claim_json", lambda p, text, file=None: batch.parse_claim(p, engine.loads_json(text), file=file))
    for src in (jsonl, listed):
        slow = outputs(src, tmp_path / ("slow" + src.suffix))
        assert fast[src.suffix] == slow
        assert b"BAD-1" in slow[1] and b"2021-02-30" in slow[1]
