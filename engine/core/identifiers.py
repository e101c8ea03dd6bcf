"""Chinese identification numbers: check characters and plausibility (national standards, not any policy).

* 统一社会信用代码, GB 32100-2015: 18 characters -- registration authority code (1st), organisation
  category code (2nd, from the authority's own list), the registering office's administrative division
  code (3rd-8th, GB/T 2260), the organisation code (9th-17th, GB 11714), a check character (18th).
* 居民身份证号码, GB 11643-1999: an address code (1st-6th), a birth date (7th-14th), a sequence number,
  and a check digit (0-9 or X), ISO 7064 MOD 11-2.
* 专利号, ZC 0006-2003 (专利申请号标准): ZL and the application number -- 12 digits since 1 October 2003 (the
  filing year, the kind of application, a 7-digit serial), 8 before it (the year's last two digits, the kind, a
  5-digit serial) -- then a point and the check character: the digits times 2, 3, ..., 9, 2, 3, 4, 5, summed,
  modulo 11 (10 is X). A patent granted by another office is named by the office's WIPO ST.3 two-letter code and
  its number, without leading zeros or the ST.16 kind code (US 11,000,001 B2 is US11000001): the kind code names a
  document (A1 the application published, B1 or B2 the grant), not the patent, so that one patent has one name.

A check character catches typing errors only: `000000000000000000` has a valid one. So a number must
also be plausible: every part drawn from its standard's table (see `uscc_problem`, `resident_id_problem`).
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from collections.abc import Callable
from operator import mul
from typing import Any

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


def _check_char_problem(code: str, expected: str | None) -> Msg:
    """A number of the right form whose check character fails: what the other characters make it (`expected`), to
    check against the certificate (a slip in another character fails it too, so it is said as what to check)."""
    if expected is None:
        return msg("claim.id.check_char", code=repr(code))
    return msg("claim.id.check_char_is", code=repr(code), expected=expected)


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
        return _check_char_problem(code, uscc_check_char(code[:17]) if _uscc_form(code) else None)
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
        return _check_char_problem(code, resident_id_check_char(code[:17]) if _resident_id_form(code) else None)
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


#: The form of a Chinese patent number: ZL, 12 or 8 digits, a point, the check character (ASCII only: `[0-9]`, not
#: `\d`, which takes any script's digits).
CN_PATENT_FORM = r"ZL(?:[0-9]{12}|[0-9]{8})\.[0-9X]"
#: The form of a patent number of another office: its WIPO ST.3 code, a series' letters if it has them (USRE49000, a
#: US reissue; TWI123456, a Taiwanese invention patent), the number without leading zeros, and no ST.16 kind code:
#: US11000001B2 and US11000001, EP1234567A1 and EP1234567B1 would otherwise be two patents to "once per patent".
#: CN and ZL are not among them: a patent granted in China is named by its 专利号 (ZL...), as on its certificate, and
#: never by its publication number (CN...B). Nor is WO: WIPO publishes international applications and grants none.
#: Of another office's number only the form can be checked (no office's table of numbers is kept here): that it is
#: its grant's number, not its application's publication (US20210123456, JP2016123456), is the proof of right's.
FOREIGN_PATENT_FORM = r"(?!CN|ZL|WO)[A-Z]{2}[A-Z]{0,2}[1-9][0-9]{3,12}"
#: another office's number written with leading zeros or its kind code, for the message that shows its standard form;
#: a kind code A (A, A1, A2 ...) is an application's publication, not a grant: never shown as a patent's number
_FOREIGN_PATENT_WRITTEN = re.compile(r"([A-Z]{2}[A-Z]{0,2}?)0*([1-9][0-9]{3,12})([A-Z][0-9]?)?")
_CN_PATENT_RE = re.compile(CN_PATENT_FORM)
_FOREIGN_PATENT_RE = re.compile(FOREIGN_PATENT_FORM)
_PATENT_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
#: The kind digit: 1 invention, 2 utility model, 3 design, 8 an international (PCT) application for an invention
#: entering China, 9 one for a utility model.
_PATENT_KINDS = "12389"
#: China's patent law took effect on 1 April 1985: no application is from an earlier year.
FIRST_PATENT_YEAR = 1985
#: Twelve-digit application numbers began on 1 October 2003; eight-digit ones ended then.
TWELVE_DIGITS_FROM = 2003
#: The longest text a patent number is looked for in, to suggest its standard form (a message, never a value).
_MOST_TIDIED = 64


_PATENT_CHECK_CHARS = "0123456789X"
#: what the weighted sum of 12 (or 8) digits' character codes exceeds the weighted sum of the digits by: "0" is 48
_PATENT_ZERO_SUM = {n: 48 * sum(_PATENT_WEIGHTS[:n]) for n in (8, 12)}


def cn_patent_check_char(digits: str) -> str:
    """The check character of a Chinese application number's 12 (or 8) digits: ZC 0006-2003."""
    if len(digits) not in (8, 12) or not (digits.isascii() and digits.isdigit()):
        raise ValueError(f"{digits!r}: 8 or 12 digits expected")
    return _patent_check_char(digits)


def _patent_check_char(digits: str) -> str:
    # the digits' character codes times the weights, in C (`map` over the bytes), less what the codes add (8 digits:
    # the first 8 weights); the digits are 8 or 12 ASCII digits
    total = sum(map(mul, digits.encode(), _PATENT_WEIGHTS)) - _PATENT_ZERO_SUM[len(digits)]
    return _PATENT_CHECK_CHARS[total % 11]


#: what the kind digit of a Chinese application number says (Patent Law: 发明, 实用新型, 外观设计)
_KIND_OF_DIGIT = {"1": "invention", "8": "invention", "2": "utility_model", "9": "utility_model", "3": "design"}


#: `cn_patent_kind` of the numbers asked lately (one item's number is asked by its decision, its JSON and its
#: explanation, and a round's outputs are written after all its decisions): at most `_KINDS_KEPT` (~5 MB)
_KINDS: dict[str, str] = {}
_KINDS_KEPT = 1 << 16


def cn_patent_kind(code: Any) -> str:
    """The kind of patent a valid Chinese patent number says by its kind digit (ZC 0006-2003): "invention" (1, and 8:
    an international application for an invention entering China), "utility_model" (2, 9), "design" (3); "" for
    anything else (another office's number, a text that is no valid Chinese number): its kind is not written in it."""
    if type(code) is str:
        kind = _KINDS.get(code)
        if kind is None:
            if len(_KINDS) >= _KINDS_KEPT:
                _KINDS.clear()
            kind = _KINDS[code] = _cn_patent_kind(code)
        return kind
    return _cn_patent_kind(code) if isinstance(code, str) else ""


def _cn_patent_kind(code: str) -> str:
    if not _cn_patent_checks(code):
        return ""
    digits = code[2:-2]
    return _KIND_OF_DIGIT.get(digits[4] if len(digits) == 12 else digits[2], "")


def _cn_patent_checks(code: str) -> bool:
    return _CN_PATENT_RE.fullmatch(code) is not None and _patent_check_char(code[2:-2]) == code[-1]


def _cn_patent_part_problem(code: str) -> Msg | None:
    """What part of a Chinese patent number whose form and check character hold is implausible; None if nothing."""
    digits = code[2:-2]
    if len(digits) == 12:
        year, kind, first, last = int(digits[:4]), digits[4], TWELVE_DIGITS_FROM, _DAY_REACHED.year
        if year > last:
            last = _dt.date.today().year  # (a year not yet reached when the module was loaded: ask the clock)
    else:
        year, kind, first, last = int(digits[:2]), digits[2], FIRST_PATENT_YEAR, TWELVE_DIGITS_FROM
        year += 2000 if year < 45 else 1900  # (either way out of range is said as the nearer: 84 is 1984, 05 is 2005)
    if not first <= year <= last:
        return msg("claim.id.patent_year", year=year, digits=len(digits), first=first, last=last)
    if kind not in _PATENT_KINDS:
        return msg("claim.id.patent_kind", kind=repr(kind))
    return None


def _tidied_patent(code: str) -> str | None:
    """The standard writing of the patent number `code` is most likely written another way (full-width characters,
    spaces, commas, lower case, no ZL or CN in its place, a Chinese full stop), if that writing holds; None if not,
    or if `code` already is it. For a message only: a claim's value is never changed."""
    text = _plain(code)
    if text is None:
        return None
    for tidy in (_as_chinese(text), _as_foreign(text) or text):
        if tidy != code and (_cn_patent_valid(tidy) or _FOREIGN_PATENT_RE.fullmatch(tidy)):
            return tidy
    return None


def _plain(code: str) -> str | None:
    """`code` without what its writing may add (full-width forms, lower case, spaces, commas, a Chinese full stop);
    None for a text too long to be a patent number."""
    if len(code) > _MOST_TIDIED:
        return None
    return "".join(unicodedata.normalize("NFKC", code).upper().replace("。", ".").replace(",", "").split())


def _as_chinese(text: str) -> str:
    """A plain text as a Chinese number is written: ZL in place of CN, or of nothing (not judged)."""
    return "ZL" + (text[2:] if text.startswith(("ZL", "CN")) else text)


def _as_foreign(text: str) -> str | None:
    """A plain text as another office's granted patent is written: no leading zeros, no kind code (not judged);
    None when it is no such number, or names an application's publication (kind code A)."""
    m = _FOREIGN_PATENT_WRITTEN.fullmatch(text)
    return None if m is None or (m.group(3) or "").startswith("A") else m.group(1) + m.group(2)


def _publication(code: str) -> Msg | None:
    """When `code` names an application's publication, not a granted patent: a WO number (an international
    application's) or a number with a kind code A; None otherwise."""
    text = _plain(code)
    foreign = _FOREIGN_PATENT_WRITTEN.fullmatch(text) if text is not None else None
    if text is None or foreign is None:
        return None
    if text.startswith("WO"):
        return msg("claim.id.patent_international", code=repr(code))
    kind = foreign.group(3) or ""
    return msg("claim.id.patent_publication", code=repr(code), kind=kind) if kind.startswith("A") else None


def _written_and_wrong(code: str) -> Msg | None:
    """When `code` is a Chinese number in its standard form but for the way it is written, and that number then
    fails its check character (or its year or kind): both said, so that the typing error is not lost behind the
    spaces (`ZL 2021 1 0000002.7`). None otherwise."""
    text = _plain(code)
    form = _as_chinese(text) if text is not None else None
    if form is None or form == code or _CN_PATENT_RE.fullmatch(form) is None:
        return None
    problem = cn_patent_problem(form)
    return None if problem is None else msg("claim.id.patent_written_wrong", code=repr(code), tidy=form, problem=problem)


def cn_patent_problem(code: str) -> Msg | None:
    """What is wrong with a Chinese patent number (form, check character, filing year, kind); None if nothing."""
    if _CN_PATENT_RE.fullmatch(code) is None:
        return slip_of("cn_patent", code) or msg("claim.id.patent_form", code=repr(code))
    if _patent_check_char(code[2:-2]) != code[-1]:
        return _check_char_problem(code, _patent_check_char(code[2:-2]))
    return _cn_patent_part_problem(code)


def patent_number_problem(code: str) -> Msg | None:
    """A Chinese patent number, or another office's: what is wrong with it; None if nothing."""
    if _FOREIGN_PATENT_RE.fullmatch(code):
        return None
    if _CN_PATENT_RE.fullmatch(code) is None:
        return slip_of("patent_number", code) or msg("claim.id.patent_number_form", code=repr(code))
    return cn_patent_problem(code)


def _cn_patent_valid(code: str) -> bool:
    return _cn_patent_checks(code) and _cn_patent_part_problem(code) is None


def _patent_number_valid(code: str) -> bool:
    return _cn_patent_valid(code) or _FOREIGN_PATENT_RE.fullmatch(code) is not None


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
    "cn_patent": (
        cn_patent_problem,
        msg("claim.id.cn_patent_expected"),
    ),
    "patent_number": (
        patent_number_problem,
        msg("claim.id.patent_number_expected"),
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
    for name, valid in (
        ("uscc", _uscc_valid),
        ("resident_id", _resident_id_valid),
        ("uscc_or_resident_id", _either_valid),
        ("cn_patent", _cn_patent_valid),
        ("patent_number", _patent_number_valid),
    )
}

#: format -> the form of its text, as a regular expression without anchors (what a claim schema and the fast intake
#: test before the format's own check); a format not named here is 18 characters of [0-9A-Z].
FORMS: dict[str, str] = {
    "cn_patent": CN_PATENT_FORM,
    "patent_number": f"(?:{CN_PATENT_FORM}|{FOREIGN_PATENT_FORM})",
}
CODE_FORM = "[0-9A-Z]{18}"
#: format -> a number in its form, valid, for a template's example row (a format not named here: a word, "（代码）")
EXAMPLES: dict[str, str] = {"cn_patent": "ZL202110000002.0", "patent_number": "ZL202110000002.0"}


def form_of(format_name: str | None) -> str:
    """The form of an identifier's text under `format_name` (None: no format), unanchored."""
    return FORMS.get(format_name or "", CODE_FORM)


def slip_of(format_name: str | None, text: str) -> Msg | None:
    """When `text` fails the form of `format_name` only for the way it is written, the message that shows the standard
    writing (a patent number with spaces, full-width digits, no ZL ...), or, when that writing then fails its check
    character, year or kind, both (`_written_and_wrong`); None otherwise."""
    if not isinstance(text, str):
        return None
    if format_name in FORMATS and format_name not in FORMS:  # a credit code or ID number: lower case, full width, spaces
        code = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).upper()
        # (spaces around it are said as such, by the claim's text check)
        if code != text and text == text.strip() and len(code) == 18 and FORMATS[format_name][0](code):
            return msg("claim.id.code_written", code=repr(text), tidy=code)
        return None
    if format_name not in FORMS:
        return None
    tidy = _tidied_patent(text)
    if tidy is None or (format_name == "cn_patent" and not _cn_patent_valid(tidy)):
        return _written_and_wrong(text) or (_publication(text) if format_name == "patent_number" else None)
    return msg("claim.id.patent_written", code=repr(text), tidy=tidy)


def number_cell_problem(format_name: str | None, value: int | float | str) -> Msg | None:
    """A spreadsheet's number cell where an identifier of `format_name` goes: a patent number typed without its ZL
    becomes a number, which drops a check character 0 (202110000002.0 is kept as 202110000002) and cannot hold X.
    The message shows the number to type when the cell can only have meant one (its check character is the one it
    shows, or the 0 a number drops) and that number holds; else the form's example. None for another format (a
    number is read as its digits, and the form judges them). A text `value` is a CSV file's export of a number cell
    in scientific form, whose digits are lost: the form's example only."""
    if format_name not in FORMS:
        return None
    if isinstance(value, str):  # a number cell's CSV export in scientific form (2.02111E+11): its digits are lost
        return msg("claim.id.patent_number_cell", value=value, example=EXAMPLES[format_name])
    whole = isinstance(value, int) or (value.is_integer() and abs(value) < 1e15)  # (1e300 is shown as 1e+300)
    text = str(int(value)) if whole else repr(value)
    digits, _, shown = text.partition(".")
    example = EXAMPLES[format_name]
    if len(digits) in (8, 12) and digits.isascii() and digits.isdigit():
        check = _patent_check_char(digits)
        if (shown == check or (not shown and check == "0")) and _cn_patent_valid(f"ZL{digits}.{check}"):
            example = f"ZL{digits}.{check}"  # (its filing year and kind plausible too: never a number the form refuses)
    return msg("claim.id.patent_number_cell", value=text, example=example)
