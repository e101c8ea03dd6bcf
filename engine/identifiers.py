"""Check characters of Chinese identification numbers (national standards, not any policy).

* 统一社会信用代码, GB 32100-2015: 18 characters, the last a check character.
* 居民身份证号码, GB 11643-1999: 17 digits and a check digit (0-9 or X), ISO 7064 MOD 11-2.
"""

from __future__ import annotations

import datetime as _dt

_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def uscc_check_char(first17: str) -> str:
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31]


def is_valid_uscc(code: str) -> bool:
    if len(code) != 18 or any(c not in _USCC_CHARS for c in code):
        return False
    return uscc_check_char(code[:17]) == code[17]


def resident_id_check_char(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def is_valid_resident_id(code: str) -> bool:
    if len(code) != 18 or not code[:17].isdigit() or code[17] not in "0123456789X":
        return False
    try:
        _dt.date(int(code[6:10]), int(code[10:12]), int(code[12:14]))
    except ValueError:
        return False
    return resident_id_check_char(code[:17]) == code[17]


FORMATS = {
    "uscc": (is_valid_uscc, "a unified social credit code (18 characters with a valid GB 32100-2015 check character)"),
    "resident_id": (is_valid_resident_id, "a resident ID number (18 characters with a valid GB 11643-1999 check digit)"),
    "uscc_or_resident_id": (
        lambda c: is_valid_uscc(c) or is_valid_resident_id(c),
        "a unified social credit code (GB 32100-2015) or a resident ID number (GB 11643-1999), with a valid check character",
    ),
}
