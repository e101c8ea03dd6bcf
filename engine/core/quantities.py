"""Exact money and rates, written the way a clause writes them.

Policies may write an amount as `120000`, `"120000"`, `120000.00`, `12万` or
`12万元`, and a rate as `50%` or `0.5`. Everything becomes `Decimal`; a binary
float never appears (the YAML loader already builds `Decimal` from the text).
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import Any

from engine.core.i18n import Msg, clip_text, msg, tr

# (the space before a unit inside its optional group: `\s*(unit)?\s*$` tried every split of a run of spaces, 26 s
# for a policy value of 100,000 spaces, the service's every request waiting on the reload)
_AMOUNT = re.compile(r"^\s*(?P<num>[0-9]+(?:\.[0-9]+)?)(?:\s*(?P<unit>万元|万|元))?\s*$")
_RATE = re.compile(r"^\s*(?P<num>[0-9]+(?:\.[0-9]+)?)(?:\s*(?P<pct>%))?\s*$")
TEN_THOUSAND = Decimal(10000)

#: The largest amount a policy may write (a cap, an award, a budget, a band, a fact's bound): the largest amount a
#: claim may state (claims.MAX_MONEY). A larger one could never bind, and its digits would outgrow the 28-digit
#: decimal context (a 45-digit `…万` made `amount % quantum` raise decimal.InvalidOperation).
MAX_AMOUNT = Decimal("999999999999.99")
#: The largest `max_count` (a count of units): the largest integer a claim may state (999,999,999).
MAX_COUNT = 999_999_999
#: Characters of the number in an amount or rate written as text ("999999999999.99" has 15): longer is refused
#: before any conversion, as the YAML loader refuses numbers longer than 40 characters.
MAX_QUANTITY_CHARS = 40

ROUNDING_MODES = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN, "down": ROUND_DOWN}


def round_units(numerator: int, denominator: int, mode: str) -> int:
    """numerator / denominator (both positive) rounded to a whole number by `mode` (floor, half_up, half_even): a
    round's scaling of each grant's exact share, which the ledger applies and an explanation shows."""
    base, rem = divmod(numerator, denominator)
    if mode == "half_up":
        return base + (1 if 2 * rem >= denominator else 0)
    if mode == "half_even":
        return base + (1 if 2 * rem > denominator or (2 * rem == denominator and base % 2 == 1) else 0)
    return base


class QuantityError(ValueError):
    """A value that is not an amount or a rate; the message says what was expected.

    `message` is the message itself (a `Msg`: put it into another message as a value, and it is said in the reader's
    language there too); `str()` says it in the reader's language."""

    @property
    def message(self) -> Msg:
        return self.args[0] if self.args and isinstance(self.args[0], Msg) else msg("claim.quantity.other", text=str(self.args[0]))

    def __str__(self) -> str:
        return tr(self.message)


def _shown(value: object) -> str:
    """A value for a message, shortened: an absurd amount is not echoed back in full."""
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:50] + "…" + text[-5:]


def _number(text: str, value: object, what: Msg) -> Decimal:
    if len(text) > MAX_QUANTITY_CHARS:
        raise QuantityError(msg("claim.quantity.too_long", value=_shown(value), what=what, n=len(text), most=MAX_QUANTITY_CHARS))
    return Decimal(text)


def _quantity(value: object, pattern: re.Pattern[str], what: Msg) -> tuple[Decimal, re.Match[str] | None]:
    """The number in `value` (an int, a Decimal, or text matching `pattern`) and, for text, its match."""
    if isinstance(value, bool) or value is None:
        raise QuantityError(msg("claim.quantity.not", value=repr(value), what=what))
    if isinstance(value, int):
        return Decimal(value), None
    if isinstance(value, Decimal):
        return value, None
    if isinstance(value, str):
        m = pattern.match(value)
        if not m:
            raise QuantityError(msg("claim.quantity.not", value=_shown(value), what=what))
        return _number(m["num"], value, what), m
    raise QuantityError(msg("claim.quantity.not_kind", value=_shown(value), what=what, kind=type(value).__name__))


def parse_amount(value: object) -> Decimal:
    """`12万` -> Decimal("120000"); `"1234.5"` -> Decimal('1234.5'). Never from a float."""
    result, m = _quantity(value, _AMOUNT, msg("claim.quantity.an_amount"))
    if m is not None and m["unit"] in ("万", "万元"):
        if result.copy_abs() > MAX_AMOUNT:  # (compared exactly, before multiplying at the context's precision)
            raise QuantityError(msg("claim.quantity.too_large", value=_shown(value), most=MAX_AMOUNT))
        result *= TEN_THOUSAND
    if not result.is_finite() or result < 0:
        raise QuantityError(msg("claim.quantity.not_finite", value=_shown(value)))
    if result > MAX_AMOUNT:
        raise QuantityError(msg("claim.quantity.too_large", value=_shown(value), most=MAX_AMOUNT))
    return result


#: an amount an officer types for a ledger record (a reversal's `returned`): ASCII digits, no exponent, separator,
#: space, plus sign or leading zero (`Decimal()` alone took 1e3, " 1.00", 1_000.00 and full-width digits); a minus
#: sign is read, for the record's own check to say the amount must be positive
_PLAIN_AMOUNT = re.compile(r"-?(0|[1-9][0-9]{0,11})(\.[0-9]{1,8})?")


def plain_amount(text: str) -> Decimal | None:
    """`text` as the amount it writes in plain digits, or None when it is written any other way."""
    return Decimal(text) if _PLAIN_AMOUNT.fullmatch(text) else None


def parse_rate(value: object) -> Decimal:
    """`50%` -> Decimal('0.50'); `0.5` -> Decimal('0.5')."""
    result, m = _quantity(value, _RATE, msg("claim.quantity.a_rate"))
    if m is not None and m["pct"]:
        if result > 100:  # (compared exactly, before dividing at the context's precision)
            raise QuantityError(msg("claim.quantity.rate_range", value=_shown(value)))
        result = result / 100
    if not result.is_finite() or result < 0 or result > 1:
        raise QuantityError(msg("claim.quantity.rate_range", value=_shown(value)))
    return result


_PERCENT = re.compile(r"^\s*(?P<num>[0-9]+(?:\.[0-9]+)?)\s*%\s*$")


def parse_percent(value: object) -> Decimal:
    """A percentage written with its sign, as the exact fraction: `"4.35%"` -> Decimal('0.0435') (4.35 / 100).
    Unlike `parse_rate` it may exceed 100% (a growth of 120%), and a bare number is refused: 4.35 could be 4.35%
    or 435%."""
    if not isinstance(value, str):
        raise QuantityError(msg("claim.quantity.percent", value=_shown(value)))
    m = _PERCENT.match(value)
    if not m:
        raise QuantityError(msg("claim.quantity.percent", value=_shown(value)))
    return _number(m["num"], value, msg("claim.quantity.a_percentage")).scaleb(-2)


#: Slips in an amount: 万 (or w) for ten thousand yuan, a currency unit, thousands separators (ASCII or full-width comma)
_WAN = re.compile(r"^([0-9]{1,12}(?:\.[0-9]{1,8})?)\s*(?:w|W|万|万元)\Z")
_GROUPED = re.compile(r"^[¥￥]?\s*([0-9]{1,3}(?:[,，][0-9]{3})+(?:\.[0-9]{1,2})?)\s*元?\Z")
_UNIT = re.compile(
    r"^(?:(?:[¥￥]|RMB|CNY|人民币)\s*([0-9]{1,12}(?:\.[0-9]{1,2})?)\s*(?:元整?)?|([0-9]{1,12}(?:\.[0-9]{1,2})?)\s*元整?)\Z",
    re.IGNORECASE,
)
#: a point with no digits on one side of it (8400., .5): the digits to write
_BARE_POINT = re.compile(r"^(?:([0-9]{1,12})\.|\.([0-9]{1,2}))\Z")
#: what a form writes for "none" where a value goes (a dash, a slash, 无): an amount's, a list cell's
NONE_WORDS = frozenset({"-", "--", "—", "——", "－", "/", "／", "无", "N/A", "n/a", "NA"})
#: spaces between digits (NFKC has made a no-break or thin space a plain one), and an amount in plain digits
_SPACED = re.compile(r"(?<=[0-9]) (?=[0-9])")
#: an amount as a claim writes it: yuan in plain digits, at most two decimals (the claim schema's pattern is this)
MONEY_FORM = r"(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?"
_PLAIN_MONEY = re.compile(MONEY_FORM)
#: an amount in plain digits with more than 12 before the point: more than any amount a claim may state
_TOO_MANY_DIGITS = re.compile(r"[1-9][0-9]{12,}(?:\.[0-9]{1,2})?")
#: an amount with more than two decimals (finer than fen)
_FINER = re.compile(r"^(0|[1-9][0-9]{0,11})\.[0-9]{3,8}\Z")
#: a date written 2021/3/5, 2021.3.5, 2021-3-5, 2021年3月5日, 20210305, or with a time of midnight (2021-03-05T00:00:00,
#: an export's date-time); full-width digits are read as digits (NFKC) to show the fix
_SLIP_DATE = re.compile(
    r"^([0-9]{4})(?:\s*[/.\-年]\s*([0-9]{1,2})\s*[/.\-月]\s*([0-9]{1,2})日?|([0-9]{2})([0-9]{2})|-([0-9]{2})-([0-9]{2})[T ]00:00(?::00)?)\Z"
)


#: an amount in digits with Chinese numeral units between them, as it is said (1万5千, 3千5百元, 1万2): each number
#: with its unit, then maybe a number with none, then maybe the word for yuan
_MIXED = re.compile(r"((?:[0-9]{1,4}[亿万千百十])+)([0-9]{0,4})(?:元整?|块钱?)?")
_MIXED_PAIR = re.compile(r"([0-9]+)([亿万千百十])")
_MIXED_UNITS = {"亿": 10**8, "万": 10**4, "千": 1000, "百": 100, "十": 10}


def mixed_readings(value: Any) -> tuple[int, int] | None:
    """The two ways an amount written in digits with Chinese numeral units between them reads (`1万5千`, `3千5百`,
    `12万5千元`, `1万2`), for a slip's message: (the units added up, the last number taken as the unit below the
    last, as people say 一万二 for 12000). They are one number when the text reads one way only: `1万5千` (15000,
    15000), `1百2十5` (125, 125); `1万2` reads (10002, 12000): no digits are offered for it. None for anything
    else: a number with a unit alone (`30万`, `5千`: slips of their own), units not falling (`5千1万`), a digit
    before 千, 百 or 十 other than 1-9, a number after the last unit too long to stand below it (`1百234`).
    Full-width digits are read as digits. Nothing is read for a value: a reading is only ever said to the person."""
    if not isinstance(value, str) or len(value) > MAX_QUANTITY_CHARS:
        return None
    m = _MIXED.fullmatch(unicodedata.normalize("NFKC", value).strip())
    if m is None:
        return None
    pairs = [(int(n), _MIXED_UNITS[u], n) for n, u in _MIXED_PAIR.findall(m[1])]
    tail = m[2]
    if len(pairs) + bool(tail) < 2:
        return None
    units = [u for _, u, _ in pairs]
    if units != sorted(set(units), reverse=True):
        return None
    for n, unit, written in pairs:
        if written[0] == "0" or (unit < 10**4 and n > 9):
            return None
    last = units[-1]
    if tail and ((tail[0] == "0" and len(tail) > 1) or 10 ** len(tail) > last):
        return None
    added = sum(n * u for n, u, _ in pairs)
    below = last // 10 ** len(tail) if tail else 0  # (the place the number after the last unit stands in, as said)
    read = (added + int(tail or 0), added + int(tail or 0) * below)
    return read if all(_PLAIN_MONEY.fullmatch(str(r)) for r in read) else None


def _plain(number: Decimal) -> str:
    """A Decimal in plain digits: no exponent, and no trailing zeros after the point."""
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def said_in_digits(value: Decimal) -> str:
    """A number said in plain digits, as a person writes it: 0.0000000001 (`Decimal('1E-10')`, whose str() reads as an
    exponent nobody wrote), 2021.0; an absurd magnitude (1E+400) as Python writes it, not 400 digits."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -40 < exponent and value.adjusted() < 40:
        return format(value, "f")
    return str(value)


#: a whole number written with full-width digits, a trailing .0 or a unit word (２０２１, 2021.0, 2021年, 3个)
_WHOLE_WRITTEN = re.compile(r"([0-9]+)(?:\.0+)?\s*(?:年|个|件|项|次|家)?")


def whole_written(text: str) -> str | None:
    """The digits of a whole number written another way (２０２１, 2021.0, 2021年, 3个), to say how to write it; None
    for a text that is no whole number so written. A form's cell, a claim's field and an option say the same fix."""
    m = _WHOLE_WRITTEN.fullmatch(unicodedata.normalize("NFKC", text).strip())
    return m.group(1) if m else None


#: what a count is of, by the end of its Chinese name before 数 (国家数, 专利件数), and the unit it is counted in, in
#: Chinese and English: general Chinese measure words, so a count fact's hint says 个国家 for 授权国家数, not 件
_COUNTED_NOUNS: tuple[tuple[str, str, str], ...] = (
    ("国家", "个国家", "country(ies)"),
    ("地区", "个地区", "regions"),
    ("企业", "家", "enterprises"),
    ("单位", "家", "organisations"),
    ("机构", "家", "institutions"),
    ("人员", "人", "people"),
    ("人", "人", "people"),
    ("月", "个月", "months"),
    ("年", "年", "years"),
    ("天", "天", "days"),
    ("次", "次", "times"),
    ("项", "项", "items"),
    ("家", "家", "enterprises"),
    ("个", "个", "items"),
    ("国", "个国家", "country(ies)"),
    ("件", "件", "items"),
)


def counted_unit(zh_name: str) -> tuple[str, str]:
    """The unit (Chinese, English) a count named `zh_name` is counted in: 授权国家数 -> (个国家, country(ies)), 申报次数 ->
    (次, times), 专利件数 -> (件, items); 件 / items where the name does not say (the common unit of a form's counts)."""
    name = re.sub(r"[（(][^）)]*[）)]\s*$", "", zh_name).strip()  # (a heading's bracketed instructions)
    stem = name[:-1] if name.endswith("数") else name
    return next(((zh, en) for noun, zh, en in _COUNTED_NOUNS if stem.endswith(noun)), ("件", "items"))


def amount_slip(value: Any) -> tuple[Msg, Msg] | None:
    """(what is wrong, how to write it) for an amount written with 万, a unit or thousands separators; None otherwise.

    Nothing is converted: the claim is refused, and the message says the digits to write instead."""
    if not isinstance(value, str):
        return None
    if _TOO_MANY_DIGITS.fullmatch(value):  # (it was "not in the expected form", as if the digits were wrong)
        # said as a number's maximum is (schema.maximum), the value quoted as a claim's messages quote one (240)
        said = msg("schema.maximum", value=clip_text(repr(value), 240), limit=str(MAX_AMOUNT))
        return said, msg("claim.slip.too_large_fix", most=str(MAX_AMOUNT))
    if len(value) > 40:
        return None
    shown = repr(value)
    wan = _WAN.match(value)
    if wan:
        yuan = _plain(Decimal(wan.group(1)) * 10000)
        return msg("claim.slip.wan", value=shown), msg("claim.slip.wan_fix", yuan=yuan, value=value.strip())
    mixed = mixed_readings(value)
    if mixed is not None and mixed[0] == mixed[1]:  # 1万5千, 3千5百: the digits, as 5万's
        return msg("claim.slip.mixed", value=shown), msg("claim.slip.wan_fix", yuan=str(mixed[0]), value=value.strip())
    if mixed is not None:  # 1万2: 12000 as said, 10002 as the figures add up; neither offered
        return msg("claim.slip.mixed_unclear", value=shown, said=str(mixed[1]), added=str(mixed[0])), msg("claim.slip.mixed_unclear_fix")
    grouped = _GROUPED.match(value)
    if grouped:
        digits = re.sub("[,，]", "", grouped.group(1))
        return msg("claim.slip.grouped", value=shown), msg("claim.slip.grouped_fix", digits=digits)
    unit = _UNIT.match(value)
    if unit:
        return msg("claim.slip.unit", value=shown), msg("claim.slip.unit_fix", digits=unit.group(1) or unit.group(2))
    if _FINER.match(value):
        return msg("claim.slip.decimals", value=shown), msg("claim.slip.decimals_fix")
    point = _BARE_POINT.match(value.strip())
    if point:  # (8400. is 8400; .5 is 0.5: the digits to write, said, never read for them)
        digits = point.group(1) if point.group(1) is not None else f"0.{point.group(2)}"
        return msg("claim.slip.bare_point", value=shown), msg("claim.slip.bare_point_fix", digits=digits)
    if value.strip() in NONE_WORDS:  # (a dash read as a minus sign was said "negative")
        return msg("claim.slip.none", value=shown), msg("claim.slip.none_fix")
    # full-width digits (８４００, a Chinese input method's) or spaces between digits (8 400, 8\u2009400): the digits
    # (white space around the digits is said as such, by the claim's own message)
    digits = _SPACED.sub("", unicodedata.normalize("NFKC", value))
    if digits != value and _PLAIN_MONEY.fullmatch(digits):
        return msg("claim.slip.written", value=shown), msg("claim.slip.written_fix", digits=digits)
    return None


def date_slip(value: Any) -> tuple[Msg, Msg] | None:
    """(what is wrong, how to write it) for a date written 2021/3/5 or 2021年3月5日; None otherwise."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    if value.strip() in NONE_WORDS:  # (无 where a date that may be left out goes: the cell was said "not in the form")
        return msg("claim.slip.date_none", value=repr(value)), msg("claim.slip.date_none_fix")
    m = _SLIP_DATE.match(unicodedata.normalize("NFKC", value))
    if m is None:
        return None
    month, day = (g for g in m.groups()[1:] if g is not None)
    written = f"{m.group(1)}-{int(month):02d}-{int(day):02d}"
    try:
        _dt.date.fromisoformat(written)
    except ValueError:
        return msg("claim.slip.date", value=repr(value)), msg("claim.slip.date_unreal", date=written)
    return msg("claim.slip.date", value=repr(value)), msg("claim.slip.date_fix", date=written)


def decimal_places(value: Decimal) -> int:
    """How many decimals `value` is written with: 4.35 -> 2, 0.6500 -> 4, 12 -> 0 (and 0 for a non-finite value)."""
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


#: Formatting money never depends on the calling program's decimal context (its precision could not hold 1,492,200.00).
_FORMAT_CONTEXT = Context(prec=60, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation])
_CENT = Decimal("0.01")


def format_money(value: Decimal) -> str:
    """`Decimal('40000')` -> `'40000.00'`: the canonical form in decisions."""
    return str(value.quantize(_CENT, context=_FORMAT_CONTEXT))


def said_money(value: Decimal, signed: bool = False) -> Msg:
    """An amount as an officer reads it in a tool's words: `50,000.00 元` (`CNY 50,000.00`); `signed`: its sign
    always written (`+50,000.00 元`, `−50,000.00 元`), for a change. A decision's own text is `format_money`'s."""
    n = f"{(abs(value) if signed else value).quantize(_CENT, context=_FORMAT_CONTEXT):,}"
    return msg("core.money_signed", sign="+" if value >= 0 else "−", n=n) if signed else msg("core.money", n=n)
