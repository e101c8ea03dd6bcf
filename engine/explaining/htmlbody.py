"""One application's explanation as HTML, written by Python: the engine's own body template, without jinja.

`engine/explaining/templates/_explain_body.html.j2` (with `_sign_off.html.j2`) is the layout of record: an
explanation alone and every application of the reviewer's report are drawn by it. The report draws it once per
application, up to 10,000 times a round, and there jinja's machinery (an attribute look-up through the
environment per `x.name`, a generator step per piece) costs more than the words. `BodyWriter.body` writes the
same characters from the same model (`engine.explaining.model.Explanation`): each value through markupsafe's
`escape`, as autoescape does, in the template's order. It is used only where the engine's own templates are
drawn (a policy's or a language's own templates go through jinja as before), and
tests/test_html_body.py holds it to the template, character for character.

The words of the catalogue the template shows (`m.*`, the colons) are looked up and escaped once per renderer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from markupsafe import escape

from engine.explaining.catalogue import fill
from engine.explaining.model import Explanation


def _plain(s: Any) -> str:
    """`escape(s)` as a `str`: a plain `str` by markupsafe's own five replacements (without making a `Markup` of
    every value), anything else (a number, `None`, a value with `__html__`) by `escape` itself."""
    if type(s) is str:
        return s.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;").replace("'", "&#39;").replace('"', "&#34;")
    return str(escape(s))


def _by_escape(s: Any) -> str:
    return str(escape(s))


#: how many escaped texts a `BodyWriter` keeps (about 30 distinct texts per application)
ESCAPED_KEPT = 50_000

_PROBE = "a&b<c>d'e\"f&amp;\u00a0\x00"
#: `_plain`, unless the installed markupsafe escapes otherwise than those five replacements (then `escape` itself)
ESCAPE: Callable[[Any], str] = _plain if _plain(_PROBE) == str(escape(_PROBE)) else _by_escape


class BodyWriter:
    """`_explain_body.html.j2` of one renderer's catalogue, as a function of the model (`body`)."""

    def __init__(self, find: Callable[[Any, str], Any], find_item: Callable[[Any, Any], Any], m: Any) -> None:
        """`find(obj, name)`, `find_item(obj, key)`: the renderer's jinja environment's `getattr` and `getitem` (how
        the template reads `m.name` and `m.status_short[key]`)."""
        self.find_item = find_item
        self.e = self.escaper()

        def word(name: str) -> str:
            return str(escape(find(m, name)))

        meta = find(m, "meta")
        self.c = c = str(escape(find(meta, "colon")))
        #: a clause cited after words, as the reader's language sets it apart: full-width brackets in Chinese, " (…)" in English
        self.paren = str(escape(find(meta, "paren")))
        self.h = str(escape(find(meta, "head_colon")))
        self.back = f'<p class="back no-print"><a href="#index">↑ {word("back_to_index")}</a></p>'
        self.summary_head = f'</header>\n\n<h3>{word("section_summary")}</h3>\n<p class="total">'
        self.standing_head = f'\n<h3>{word("section_standing")}</h3>\n<ul class="lines">\n'
        self.items_head = f"</strong></p>\n\n<h3>{word('section_items')}</h3>\n"
        self.status_short = find(m, "status_short")
        self.badges: dict[str, str] = {}  # status -> `m.status_short[status]`, escaped
        self.result = f'<p><strong>{word("result")}{c}</strong><span class="amount">'
        note = find(m, "translation_note")
        self.clauses = f"</span></p>\n\n<h5>{word('clauses')}" + (f' <span class="note">{escape(note)}</span>' if note else "") + "</h5>\n"
        self.original = f'<p class="original" lang="zh">{word("original")}{c}'
        th = '</th><th class="num">'
        self.caps_head = f"<thead><tr><th>{word('col_cap')}{th}{word('col_ceiling')}{th}{word('col_used')}{th}{word('col_left')}{th}{word('col_asked')}{th}"
        self.col_granted, self.col_would = word("col_granted"), word("col_would")
        self.referred = f"<h5>{word('referred')}</h5>\n<p>"
        self.why = f'<p class="why"><strong>{word("why_not_more")}{c}</strong>'
        self.no_items = f"<p>{word('no_items')}</p>\n"

    @staticmethod
    def escaper() -> Callable[[Any], str]:
        """`ESCAPE` with the escaped form of each plain `str` kept (the explainer hands the same kept lines to many
        applications); bounded, cleared when full. Keyed by plain `str` only: a `Markup` equal to a `str` is not
        escaped by `escape`, so other types never reach the table."""
        kept: dict[str, str] = {}
        get = kept.get
        plain = ESCAPE

        def e(s: Any) -> str:
            if type(s) is not str:
                return plain(s)
            found = get(s)
            if found is None:
                if len(kept) >= ESCAPED_KEPT:
                    kept.clear()
                found = kept[s] = plain(s)
            return found

        return e

    def badge(self, key: Any) -> str:
        """`m.status_short[key]`, escaped, as the template reads it (kept per status)."""
        found = self.badges.get(key) if type(key) is str else None
        if found is None:
            found = str(escape(self.find_item(self.status_short, key)))
            if type(key) is str and len(self.badges) < 64:
                self.badges[key] = found
        return found

    # long because: the template's layout in order (header, summary, standing, each item's groups by kind, the
    # sign-off), one branch per kind of group, as `_explain_body.html.j2` has them
    def body(self, x: Explanation, anchor: str, in_report: bool) -> str:
        """The section `_explain_body.html.j2` draws for `x` (`anchor`, `in_report` as the template's)."""
        e = self.e
        ln: Any  # a summary group's lines are `Line`s (a `Section`'s may also be `CapRow`s, in an item's caps only)
        out: list[str] = []
        w = out.append
        c = self.c
        a = e(anchor)
        w(f'<section class="explanation" id="{a}">\n<header>\n')
        if in_report:
            w(f"<h2>{e(x.title)} · {e(x.applicant_name or x.applicant_id)}</h2>\n")
        else:
            w(f"<h1>{e(x.title)} · {e(x.policy_title)}</h1>\n")
        w('<dl class="meta">\n')
        for f in x.fields:
            if in_report and f.key == "ledger_commit":  # (a round's report: made on workers before the numbers are known)
                continue
            if f.key == "policy_hash":
                w(f'<dt>{e(f.label)}</dt><dd class="hash">{e(f.value)}</dd>\n')
            else:
                w(f"<dt>{e(f.label)}</dt><dd>{e(f.value)}</dd>\n")
        w("</dl>\n")
        if in_report:
            w(self.back)
        w(self.summary_head)
        w(f'{e(x.total_label)}{c}<span class="amount">{e(x.total)}</span></p>\n')
        for s in x.summary:
            if s.key == "by_status":
                w(f'<h5>{e(s.head)}</h5>\n<ul class="lines">\n')
                for ln in s.lines:
                    w(f'<li><span class="badge {e(ln.key)}">{self.badge(ln.key)}</span> {e(ln.text)}</li>\n')
            else:
                w(
                    f'<h5>{e(s.head)}</h5>\n<ul class="lines scaling">\n'
                    if s.key == "scaling"
                    else f'<h5>{e(s.head)}</h5>\n<ul class="lines">\n'
                )
                for ln in s.lines:
                    w(f"<li>{e(ln.text)}</li>\n")
            w("</ul>\n")
        w(self.standing_head)
        for ln in x.standing:
            if ln.mark != "none":
                w(f'<li class="{"ok" if ln.mark else "fail"}">{e(ln.text)}</li>\n')
            else:
                w(f"<li>{e(ln.text)}</li>\n")
        w(f"</ul>\n<p><strong>{e(x.standing_text)}")
        w(self.items_head)
        for index, item in enumerate(x.items, 1):
            self.item(w, item, a, index)
        if not x.items:
            w(self.no_items)
        so = x.sign_off
        w(
            f'<section class="sign-off">\n<h3>{e(so.head)}</h3>\n<table class="sign-off">\n'
            '<colgroup><col class="label"><col><col class="label"><col></colgroup>\n<tbody>\n'
            f'<tr><th scope="row">{e(so.opinion)}</th><td class="write opinion" colspan="3"></td></tr>\n'
            f'<tr><th scope="row">{e(so.reviewer)}</th><td class="write"></td><th scope="row">{e(so.date)}</th><td class="write"></td></tr>\n'
            "</tbody>\n</table>\n</section>\n</section>\n"
        )
        return "".join(out)

    # long because: one branch per kind of an item's group (caps table, reasons, incomplete, pending,
    # calculation/scaling, checks), as the template has them
    def item(self, w: Callable[[str], Any], item: Any, a: str, index: int) -> None:
        e = self.e
        status = item.status
        st = e(status)
        badge = self.badge(status)
        w(
            f'<article class="item status-{st}" id="{a}-item-{index}">\n<h4>{e(item.n)}. {e(item.heading)} '
            f'<span class="badge {st}">{badge}</span></h4>\n{self.result}{e(item.result)}{self.clauses}'
        )
        for q in item.clauses:
            w(f'<blockquote class="clause"><cite>{e(q.cite)}</cite>\n')
            if q.text is not None:
                w(f"<p>{e(q.text)}</p>\n")
                if q.original:
                    w(f"{self.original}{e(q.original)}</p>")
            w("</blockquote>\n")
        if item.no_trace:
            w(f'<p class="note">{e(item.no_trace)}</p>')
        w("\n")
        for s in item.sections:
            key = s.key
            head = e(s.head)
            if key == "caps":
                granted = self.col_granted if status in ("granted", "reduced") else self.col_would
                w(f'<h5>{head}</h5>\n<div class="table-wrap"><table class="caps">\n{self.caps_head}{granted}</th></tr></thead>\n<tbody>\n')
                for r in s.lines:
                    if r.per_item:
                        used = "–"
                    elif r.split:
                        used = f'{e(r.used)}<br><span class="note">{e(r.split)}</span>'
                    else:
                        used = str(e(r.used))
                    w(
                        f'<tr><td>{e(r.label)}<span class="note">{fill(self.paren, {"t": e(r.cites)})}</span></td>\n<td class="num">{e(r.ceiling)}</td>\n'
                        f'<td class="num">{used}</td>\n<td class="num">{e(r.left)}</td>\n<td class="num">{e(r.asked)}</td>\n'
                        f'<td class="num"><strong>{e(r.granted)}</strong></td></tr>\n'
                    )
                w("</tbody></table></div>\n")
            elif key == "reasons":
                w(f'<h5>{head}</h5>\n<ol class="lines">\n')
                for ln in s.lines:
                    w(f'<li class="fail">{e(ln.text)}</li>\n')
                w("</ol>\n")
            elif key == "incomplete":
                w(f'<h5>{head}</h5>\n<ul class="lines">\n')
                for ln in s.lines:
                    w(f"<li>{e(ln.text)}</li>" if ln.key == "provisional" else f'<li class="fail">{e(ln.text)}</li>')
                w("</ul>\n")
            elif key == "pending":
                w(f'<h5>{head}</h5>\n<ul class="lines">\n')
                for ln in s.lines:
                    if ln.key == "pending_line":
                        w(f"<li>{e(ln.text)}</li>")
                for ln in s.lines:
                    if ln.key != "pending_line":
                        w(f"<li>{e(ln.text)}</li>\n")
                w("</ul>\n")
            elif key == "calculation" or key == "scaling":
                w(f'<h5>{head}</h5>\n<ul class="lines scaling">\n' if key == "scaling" else f'<h5>{head}</h5>\n<ul class="lines">\n')
                for ln in s.lines:
                    w(f"<li>{e(ln.text)}</li>\n")
                w("</ul>\n")
            else:
                w(f'<h5>{head}</h5>\n<ul class="lines">\n')
                for ln in s.lines:
                    w(f'<li class="{"ok" if ln.mark else "fail"}">{e(ln.text)}</li>\n')
                w("</ul>\n")
        if item.referred is not None:
            w(f"{self.referred}{e(item.referred)}</p>\n")
        if item.why is not None:
            w(f"{self.why}{e(item.why)}</p>\n")
        for s in item.shaped:
            w(f'<p class="note">{e(s.head)}{self.h}</p>\n<ul class="note">')
            for ln in s.lines:
                w(f"<li>{e(ln.text)}</li>")
            w("</ul>\n")
        for n in item.notes:
            w(f'<p class="note">{e(n.text)}</p>')
        w("</article>\n")
