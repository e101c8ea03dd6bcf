"""What a request body may be declared as: the `Content-Type` and `Content-Encoding` an address reads (else 415).

The body is always read as JSON (a round's as JSON Lines) in UTF-8, whatever it is declared as; the declaration is
checked only to say early and plainly what a wrong one would otherwise make a puzzling 400 of (a form's multipart
body, a spreadsheet, GBK text, a gzipped body: "not UTF-8 at byte 2"). Taken: no Content-Type at all; JSON
(`application/json`, any `application/*+json`); and the two types tools send when their user named none, whose body
is the JSON the user gave them -- `application/x-www-form-urlencoded` (curl's `-d`/`--data-binary`, Python's urllib)
and `text/plain` (a browser's `fetch` of a string). Open Policy Agent reads any of these as JSON too (it refuses
none); Fastify's default (GoRules' cloud API answers in its words) refuses curl's, which every example of
docs/service.md sends. A charset other than UTF-8, and any content coding, is refused: the body is not read so.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.core.i18n import Msg, msg

#: the JSON media types named in a refusal (`application/*+json` is taken too)
JSON = ("application/json",)
#: a round's (JSON Lines, one claim a line): the names in use for it, and JSON's
JSON_LINES = ("application/x-ndjson", "application/jsonl", "application/x-jsonlines", *JSON)
#: what tools send when their user named no type (curl -d, urllib; fetch of a string): read as the body it holds
UNNAMED = ("application/x-www-form-urlencoded", "text/plain")
_UTF8 = ("utf-8", "utf8", "us-ascii")  # (ASCII is UTF-8)
#: what a round's file is served as (GET /rounds/{id}/files/{name}), by the end of its name: fixed here, not guessed
#: from the host's mimetypes table (which names no JSON Lines type, so decisions.jsonl went as application/octet-stream)
OUTPUT_MEDIA = {
    ".jsonl": JSON_LINES[0],
    ".csv": "text/csv; charset=utf-8",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".json": JSON[0],
    ".html": "text/html; charset=utf-8",
}


def refused(content_type: str | None, content_encoding: str | None, accepted: Sequence[str] = JSON) -> Msg | None:
    """Why a body declared so is not read (the words of a 415), or None when it is."""
    if content_encoding is not None and content_encoding.strip().lower() not in ("", "identity"):
        return msg("service.detail.content_encoding", coding=content_encoding.strip())
    if content_type is None or not content_type.strip():
        return None
    media, *params = (part.strip() for part in content_type.split(";"))
    media = media.lower()
    if media not in (*accepted, *UNNAMED) and not (media.startswith("application/") and media.endswith("+json")):
        return msg("service.detail.media_type", media=media, send=accepted[0], accepted=", ".join((*accepted, *UNNAMED)))
    for param in params:
        name, _, value = param.partition("=")
        charset = value.strip().strip('"').lower()
        if name.strip().lower() == "charset" and charset not in _UTF8:
            return msg("service.detail.charset", charset=charset)
    return None
