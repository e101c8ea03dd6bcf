"""Chinese identification numbers: check characters and plausibility (national standards, not any policy).

* 统一社会信用代码, GB 32100-2015: 18 characters -- registration authority code (1st), organisation
  category code (2nd, from the authority's own list), the registering office's administrative division
  code (3rd-8th, GB/T 2260), the organisation code (9th-17th, GB 11714), a check character (18th).
* 居民身份证号码, GB 11643-1999: an address code (1st-6th), a birth date (7th-14th), a sequence number,
  and a check digit (0-9 or X), ISO 7064 MOD 11-2.

A check character catches typing errors only: `000000000000000000` has a valid one. So a number must
also be plausible: every part drawn from its standard's table (see `uscc_problem`, `resident_id_problem`).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from operator import mul

from engine.core.i18n import Msg, msg

_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

#: GB 32100-2015 (with its later additions A and N): registration authority code -> organisation category codes.
#: 1 机构编制, 2 外交, 3 司法行政, 4 文化, 5 民政, 6 旅游, 7 宗教, 8 工会, 9 工商 (市场监管),
#: A 中央军委改革和编制办公室, N 农业, Y 其他.
USCC_CATEGORIES: dict[str, str] = {
    "1": "1239",
    "2": "19",
    "3": "123459",
    "4": "19",
    "5": "1239",
    "6": "129",
    "7": "129",
    "8": "19",
    "9": "123",
    "A": "19",
    "N": "1239",
    "Y": "1",
}

#: GB/T 2260 provincial-level codes (the first two digits of every division code): 11-15, 21-23, 31-37,
#: 41-46, 50-54, 61-65, 71 Taiwan, 81 Hong Kong, 82 Macao.
PROVINCES = frozenset(
    f"{n}" for n in (*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47), *range(50, 55), *range(61, 66), 71, 81, 82)
)
#: A credit code registered by a national-level office carries the division code 100000.
_NATIONAL_DIVISION = "100000"
#: Resident ID address codes beyond the provinces: 83 (Taiwan residents' residence permits, which use
#: 830000 as 81 and 82 serve Hong Kong and Macao ones), and 9 + a province's first digit (the foreign
#: permanent residence ID card since 2023, built on GB 11643 with the same birth date and check digit).
_ID_EXTRA_ADDRESS = frozenset({"83", *(f"9{d}" for d in "123456")})
#: Birth dates a resident ID may carry: none before 1900, none after today (checked against the day the
#: number is read: a claim's submission date does not bound it, as the ID predates any claim anyway).
EARLIEST_BIRTH = _dt.date(1900, 1, 1)
#: A day already reached when this module was loaded: a birth date on or before it is not after today (the day the
#: number is read), so only a later one asks the clock (`date.today()` costs more than the rest of the test).
_DAY_REACHED = _dt.date.today()

#: Whether the organisation code's own GB 11714 check character (the credit code's 17th) is enforced.
#: Every real credit code satisfies it, but the shipped fixtures and examples use made-up organisation
#: codes (91110117MA01ABCD1F ...) that do not: turn this on once those are regenerated.
CHECK_ORG_CODE = False


#: each credit-code character's value (its place in `_USCC_CHARS`)
_USCC_VALUE: dict[str, int] = {c: i for i, c in enumerate(_USCC_CHARS)}


def _uscc_value(c: str) -> int:
    try:
        return _USCC_VALUE[c]
    except KeyError:
        return _USCC_CHARS.index(c)  # (the ValueError `str.index` gives)


def _weighted_sum(value: Callable[[str], int], text: str, weights: tuple[int, ...]) -> int:
    """sum(value of each character x its weight), in C (`map`); a text of another length is a ValueError, as
    `zip(..., strict=True)` gave."""
    if len(text) != len(weights):
        raise ValueError(f"{text!r}: {len(weights)} characters expected")
    return sum(map(mul, map(value, text), weights))


def uscc_check_char(first17: str) -> str:
    value = _USCC_VALUE.__getitem__ if not first17.strip(_USCC_CHARS) else _uscc_value  # (a stray character: its error)
    total = _weighted_sum(value, first17, _USCC_WEIGHTS)
    return _USCC_CHARS[(31 - total % 31) % 31]


def org_code_check_char(first8: str) -> str:
    """GB 11714-1997: the check character of an organisation code's 8-character body (digits, A=10 ... Z=35)."""
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(first8, _ORG_WEIGHTS, strict=True))
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def resident_id_check_char(first17: str) -> str:
    total = _weighted_sum(int, first17, _ID_WEIGHTS)  # (int: as before, for any digit `isdigit` lets through)
    return _ID_CHECK[total % 11]


def _uscc_form(code: str) -> bool:
    return len(code) == 18 and not code.strip(_USCC_CHARS)  # (every character one of them: nothing is left)


#: each credit-code character as the base-34 digit of its value (`int(..., 34)` reads 0-9 then A-Z as 10-35)
_USCC_AS_BASE34 = str.maketrans({c: "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[i] for i, c in enumerate(_USCC_CHARS)})


def _uscc_checks(code: str) -> bool:
    """`_uscc_form(code) and uscc_check_char(code[:17]) == code[17]`, the form tested once.

    The weights are the powers of 3 modulo 31 (`_USCC_WEIGHTS[i] == 3**i % 31`) and 34 leaves 3 modulo 31, so the
    weighted sum leaves what the first 17 characters' values, read backwards as one base-34 number, leave modulo 31:
    one `int` in C instead of 17 look-ups and products (tests/test_fast_intake.py holds it to `uscc_check_char`).
    """
    if len(code) != 18 or code.strip(_USCC_CHARS):
        return False
    total = int(code[16::-1].translate(_USCC_AS_BASE34), 34)
    return _USCC_CHARS[(31 - total % 31) % 31] == code[17]


def uscc_problem(code: str) -> Msg | None:
    """What is wrong with a credit code (form, check character, or an implausible part); None if nothing."""
    if not _uscc_checks(code):
        return msg("claim.id.check_char", code=repr(code))
    return _uscc_part_problem(code)


def _uscc_part_problem(code: str) -> Msg | None:
    """What part of a credit code whose form and check character hold is implausible; None if nothing."""
    authority, category, division, org = code[0], code[1], code[2:8], code[8:17]
    if authority not in USCC_CATEGORIES:
        return msg("claim.id.uscc_authority", authority=repr(authority), allowed=list(USCC_CATEGORIES))
    allowed = USCC_CATEGORIES[authority]
    if category not in allowed:
        return msg("claim.id.uscc_category", category=repr(category), allowed=list(allowed), authority=repr(authority))
    if not division.isdigit() or (division[:2] not in PROVINCES and division != _NATIONAL_DIVISION):
        return msg("claim.id.uscc_division", division=repr(division), national=_NATIONAL_DIVISION)
    if CHECK_ORG_CODE:
        body_ok = all(c.isdigit() or "A" <= c <= "Z" for c in org[:8]) and (org[8].isdigit() or org[8] == "X")
        if not body_ok or org_code_check_char(org[:8]) != org[8]:
            return msg("claim.id.uscc_org", org=repr(org))
    return None


def _resident_id_form(code: str) -> bool:
    return len(code) == 18 and code[:17].isdigit() and code[17] in "0123456789X"


def _resident_id_checks(code: str) -> bool:
    """`_resident_id_form(code) and resident_id_check_char(code[:17]) == code[17]`.

    The weights are the powers of 2 modulo 11 (`_ID_WEIGHTS[i] == 2**(17 - i) % 11`) and 13 leaves 2 modulo 11, so
    the weighted sum leaves twice what the 17 digits read as one base-13 number leave modulo 11: one `int` in C.
    (`int` takes every decimal digit `isdigit` lets through and refuses the others, e.g. "²", with the ValueError
    `int` of that one character gives; tests/test_fast_intake.py holds it to `resident_id_check_char`.)
    """
    return _resident_id_form(code) and _ID_CHECK[2 * int(code[:17], 13) % 11] == code[17]


def resident_id_problem(code: str, today: _dt.date | None = None) -> Msg | None:
    """What is wrong with a resident ID number (form, check digit, birth date, address code); None if nothing."""
    if not _resident_id_checks(code):
        return msg("claim.id.check_char", code=repr(code))
    return _resident_id_part_problem(code, today)


def _resident_id_part_problem(code: str, today: _dt.date | None = None) -> Msg | None:
    """What part of a resident ID whose form and check digit hold is implausible; None if nothing."""
    try:
        born = _dt.date(int(code[6:10]), int(code[10:12]), int(code[12:14]))
    except ValueError:
        return msg("claim.id.birth_unreal", date=repr(code[6:14]))
    if today is None and born > _DAY_REACHED:  # (on or before a day already reached: not after today, no clock read)
        today = _dt.date.today()
    if today is not None and born > today:
        return msg("claim.id.birth_future", date=born.isoformat())
    if born < EARLIEST_BIRTH:
        return msg("claim.id.birth_early", date=born.isoformat(), year=EARLIEST_BIRTH.year)
    if code[:2] not in PROVINCES and code[:2] not in _ID_EXTRA_ADDRESS:
        return msg("claim.id.address", code=repr(code[:2]))
    return None


def uscc_or_resident_id_problem(code: str) -> Msg | None:
    """A credit code or a resident ID: the problem of the one whose check character holds (both, if both do)."""
    as_uscc = uscc_problem(code) if _uscc_checks(code) else None
    as_id = resident_id_problem(code) if _resident_id_checks(code) else None
    if (_uscc_checks(code) and as_uscc is None) or (_resident_id_checks(code) and as_id is None):
        return None
    found = [p for p in (as_uscc, as_id) if p is not None]
    if len(found) == 2:
        return msg("claim.id.both", first=found[0], second=found[1])
    return found[0] if found else msg("claim.id.check_char", code=repr(code))


def is_valid_uscc(code: str) -> bool:
    return uscc_problem(code) is None


def is_valid_resident_id(code: str) -> bool:
    return resident_id_problem(code) is None


#: format -> (the problem with a value, or None; what is expected)
PROBLEMS: dict[str, tuple[Callable[[str], Msg | None], Msg]] = {
    "uscc": (
        uscc_problem,
        msg("claim.id.uscc_expected"),
    ),
    "resident_id": (
        resident_id_problem,
        msg("claim.id.resident_expected"),
    ),
    "uscc_or_resident_id": (
        uscc_or_resident_id_problem,
        msg("claim.id.either_expected"),
    ),
}


def _uscc_valid(code: str) -> bool:
    return _uscc_checks(code) and _uscc_part_problem(code) is None


def _resident_id_valid(code: str) -> bool:
    return _resident_id_checks(code) and _resident_id_part_problem(code) is None


def _either_valid(code: str) -> bool:
    # `uscc_or_resident_id_problem(code) is None`: one of the two whose check character holds has no problem
    return _uscc_valid(code) or _resident_id_valid(code)


#: format -> (is it valid, what is expected): the yes/no view of PROBLEMS (`problem(code) is None`, each check
#: made once and no message made for a valid number; tests/test_fast_paths_exact.py holds the two together).
FORMATS: dict[str, tuple[Callable[[str], bool], Msg]] = {
    name: (valid, PROBLEMS[name][1])
    for name, valid in (("uscc", _uscc_valid), ("resident_id", _resident_id_valid), ("uscc_or_resident_id", _either_valid))
}
