"""Issue 14: the fast paths taken for speed give what the cell-by-cell paths give (no timings here).

* the CSV and workbook writers test a whole row at once (`_plain_row`) and skip `safe_cell` for a row with nothing to
  escape or guard: on random rows of hostile text the files and the counted alterations are the same as writing every
  cell through `safe_cell`;
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.records import tabular
from engine.records.tabular import CsvOut, XlsxOut

#: characters that matter to the writers: controls, surrogates, formula starts, line ends, markup, CJK
_CHARS = st.sampled_from(list("ab =+-@\t\r\n\x00\x07\x1f\ud800\ufffe<&>\"'；中文1.0") + ["\ufeff", "\u202e"])
_CELL = st.one_of(st.none(), st.integers(-5, 10**12), st.booleans(), st.text(_CHARS, max_size=12))


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
            x.sheet("s", [f"h{i}" for i in range(6)])
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
    for ch in ("\x00", "\x07", "\x1f", "\ud800", "\ufffe", "\uffff"):
        assert not tabular._plain_row(["a" + ch + "b"])
    assert tabular._plain_row(["申请 C-1", "a-b", "x=1", None, 5, "北京\n第三条"])
