"""Which of the engine's files a document is, told from its top-level keys (or a workbook from its first bytes).

Said when a file of one kind is given where another is read: a case file to `validate`, a policy file as the claim
to `evaluate`, a decision back to `evaluate`, a round's workbook to `validate`. Each gave a schema error for every
key it has and every key it lacks (eight for a case file, nine for a claim), or "not valid UTF-8: save the file as
UTF-8" for a workbook, none of which says what happened; the one problem this module words says which file it is
and the command that reads it. Only ever asked once a file has failed to be what was expected: no file that reads
rightly pays for it.
"""

from __future__ import annotations

from typing import Any

from engine.core.i18n import Msg, msg

#: the first bytes of an .xlsx (a zip archive) and of an .xls (an OLE compound file)
_WORKBOOK_STARTS = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
#: the elements of a list looked at to call it a round of applications
_LOOKED_AT = 20


def kind_of(data: Any) -> str | None:
    """ "policy", "cases", "decision", "claim" or "round" (a list of applications) when `data` looks like one of the
    engine's files by the keys only that kind has; None when it looks like none of them."""
    if isinstance(data, dict):
        if "policy" in data and "rules" in data:
            return "policy"
        if "cases" in data:
            return "cases"
        if "claim_id" in data and "items" in data:
            return "decision" if "format" in data and "total" in data else "claim"
        return None
    if isinstance(data, list) and data and all(isinstance(x, dict) and "claim_id" in x for x in data[:_LOOKED_AT]):
        return "round"
    return None


def is_workbook(raw: bytes) -> bool:
    """The bytes of an Excel workbook (or another zip archive), not text."""
    return raw.startswith(_WORKBOOK_STARTS)


def named(kind: str) -> Msg:
    """What a file of `kind` is, in the reader's words (`一份用例文件`)."""
    return msg(f"loading.file_kind.{kind}")


def read_by(kind: str) -> Msg:
    """The command that reads a file of `kind`, as the fix for giving it elsewhere."""
    return msg(f"loading.file_kind.read_by.{kind}")
