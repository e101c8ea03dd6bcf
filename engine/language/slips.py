"""Common slips in what a person types where a policy wants an amount or a date, and the fix for each.

`50w`, `5k`, `1,000`, `300，000` are amounts written in forms a policy does not read; `2021/3/5`, `2021.3.5`,
`2021年3月5日` and `2021-3-5` are dates written otherwise than YYYY-MM-DD. Each function gives the value as it
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
