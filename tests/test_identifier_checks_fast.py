"""The check characters of credit codes and resident IDs computed as one base-34 / base-13 number (issue 14, session 7).

`identifiers._uscc_checks` / `_resident_id_checks` (what the fast intake and today's path both ask first) read the
weighted sum as one number in C instead of 17 look-ups and products; `_resident_id_part_problem` asks the clock only
for a birth date after a day already reached. The answers must be the old ones, character for character: the
public `uscc_check_char` / `resident_id_check_char` (unchanged, the weighted sums as the standards write them) are
the reference here.
"""

from __future__ import annotations

import datetime
import random
from typing import Any

import pytest

from engine.core import identifiers as ids


def test_the_weights_are_the_powers_the_fast_sums_rely_on() -> None:
    # GB 32100: weight i is 3**i mod 31, and 34 = 31 + 3; GB 11643: weight i is 2**(17-i) mod 11, and 13 = 11 + 2.
    # e.g. 3**4 = 81 = 2*31 + 19 (the fifth USCC weight, 19); 2**17 = 131072 = 11915*11 + 7 (the first ID weight, 7)
    assert ids._USCC_WEIGHTS == tuple(3**i % 31 for i in range(17))
    assert ids._USCC_WEIGHTS[4] == 19 and ids._ID_WEIGHTS[0] == 7
    assert ids._ID_WEIGHTS == tuple(2 ** (17 - i) % 11 for i in range(17))
    assert 34 % 31 == 3 and 13 % 11 == 2


def test_worked_examples_by_hand() -> None:
    # resident ID 11010519491231002X (the standard's own example): digits 1,1,0,1,0,5,1,9,4,9,1,2,3,1,0,0,2 times the
    # weights 7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2 = 7+9+0+5+0+20+2+9+24+27+7+18+30+5+0+0+4 = 167; 167 mod 11 = 2 -> "X"
    assert ids._resident_id_checks("11010519491231002X")
    assert not ids._resident_id_checks("110105194912310020")
    # credit code 91110117MA01ABCD1?: values 9,1,1,1,0,1,1,7,21(M),10(A),0,1,10(A),11(B),12(C),13(D),1 times the
    # weights 1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28 = 9+3+9+27+0+26+16+119+420+290+0+13+80+264+120+390+28
    # = 1814; 1814 mod 31 = 16 (31*58 = 1798); (31 - 16) mod 31 = 15 -> "F"
    assert ids._uscc_checks("91110117MA01ABCD1F")
    assert not ids._uscc_checks("91110117MA01ABCD1E")


def _mutants() -> list[str]:
    rnd = random.Random(14)
    base = ["11010519491231002X", "91110117MA01ABCD1F", "110117195804104245", "121101179AGEY9EQ4D"]
    out = list(base)
    for code in base:
        for k in range(18):
            for ch in "0123456789XAZIOSV١２²a -_":  # (Arabic-Indic and full-width digits, a superscript, letters)
                out.append(code[:k] + ch + code[k + 1 :])
    for _ in range(3000):
        out.append("".join(rnd.choice("0123456789X") for _ in range(18)))
        out.append("".join(rnd.choice(ids._USCC_CHARS) for _ in range(rnd.randint(16, 19))))
    return out


def _answer(f: Any, *args: Any) -> Any:
    try:
        return f(*args)
    except ValueError:
        return ValueError


def test_the_fast_check_characters_are_the_standards_ones() -> None:
    valid = 0
    for code in _mutants():
        want = ids._uscc_form(code) and _answer(ids.uscc_check_char, code[:17]) == code[17]
        assert ids._uscc_checks(code) == want, code
        want_id = _answer(lambda c: ids._resident_id_form(c) and ids.resident_id_check_char(c[:17]) == c[17], code)
        assert _answer(ids._resident_id_checks, code) == want_id, code  # (a superscript digit: the same ValueError)
        valid += bool(want) + (want_id is True)
    assert valid > 100


class _Clock:
    """Stands for `datetime` in identifiers: counts the calls of `date.today()`."""

    calls = 0

    class date(datetime.date):
        @classmethod
        def today(cls) -> Any:
            _Clock.calls += 1
            return datetime.date.today()


def test_a_birth_date_before_a_day_already_reached_asks_no_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    # the clock costs more than the rest of the test: a birth date on or before the day the module was loaded cannot
    # be after today; a later one (here: tomorrow) still asks the clock and is still refused
    monkeypatch.setattr(ids, "_dt", _Clock)
    _Clock.calls = 0
    assert ids._resident_id_part_problem("11010519491231002X") is None
    assert _Clock.calls == 0
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    body = f"110105{tomorrow:%Y%m%d}002"
    code = body + ids.resident_id_check_char(body)
    problem = ids._resident_id_part_problem(code)
    assert problem == ids.msg("claim.id.birth_future", date=tomorrow.isoformat())
    assert _Clock.calls == 1
    assert ids.resident_id_problem(code, today=tomorrow) is None  # (a given day is the day: no clock either)
    assert _Clock.calls == 1
