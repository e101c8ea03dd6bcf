"""Characters that make text read otherwise than it displays: one list for claims and for YAML texts.

Format characters (Unicode category Cf: bidi controls, zero-width space and joiners, word joiner, BOM, soft
hyphen, tag characters...) are invisible, so two ids or names that look equal can differ, and bidi controls
reorder what a reviewer sees. U+0085, U+2028 and U+2029 are line breaks to YAML 1.1 that no editor, diff or
`grep` shows as one. tests/test_bad_claims.py checks the Cf list against the running Python's Unicode database.
"""

from __future__ import annotations

import re
import unicodedata

#: Bidirectional controls: marks (LRM, RLM, ALM), embeddings and overrides, isolates.
BIDI = frozenset("\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: The format characters of the Basic Multilingual Plane, as a regular expression class's body.
FORMAT_BMP = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
)
#: The format characters beyond it, as a regular expression class's body.
FORMAT_ASTRAL = "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
#: Line breaks to YAML 1.1 (and to Python's `str.splitlines`) that display as none.
HIDDEN_BREAKS = "\x85\u2028\u2029"
#: Control characters but tab and line feed (C0, DEL, C1), as a regular expression class's body: a terminal acts on
#: them (ESC starts a sequence that recolours, moves or clears what a reader sees; BEL rings).
CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f"

#: What no reader sees as written, anywhere in words the engine shows: a control (tab and line feed aside), a lone
#: surrogate, a hidden line break or a format character (a bidi control reorders what a reviewer reads).
UNSHOWN = re.compile(f"[{CONTROLS}\ud800-\udfff{HIDDEN_BREAKS}{FORMAT_BMP}{FORMAT_ASTRAL}]")


def unshown_character(text: str) -> str | None:
    """The first character of `text` no reader sees as written, as `U+001B ESCAPE`; None when there is none."""
    found = UNSHOWN.search(text)
    if found is None:
        return None
    name = unicodedata.name(found.group(), "")
    return f"U+{ord(found.group()):04X}{' ' + name if name else ''}"
