"""Common slips in what a person types where a policy wants an amount or a date, and the fix for each.

`50w`, `5k`, `1,000`, `300，000` are amounts written in forms a policy does not read; `2021/3/5`, `2021.3.5`,
`2021年3月5日` and `2021-3-5` are dates written otherwise than YYYY-MM-DD; `三十万`, `五千元` are amounts written in
Chinese numerals (`chinese_number` reads them, for these fixes and for lint's reading of a clause's text). Each function gives the value as it
should be written (the fix a message shows), or None when the text is not such a slip. Nothing here decides
what a value means: a fix is only ever shown to the person, never used in its place.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import re
import unicodedata
from decimal import Decimal

#: A number with an optional thousands separator (`,` or the full-width `，`) and a unit a person may type.
_AMOUNT = re.compile(
    r"^\s*(?P<num>[0-9]{1,3}(?:[,，][0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?)\s*"
    r"(?P<unit>w|W|万元|万|千元|千|k|K|亿元|亿|元|块钱|块|RMB|rmb|CNY|yuan)?\s*$"
)
_UNITS = {"w": 10**4, "W": 10**4, "万元": 10**4, "万": 10**4, "千元": 10**3, "千": 10**3, "k": 10**3, "K": 10**3}
_UNITS |= {"亿元": 10**8, "亿": 10**8}
#: The units a policy's amount fields read themselves (`N万`, `N万元`, `N元`).
POLICY_UNITS = frozenset({"", "万", "万元", "元"})
_MAX_CHARS = 40
_DATE = re.compile(
    r"^\s*(?P<y>[0-9]{4})\s*(?:[-/.]|年)\s*(?P<m>[0-9]{1,2})\s*(?:[-/.]|月)\s*(?P<d>[0-9]{1,2})(?:\s*日)?\s*$"
)  # (日 with its space: never two runs of spaces side by side)


def yuan(text: str, accepted_units: frozenset[str] = frozenset()) -> str | None:
    """The number of yuan an amount typed as `text` means, written plainly (the digits of N × 10,000 for `Nw`; `N,NNN` without its comma),
    when `text` is an amount in a form not read where it stands: a unit not among `accepted_units` or a thousands
    separator. None for anything else (text that is no amount, or an amount already written as accepted)."""
    if not isinstance(text, str) or len(text) > _MAX_CHARS:
        return None
    m = _AMOUNT.match(text)
    if m is None:
        return None
    number, unit = m["num"], m["unit"] or ""
    separated = "," in number or "，" in number
    if not separated and (not unit or unit in accepted_units):
        return None
    value = Decimal(number.replace(",", "").replace("，", "")) * _UNITS.get(unit, 1)
    return f"{value.normalize():f}"


def has_thousands_separator(text: str) -> bool:
    """`1,000`, `300，000.50`, `5,000元`: an amount written with a thousands separator."""
    m = _AMOUNT.match(text) if isinstance(text, str) and len(text) <= _MAX_CHARS else None
    return m is not None and ("," in m["num"] or "，" in m["num"])


def iso_date(text: str) -> str | None:
    """`2021/3/5`, `2021.3.5`, `2021年3月5日`, `2021-3-5` -> "2021-03-05" (when that day exists); None for anything
    else, and for a date already written YYYY-MM-DD."""
    if not isinstance(text, str) or len(text) > _MAX_CHARS:
        return None
    m = _DATE.match(text)
    if m is None:
        return None
    try:
        day = _dt.date(int(m["y"]), int(m["m"]), int(m["d"]))
    except ValueError:
        return None
    fixed = day.isoformat()
    return None if fixed == text.strip() else fixed


def no_such_day(text: str) -> tuple[int, int, int | None] | None:
    """(year, month, the days that month has) for a date written like one whose day does not exist: `2021-02-30`
    -> (2021, 2, 28), `2021/4/31` -> (2021, 4, 30); (year, month, None) when the month is not 1 to 12. None for
    anything else (a day that exists, or text that is no date)."""
    if not isinstance(text, str) or len(text) > _MAX_CHARS:
        return None
    m = _DATE.match(text)
    if m is None:
        return None
    year, month, day = int(m["y"]), int(m["m"]), int(m["d"])
    if not 1 <= month <= 12:
        return year, month, None
    if year < 1:
        return None
    days = calendar.monthrange(year, month)[1]
    return (year, month, days) if not 1 <= day <= days else None


#: quotation marks a Chinese input method types for " and ': no quotes to YAML, which keeps them in the value
_CHINESE_QUOTES = "\u201c\u201d\u2018\u2019"


def full_width(text: str) -> tuple[list[str], str] | None:
    """(the characters typed full-width or as Chinese quotes, the text written without them) when a value holds
    any: `50％` -> (['％'], '50%'), `３０万` -> (['３', '０'], '30万'), `“30万”` -> (['“', '”'], '30万'),
    `R2，R3` -> (['，'], 'R2,R3'); None when it holds none. (NFKC: the half-width form of each, as the engine reads
    claims; Chinese words stay as they are.)"""
    if len(text) > _MAX_CHARS * 4:
        return None
    found = [
        c for c in text if c in _CHINESE_QUOTES or (c != unicodedata.normalize("NFKC", c) and unicodedata.normalize("NFKC", c).isascii())
    ]
    if not found:
        return None
    fixed = "".join("" if c in _CHINESE_QUOTES else unicodedata.normalize("NFKC", c) if c in found else c for c in text)
    return list(dict.fromkeys(found)), fixed


# --- Chinese numerals ------------------------------------------------------------

#: Chinese numerals, common and financial (大写) forms: digits, the units within a section, the section units.
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "壹": 1, "二": 2, "两": 2, "贰": 2, "三": 3, "叁": 3, "四": 4, "肆": 4, "五": 5, "伍": 5}
_CN_DIGITS.update({"六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8, "九": 9, "玖": 9})
_CN_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_CN_SECTIONS = {"万": 10**4, "萬": 10**4, "亿": 10**8, "億": 10**8}
#: every character of a number written in Chinese numerals
CHINESE_NUMERALS = "".join((*_CN_DIGITS, *_CN_UNITS, *_CN_SECTIONS))
_ZEROS = "零〇"
#: an amount in Chinese numerals, with the word for yuan if any (万 is a numeral here: 三十万 is one number)
_CN_AMOUNT = re.compile(rf"^\s*(?P<num>[{CHINESE_NUMERALS}]+)\s*(?P<unit>元整|元|块钱|块)?\s*$")


def chinese_number(text: str) -> int | None:
    """The value of a run of Chinese numerals (digits 一…九 or their capital forms with the units 十, 百, 千, 万, 亿;
    两 is 2), or None when it holds no digit (a unit alone)."""
    total = wan = section = digit = 0  # (亿 groups, the 万 group within the 亿, the section below 万, the digit)
    seen = False
    for ch in text:
        if ch in _CN_DIGITS:
            digit, seen = _CN_DIGITS[ch], True
        elif ch in _CN_UNITS:
            unit = _CN_UNITS[ch]
            if digit == 0 and unit == 10:
                digit, seen = 1, True  # 十二: 12
            section += digit * unit
            digit = 0
        elif _CN_SECTIONS[ch] == 10**4:  # 万 multiplies what stands since the last 亿, not the 亿 before it
            wan = (wan + section + digit) * 10**4
            section = digit = 0
        else:  # (九千九百九十九亿九千九百九十九万… read 9,999,000,099,999,999 when 万 multiplied the whole)
            total = (total + wan + section + digit) * 10**8
            wan = section = digit = 0
    return total + wan + section + digit if seen else None


def _plain_numeral(run: str) -> bool:
    """A run of Chinese numerals that reads one way only: each digit but the last stands before its unit, the units
    fall within a section (千 百 十) and the sections fall (亿 then 万), 零 only after a unit. Not 三万五 (35000 as
    people say it, 30005 as the characters add up), 一百五, 一二三, 三百五千, 零五."""
    previous = ""  # what the character before was: "", "digit", "zero", "unit" or "section"
    unit_above, section_above = 10**4, 10**9
    for i, ch in enumerate(run):
        if ch in _ZEROS:
            ok, previous = previous in ("unit", "section"), "zero"
        elif ch in _CN_DIGITS:
            last_after_unit = i == len(run) - 1 and previous in ("unit", "section") and run[i - 1] not in "十拾"
            ok, previous = previous != "digit" and not last_after_unit, "digit"
        elif ch in _CN_UNITS:
            unit = _CN_UNITS[ch]
            ok, previous = unit < unit_above and (previous == "digit" or (unit == 10 and i == 0)), "unit"
            unit_above = unit
        else:
            section = _CN_SECTIONS[ch]
            ok, previous = section < section_above and previous in ("digit", "unit"), "section"
            section_above, unit_above = section, 10**4
        if not ok:
            return False
    return previous != "zero"


#: a whole number in Chinese numerals, with the word it counts if any (三, 两次, 一百二十家)
_CN_COUNT = re.compile(rf"^\s*(?P<num>[{CHINESE_NUMERALS}]+)\s*(?:年|次|件|个|家|项|名|个国家)?\s*$")


def _numeral_read(pattern: re.Pattern[str], text: object) -> tuple[re.Match[str], int] | None:
    """`text` matched by `pattern` (its numerals as `num`) and the whole number they read as; None when it does not
    match, is too long, or its numerals do not read one way only."""
    if not isinstance(text, str) or len(text) > _MAX_CHARS:
        return None
    m = pattern.match(text)
    if m is None or not _plain_numeral(m["num"]):
        return None
    value = chinese_number(m["num"])
    return None if value is None else (m, value)


def chinese_count(text: str) -> str | None:
    """A whole number written in Chinese numerals where a policy wants digits (`times: 两` -> "2", `first: 一百二十家`
    -> "120"); None for anything else, and for numerals that do not read one way only (`一百五`: 150 or 105?)."""
    read = _numeral_read(_CN_COUNT, text)
    return None if read is None else str(read[1])


def chinese_amount(text: str) -> str | None:
    """An amount written in Chinese numerals, as a policy writes it: `三十万` -> "30万", `三十万元` -> "30万元",
    `五千元` -> "5000元", `十二万五千` -> "125000"; None for anything else, and for numerals that do not read one way
    only (`三万五`: 35000 or 30005?)."""
    read = _numeral_read(_CN_AMOUNT, text)
    if read is None or not read[1]:
        return None
    m, value = read
    unit = "元" if m["unit"] else ""
    if m["num"][-1] in "万萬" and value % 10**4 == 0:
        return f"{value // 10**4}万{unit}"
    return f"{value}{unit}"
