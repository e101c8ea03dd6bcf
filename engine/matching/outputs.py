"""What a match writes: JSON Lines for other systems, a notice per applicant (zh and en, text and
self-contained HTML) and the bureau's summary workbook (applicants x measures, totals, facts most often missing).

Words come from the one catalogue (`engine/core/messages/<lang>/match.yaml`); money and the policy's labels
from the explanations' formatter (`engine.explaining.labels.Labels`), so a notice writes amounts, clauses and
facts exactly as an explanation does; the HTML takes the explanations' stylesheet.
"""

from __future__ import annotations

import difflib
import html
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import engine.explaining
from engine.core.i18n import Msg, lookup, msg, tr
from engine.core.quantities import format_money, said_money
from engine.deciding.claims import label, titled
from engine.explaining.labels import Labels
from engine.explaining.render import renderer
from engine.language.model import CompiledPolicy, Rule, Text
from engine.matching.matcher import ELIGIBLE, HYPOTHETICAL, NEEDS, NOT_ELIGIBLE, Answer, Need, PolicyMatch, is_hypothetical
from engine.records.batch import FAILURES_SHOWN, headings_of, in_language, problem_cells, said
from engine.records.tabular import choice_guess

LANGS = ("zh", "en")
_STYLE = (Path(engine.explaining.__file__).parent / "templates" / "_style.css.j2").read_text(encoding="utf-8")
_EXTRA_STYLE = (
    ".answer{border:1px solid var(--line);border-radius:6px;padding:.5rem .8rem;margin:.5rem 0}"
    ".answer .amount{font-weight:700}.eligible{border-left:5px solid var(--ok)}.needs{border-left:5px solid var(--warn)}"
    ".not_eligible{border-left:5px solid var(--bad);color:var(--muted)}.lead{color:var(--muted)}"
)


@dataclass
class ProfileResult:
    """One profile's answers under every policy version matched, and what could not be matched."""

    profile_id: str
    applicant_id: str
    name: str
    matches: list[PolicyMatch] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    #: each policy id matched under -> its versions, to name a policy of an error by its title (`policy_named`);
    #: not written (matches.jsonl keeps the id and version)
    policies: Mapping[str, Sequence[CompiledPolicy]] = field(default_factory=dict, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form `match` writes (a line of matches.jsonl, the service's answer): `result_dict`'s."""
        return result_dict(self)


def labels(policy: CompiledPolicy, lang: str) -> Labels:
    """The explanations' own words for `policy` in `lang` (the one renderer's, built once per policy and language)."""
    return renderer(policy, lang).labels


def _say(text: Text | None, lang: str) -> str:
    if text is None:
        return ""
    return str(getattr(text, lang, None) or text.en)


_LABELS: dict[tuple[str, str | None, str, str], str] = {}  # (policy content hash, item type, fact, lang)


def fact_label(policy: CompiledPolicy, need: Need, lang: str) -> str:
    """A fact in the policy's own words ("获得专利权所缴纳的官方规定费用"), never its code (unless it has none)."""
    key = (policy.content_hash, need.item_type, need.fact, lang)
    found = _LABELS.get(key)
    if found is None:
        if len(_LABELS) > 10_000:
            _LABELS.clear()
        found = _LABELS[key] = _fact_label(policy, need, lang)
    return found


def _fact_label(policy: CompiledPolicy, need: Need, lang: str) -> str:
    namespace, _, name = need.fact.partition(".")
    specs = {"applicant": policy.applicant_facts, "claim": policy.claim_facts}.get(namespace)
    if specs is None and need.item_type is not None:
        specs = policy.item_facts.get(need.item_type, {})
    spec = (specs or {}).get(name)
    return _say(spec.label, lang) if spec is not None else need.fact


def order(answers: Iterable[Answer]) -> list[Answer]:
    """By amount, the largest first (no upper limit counts as the largest), then by clause."""
    return sorted(answers, key=lambda a: (-(a.high if a.high is not None else Decimal("Infinity")), -a.low, a.rule.cites))


# --- JSON Lines --------------------------------------------------------------------------------------


def answer_dict(policy: CompiledPolicy, a: Answer) -> dict[str, Any]:
    return {
        "rule": a.rule.id,
        "cites": a.rule.cites,
        "item_type": a.rule.item_type,
        "item_id": a.item_id,
        "answer": a.answer,
        "amount": {"low": format_money(a.low), "high": None if a.high is None else format_money(a.high)},
        "referral": a.referral,
        "pending_review": a.pending,
        "reasons": [{"check": r.check, "cites": r.cites, "says": r.says.to_dict()} for r in a.reasons],
        # eligible, cut by a cap (R22): each cap that cut it, as a decision's cap step says it
        "capped": [
            {"cap": c.id, "cites": c.cites, "ceiling": format_money(ceiling), "used": format_money(used), "asked": format_money(asked)}
            | {"granted": format_money(after)}
            for _, c, _, used, asked, after, ceiling, *_ in (s for s in (a.reduced.steps if a.reduced else ()) if s[0] == "cap")
            if after < asked
        ],
        "needs": [
            {"item_id": n.item_id if n.item_id is None or not is_hypothetical(n.item_id) else None, "fact": n.fact}
            | {"label": {lang: fact_label(policy, n, lang) for lang in LANGS}}
            for n in a.needs
        ],
        "needs_of_more_items": a.more_items,
        "documents": [
            {"doc": code, "certain": certain, "label": {lang: _say(policy.documents.get(code), lang) for lang in LANGS}}
            for code, certain in a.documents
        ],
    }


def ignored_guess(policy: CompiledPolicy, path: str) -> str | None:
    """The fact a name the policy has no fact for most likely misspells (`actualy_operating`: actually_operating),
    or None."""
    space, _, name = path.rpartition(".")
    known = list(policy.applicant_facts) if space == "applicant" else list(policy.claim_facts) if not space else []
    if space.startswith("items["):
        known = sorted({f for facts in policy.item_facts.values() for f in facts})
    guess = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
    return guess[0] if guess else None


#: how near a type no policy has must be to one it has to be asked for it: a character off (发明专利受权, 0.83), not a
#: registry's type the measures leave out (R9) that shares words with one they pay (design_patent_grant is 0.78 from
#: invention_patent_grant: an applicant asked so would relabel its design patent); a sheet's cells ask from 0.6
_TYPE_GUESS_CUTOFF = 0.8


def _ignored_said(m: PolicyMatch) -> list[Msg | str]:
    """What a profile gave that the policy has no fact for, each with the fact it most likely misspells, as a
    notice says them."""
    out: list[Msg | str] = []
    types = dict(m.ignored_types)
    supported = {t: w for t, w in m.policy.item_type_labels.items() if t in m.policy.rules_by_type} if types else {}
    for path in m.ignored:
        if path in types:  # an item of a type no policy has: asked, as a sheet asks, if it is a type a character off
            guess = choice_guess(supported, types[path], cutoff=_TYPE_GUESS_CUTOFF)
            out.append(msg("match.ignored_type_guess", path=path, type=types[path], guess=guess) if guess else path)
            continue
        fact = ignored_guess(m.policy, path)
        out.append(msg("match.ignored_guess", path=path, guess=fact) if fact else path)
    return out


def result_dict(result: ProfileResult) -> dict[str, Any]:
    return {
        "profile": result.profile_id,
        "applicant_id": result.applicant_id,
        "name": result.name,
        "matches": [
            {
                "policy": m.policy.id,
                "version": m.policy.version,
                "funding_year": m.funding_year,
                "funding_year_given": m.year_given,
                "evaluations": m.evaluations,
                "ignored": list(m.ignored),
                # each ignored name that is likely a slip, with the fact it likely misspells (the console lists them)
                "ignored_guesses": {path: guess for path in m.ignored if (guess := ignored_guess(m.policy, path))},
                "answers": [answer_dict(m.policy, a) for a in order(m.answers)],
            }
            for m in result.matches
        ],
        "errors": result.errors,
    }


# --- notices --------------------------------------------------------------------------------------------


def amount_text(policy: CompiledPolicy, a: Answer, lang: str) -> str:
    money = labels(policy, lang).money
    if a.referral and a.answer == ELIGIBLE:
        return msg("match.referral", to=_say(a.rule.referral, lang)).render(lang)
    if a.high is None:
        key = "match.amount_from" if a.low > 0 else "match.amount_open"
        return msg(key, low=money(a.low)).render(lang) if a.low > 0 else msg(key).render(lang)
    if a.high == 0:
        return msg("match.amount_zero").render(lang)
    if a.low == a.high:
        return msg("match.amount_exact", amount=money(a.high)).render(lang)
    if a.low == 0:
        return msg("match.amount_up_to", high=money(a.high)).render(lang)
    return msg("match.amount_range", low=money(a.low), high=money(a.high)).render(lang)


def _lines(policy: CompiledPolicy, a: Answer, lang: str) -> tuple[str, str, list[str]]:
    """(heading, amount, detail lines) of one answer."""
    kind = _say(policy.item_type_labels.get(a.rule.item_type), lang)
    heading = msg("match.measure", cites=a.rule.cites, type=kind).render(lang)
    heading += (" " if lang == "en" else "") + (
        msg("match.your_item", id=a.item_id) if a.item_id is not None else msg("match.if_you_have")
    ).render(lang)
    details: list[str] = []
    if a.answer == NOT_ELIGIBLE:
        for r in a.reasons:
            details.append(msg("match.because", says=_say(r.says, lang), cites=r.cites).render(lang))
        return heading, "", details
    if a.reduced is not None:  # R22: which cap, its ceiling, what was used before, the amount before and after
        details += renderer(policy, lang).model_explainer().why_reduced(a.reduced, None)
    if a.pending:
        details.append(msg("match.pending").render(lang))
    if a.needs:
        facts = []
        for n in a.needs:
            label = fact_label(policy, n, lang)
            other = n.item_id if n.item_id not in (None, a.item_id, HYPOTHETICAL + a.rule.item_type) else None
            facts.append(label if other is None else msg("match.other_item_fact", fact=label, id=other.lstrip(HYPOTHETICAL)).render(lang))
        if a.more_items:
            facts.append(msg("match.more_items_facts", n=a.more_items).render(lang))
        details.append(msg("match.needs_facts", facts=list(dict.fromkeys(facts))).render(lang))
    if a.documents:
        docs = [
            _say(policy.documents.get(code), lang)
            if certain
            else msg("match.document_if", doc=_say(policy.documents.get(code), lang)).render(lang)
            for code, certain in a.documents
        ]
        details.append(msg("match.documents", docs=docs).render(lang))
    return heading, amount_text(policy, a, lang), details


def _sections(m: PolicyMatch) -> list[tuple[str, list[Answer]]]:
    ordered = order(m.answers)
    return [
        (key, [a for a in ordered if a.answer == kind])
        for key, kind in (("section_eligible", ELIGIBLE), ("section_needs", NEEDS), ("section_not", NOT_ELIGIBLE))
    ]


def _total(m: PolicyMatch) -> Decimal:
    return sum((a.low for a in m.answers if a.answer == ELIGIBLE), Decimal(0))


def clauses_cited(m: PolicyMatch, lang: str) -> list[tuple[str, str, str | None]]:
    """Every clause a notice cites under one version (each measure's own, then each refusal's), once, in order:
    (its citation, its text in the reader's language, the original beside a translation, else None) -- the
    clause's own numbering and verbatim text, as an explanation quotes them (`Labels.clauses`)."""
    quoted = labels(m.policy, lang).clauses
    cites = dict.fromkeys(c for a in order(m.answers) for c in (a.rule.cites, *(r.cites for r in a.reasons)) if c in quoted)
    return [(c, quoted[c]["text"], quoted[c]["original"]) for c in cites]


def _quote(text: str, lang: str) -> str:
    return msg("match.quote", text=text).render(lang)


@dataclass(frozen=True)
class NoticeAnswer:
    """One measure's answer as a notice words it: its heading, its amount (empty when none), its detail lines."""

    kind: str
    heading: str
    amount: str
    details: tuple[str, ...]


@dataclass(frozen=True)
class NoticeVersion:
    """What a notice says under one policy version: its sections of answers, the total, and the clauses cited as
    (citation, quoted text, quoted original beside a translation or None)."""

    heading: str
    year_assumed: str | None
    sections: tuple[tuple[str, tuple[NoticeAnswer, ...]], ...]
    total: str
    ignored: str | None
    clauses: tuple[tuple[str, str, str | None], ...]


@dataclass(frozen=True)
class Notice:
    """A notice's words in one language, built once (`notice`); `notice_text` and `notice_html` only lay them out,
    so a sentence or its order is decided in one place."""

    lang: str
    title: str
    addressed_to: str
    lead: str
    versions: tuple[NoticeVersion, ...]
    not_judged: tuple[str, ...] | None


def notice(result: ProfileResult, lang: str) -> Notice:
    """The notice of one profile's matches in `lang`."""
    return Notice(
        lang=lang,
        title=msg("match.notice_title", name=result.name).render(lang),
        addressed_to=msg("match.notice_for", name=result.name, id=result.applicant_id).render(lang),
        lead=msg("match.notice_lead").render(lang),
        versions=tuple(_notice_version(m, lang) for m in result.matches),
        not_judged=tuple(_not_judged(result, lang)) if result.errors else None,
    )


def _notice_version(m: PolicyMatch, lang: str) -> NoticeVersion:
    p = m.policy
    sections = []
    for key, answers in _sections(m):
        said = tuple(NoticeAnswer(a.answer, *_heading_amount_details(p, a, lang)) for a in answers)
        sections.append((msg(f"match.{key}").render(lang), said))
    return NoticeVersion(
        heading=msg("match.notice_policy", title=_say(p.title, lang), version=p.version, year=m.funding_year).render(lang),
        year_assumed=None if m.year_given else msg("match.notice_year_assumed", year=m.funding_year).render(lang),
        sections=tuple(sections),
        total=msg("match.total", amount=labels(p, lang).money(_total(m))).render(lang),
        ignored=msg("match.ignored", names=_ignored_said(m)).render(lang) if m.ignored else None,
        clauses=tuple(
            (cite, _quote(text, lang), None if original is None else _quote(original, lang))
            for cite, text, original in clauses_cited(m, lang)
        ),
    )


def _heading_amount_details(policy: CompiledPolicy, a: Answer, lang: str) -> tuple[str, str, tuple[str, ...]]:
    heading, amount, details = _lines(policy, a, lang)
    return heading, amount, tuple(details)


def notice_text(result: ProfileResult, lang: str) -> str:
    """The notice as plain text."""
    n = notice(result, lang)
    out = [n.title, n.addressed_to, n.lead]
    for v in n.versions:
        out += ["", "== " + v.heading]
        if v.year_assumed:
            out.append(v.year_assumed)
        for title, answers in v.sections:
            out += ["", msg("match.section", title=title).render(lang)]
            if not answers:
                out.append("  " + msg("match.none").render(lang))
            for a in answers:
                out.append("  - " + (msg("match.line", heading=a.heading, amount=a.amount).render(lang) if a.amount else a.heading))
                out += [f"      {d}" for d in a.details]
        out += ["", v.total]
        if v.ignored:
            out.append(v.ignored)
        if v.clauses:
            out += ["", msg("match.section", title=msg("match.section_clauses")).render(lang)]
            for cite, text, original in v.clauses:
                out.append(f"  {cite}" + msg("match.clause_colon").render(lang) + text)
                if original is not None:
                    out.append("    " + msg("match.clause_original", text=original).render(lang))
    if n.not_judged is not None:
        out += ["", "== " + msg("match.notice_not_judged").render(lang), *(f"  - {line}" for line in n.not_judged)]
    return "\n".join(out) + "\n"


def policy_said(policy: CompiledPolicy | None, pid: str, version: str | None) -> Msg | str:
    """A policy as an officer and an applicant know it, in every language (a message): its title (and version), as a
    notice heads it and summary.xlsx's 政策 column says it; a policy not loaded as given (its id and version)."""
    if policy is None:
        return " ".join(x for x in (pid, version) if x)
    return label(policy.title) if version is None else titled(policy.title, version)


def policy_named(policy: CompiledPolicy | None, pid: str, version: str | None, lang: str) -> str:
    """`policy_said` in `lang`."""
    return tr(policy_said(policy, pid, version), lang)


def policy_under(policies: Mapping[str, Sequence[CompiledPolicy]], pid: Any, version: Any) -> Msg | str:
    """The policy (and version) a profile's error or guess is under, by its id and version (as matches.jsonl keeps
    them), named as `policy_said` names it (it was the id: a code the console and notices showed before the title);
    "" for none (a profile that could not be read)."""
    if not pid:
        return ""
    versions = list(policies.get(str(pid), ()))
    policy = next((p for p in versions if p.version == version), versions[-1] if versions else None)
    return policy_said(policy, str(pid), None if version is None else str(version))


def _error_head(result: ProfileResult, error: Mapping[str, Any], lang: str) -> str:
    """The policy (and version) an error is under, in `lang` (`policy_under`)."""
    return tr(policy_under(result.policies, error.get("policy"), error.get("version")), lang)


def _not_judged(result: ProfileResult, lang: str) -> list[str]:
    """The profile's errors (`Matching.match`), each problem a line in `lang`: a notice says what it could not work
    out, or an applicant with a slip would read a notice of nothing to claim."""
    out = []
    for error in result.errors:
        head = _error_head(result, error, lang)
        if "problems" not in error:
            out.append(msg("match.not_judged_line", head=head, message=error.get("said", {}).get(lang, error.get("message"))).render(lang))
        for p in error.get("problems", ()):
            words = p.get("said", {}).get(lang, {})
            # (no field: the profile as a whole, said in the notice's language, as a problem's text says it)
            field = words.get("field") or p.get("path") or p.get("field") or msg("core.document").render(lang)
            # (the colons of the notice's language: ：after the field's Chinese words, as the clauses' `clause_colon`)
            line = msg("match.not_judged_problem", head=head, field=field, message=words.get("message", p.get("message"))).render(lang)
            expected = words.get("expected", p.get("expected"))
            out.append(msg("match.notice_not_judged_expected", line=line, expected=expected).render(lang) if expected else line)
    return out


def notice_html(result: ProfileResult, lang: str) -> str:
    """The notice as a self-contained HTML page (the explanations' stylesheet)."""
    e = html.escape
    n = notice(result, lang)
    body = [f"<h1>{e(n.title)}</h1>", f"<p>{e(n.addressed_to)}</p>", f'<p class="lead">{e(n.lead)}</p>']
    for v in n.versions:
        body.append(f"<h2>{e(v.heading)}</h2>")
        if v.year_assumed:
            body.append(f'<p class="lead">{e(v.year_assumed)}</p>')
        for title, answers in v.sections:
            body.append(f"<h3>{e(title)}</h3>")
            if not answers:
                body.append(f"<p>{e(msg('match.none').render(lang))}</p>")
            for a in answers:
                body.append(f'<div class="answer {a.kind}"><h4>{e(a.heading)}</h4>')
                if a.amount:
                    body.append(f'<p class="amount">{e(a.amount)}</p>')
                body += [f"<p>{e(d)}</p>" for d in a.details]
                body.append("</div>")
        body.append(f'<p class="total">{e(v.total)}</p>')
        if v.ignored:  # (what the profile gives that this policy has no word for: a misspelt name is not left unsaid)
            body.append(f'<p class="ignored">{e(v.ignored)}</p>')
        if v.clauses:
            body.append(f"<h3>{e(msg('match.section_clauses').render(lang))}</h3>")
            for cite, text, original in v.clauses:
                body.append(f'<p class="clause"><b>{e(cite)}</b>{e(msg("match.clause_colon").render(lang))}{e(text)}</p>')
                if original is not None:
                    words = msg("match.clause_original", text=original).render(lang)
                    body.append(f'<p class="original" lang="zh">{e(words)}</p>')
    if n.not_judged is not None:
        body.append(f"<h2>{e(msg('match.notice_not_judged').render(lang))}</h2>")
        body.append("<ul>" + "".join(f"<li>{e(line)}</li>" for line in n.not_judged) + "</ul>")
    return (
        f'<!DOCTYPE html>\n<html lang="{e(msg("match.html_lang").render(lang))}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{e(n.title)}</title>'
        f"<style>{_STYLE}{_EXTRA_STYLE}</style></head><body><main>{''.join(body)}</main></body></html>\n"
    )


def notice_files(result: ProfileResult) -> dict[str, str]:
    """File name (under notices/) -> text: the notice in each language, as text and as HTML."""
    stem = _safe(result.profile_id)
    out = {}
    for lang in LANGS:
        out[f"{stem}.{lang}.txt"] = notice_text(result, lang)
        out[f"{stem}.{lang}.html"] = notice_html(result, lang)
    return out


def _safe(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:80]
    return cleaned or "profile"


# --- the bureau's summary ------------------------------------------------------------------------------


@dataclass
class Summary:
    """Running totals over every profile (from the JSON Lines records, so that workers send only those), bounded by
    the number of rules and facts, never by the number of profiles."""

    profiles: int = 0
    errors: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    eligible_total: dict[tuple[str, str], Decimal] = field(default_factory=dict)  # (policy id, rule id) -> sum of low
    eligible_up_to: Decimal = Decimal(0)  # the most every eligible answer comes to (an award of unknown level: its highest)
    eligible_count: Counter[tuple[str, str]] = field(default_factory=Counter)
    needs_count: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: (policy id, item type or "", fact, asked of a hypothetical item) -> profiles: a fact of an item the profile has
    #: (or of the applicant) is one the register lacks; a hypothetical item's (a measure the profile has no item of,
    #: 如有此类事项) is asked of every profile alike, and is listed after them (`Workbook.close`)
    missing: Counter[tuple[str, str, str, bool]] = field(default_factory=Counter)
    evaluations: int = 0
    error_records: int = 0  # a profile's errors, one a version it could not be matched under (`error_records`)
    errors_listed: list[dict[str, Any]] = field(default_factory=list)  # the first FAILURES_SHOWN: the console's
    guessed: int = 0  # profiles giving a name the policy has no fact for that is likely a misspelt fact's
    #: the first FAILURES_SHOWN such names: (profile, the policy by its title and version, path given, the fact it
    #: likely misspells)
    guesses_listed: list[tuple[str, Msg | str, str, str]] = field(default_factory=list)
    #: each policy id matched under -> its versions: the console names the measures of an error or a guess by their
    #: title and version (`policy_under`), where it said their id
    policies: Mapping[str, Sequence[CompiledPolicy]] = field(default_factory=dict, repr=False)

    def add(self, record: dict[str, Any]) -> None:
        self.profiles += 1
        self.errors += bool(record["errors"])
        if record["errors"]:
            found = error_records(record, self.policies)
            self.error_records += len(found)
            self.errors_listed += found[: FAILURES_SHOWN - len(self.errors_listed)]
        seen: set[tuple[str, str, str, bool]] = set()
        # (the counts are of applicants: one whose two items a measure pays counts once, as the rows' titles say)
        eligible: set[tuple[str, str]] = set()
        needs: set[tuple[str, str]] = set()
        guesses = [
            (record["profile"], policy_under(self.policies, m["policy"], m["version"]), path, g)
            for m in record["matches"]
            for path, g in m.get("ignored_guesses", {}).items()
        ]
        self.guessed += bool(guesses)
        self.guesses_listed += guesses[: FAILURES_SHOWN - len(self.guesses_listed)]
        for m in record["matches"]:
            self.evaluations += m["evaluations"]
            for a in m["answers"]:
                key = (m["policy"], a["rule"])
                self.answers[a["answer"]] += 1
                if a["answer"] == ELIGIBLE:
                    self.eligible_total[key] = self.eligible_total.get(key, Decimal(0)) + Decimal(a["amount"]["low"])
                    self.eligible_up_to += Decimal(a["amount"]["high"])
                    eligible.add(key)
                elif a["answer"] == NEEDS:
                    needs.add(key)
                    for n in a["needs"]:
                        of_item = n["fact"].startswith("item.")
                        hypothetical = of_item and n["item_id"] is None  # (a record names no hypothetical item)
                        seen.add((m["policy"], a["item_type"] if of_item else "", n["fact"], hypothetical))
        self.eligible_count.update(eligible)
        self.needs_count.update(needs)
        self.missing.update(seen)


def cell(answers: Sequence[dict[str, Any]], lang: str) -> Any:
    """A measure's cell from its answers for one applicant (one per item of the measure's type): the least its
    eligible items come to, an exact decimal (a number cell of the money columns) the row's total counts (the
    most, where an amount is a range, is the row's `eligible_up_to`); with none eligible, the most one item that
    needs facts could get, in words; else not eligible."""
    eligible = [a["amount"] for a in answers if a["answer"] == ELIGIBLE]
    if eligible:  # (the least, a number the row's total counts: a range written as text was summed as nothing)
        return sum((Decimal(x["low"]) for x in eligible), Decimal(0))
    needs = [a["amount"]["high"] for a in answers if a["answer"] == NEEDS]
    if not needs:
        return msg("match.cell_not").render(lang)
    if any(h is None for h in needs):
        return msg("match.cell_needs_open").render(lang)
    high = max(Decimal(h) for h in needs)
    if not high:  # (a measure that refers the applicant elsewhere: "最高0.00" read as a slip)
        return msg("match.cell_needs_zero").render(lang)
    return msg("match.cell_needs", high=said_money(high)).render(lang)


def measures_of(policies: Iterable[CompiledPolicy]) -> list[tuple[CompiledPolicy, Rule]]:
    """Every rule of every policy loaded, once per (policy id, rule id): the newest version's words."""
    out: dict[tuple[str, str], tuple[CompiledPolicy, Rule]] = {}
    for p in policies:
        for r in p.rules:
            out[(p.id, r.id)] = (p, r)
    return list(out.values())


#: the errors sheet's columns after the profile's: batch's errors sheet's (`problem_cells`)
_PROBLEM_CELLS = ("where", "field", "message", "expected")


def error_records(record: Mapping[str, Any], policies: Mapping[str, Sequence[CompiledPolicy]]) -> list[dict[str, Any]]:
    """A profile's errors (its matches.jsonl line's `errors`) as batch's error records, which `in_language`,
    `problem_said` and `problem_cells` read: one for each version it could not be matched under (`policy`: its id and
    version), or for its input, which could not be read as a profile (`policy` empty). `claim_id` names the profile
    and the version, as the console lists them: the measures by their title and version (`policies`: each id matched
    under -> its versions), in the reader's language (a message); it was the id and version, as `M-2 <id> <version>`."""
    out = []
    profile = str(record.get("profile") or "—")
    for error in record.get("errors") or ():
        head = " ".join(str(error[k]) for k in ("policy", "version") if error.get(k))
        where = error.get("input") or record.get("input") or {}
        problems = error.get("problems")
        if problems is None:  # (no version in force for its year: the error's own words)
            words = error.get("said") or {}
            problems = [{**where, "message": error.get("message"), "said": {lang: {"message": t} for lang, t in words.items()}}]
        named = policy_under(policies, error.get("policy"), error.get("version"))
        summary = msg("match.error_under", policy=named) if head else msg("match.error_input")
        out.append(
            {"claim_id": msg("match.profile_under", profile=profile, policy=named) if head else profile, "policy": head,
             "where": where, "error": str(summary), "said": said(summary), "problems": problems}
        )  # fmt: skip
    return out


class Workbook:
    """The summary workbook, written row by row by the batch's own writer (`XlsxOut`: rows go to disk, not memory).
    Its amounts are number cells holding the exact decimal text, shown with two decimals (openpyxl wrote a float's
    rendering of them), and a text that a spreadsheet would run as a formula (a name starting with '=') is kept text."""

    def __init__(self, path: Path, measures: Sequence[tuple[CompiledPolicy, Rule]], lang: str) -> None:
        from engine.records.tabular import XlsxOut

        self.path = path
        self.lang = lang
        self.book = XlsxOut(path)
        self.sheet = msg("match.sheet_summary").render(lang)
        self.measures = [(p.id, r.id) for p, r in measures]
        self.policies = {p.id: p for p, _ in measures}
        self.by_id = {pid: (p,) for pid, p in self.policies.items()}  # (`error_records`: named as `policy_words` names them)
        # (the profile's id first, as the errors sheet and batch's summary have it: the notices are named by it, and
        # two profiles of one applicant were told apart by nothing)
        columns = ("col_profile", "col_applicant", "col_name", "col_policy", "col_year", "col_eligible_total", "col_eligible_up_to")
        say = {k: msg(f"match.{k}").render(lang) for k in columns}
        head = [say[c] for c in columns]
        head += [f"{r.cites} {_say(p.item_type_labels.get(r.item_type), lang)}" for p, r in measures]
        amounts = ["eligible_total", "eligible_up_to", *(f"measure {i}" for i in range(len(measures)))]  # (the columns' codes)
        codes = ["profile", "applicant", "name", "policy", "funding_year", *amounts]
        self.book.sheet(self.sheet, codes, money=amounts, titles=head, autofilter=False)
        self.missing = msg("match.sheet_missing").render(lang)  # (its rows written at the end: counts)
        titles = [msg(f"match.{c}").render(lang) for c in ("col_policy", "col_fact", "col_item_type", "col_count")]
        self.book.sheet(self.missing, ["policy", "fact", "item_type", "count"], titles=titles, autofilter=False)
        # each profile's problems as batch's errors sheet says an application's (`problem_cells`), as they come
        self.errors = str(lookup("sheet.tabs.errors", lang))
        # (the profile's own id first: two profiles of one applicant, PG-2022-0001 and -0006, were told apart by nothing)
        titles = [say["col_profile"], say["col_applicant"], say["col_name"], say["col_policy"]]
        titles += [lookup(f"sheet.columns.{c}", lang) for c in _PROBLEM_CELLS]
        self.book.sheet(self.errors, ["profile", "applicant", "name", "policy", *_PROBLEM_CELLS], titles=titles)
        self.headings = headings_of(self.policies.values())

    def add(self, record: dict[str, Any]) -> None:
        for m in record["matches"]:
            by_rule: dict[str, list[dict[str, Any]]] = {}
            for a in m["answers"]:
                by_rule.setdefault(a["rule"], []).append(a)
            eligible = [a["amount"] for a in m["answers"] if a["answer"] == ELIGIBLE]
            total = sum((Decimal(x["low"]) for x in eligible), Decimal(0))
            up_to = sum((Decimal(x["high"]) for x in eligible), Decimal(0))
            row: list[Any] = [
                record.get("profile"),
                record["applicant_id"],
                record.get("name", ""),
                self.policy_words(m["policy"], m["version"]),
                m["funding_year"],
                total,
                up_to,
            ]
            row += [cell(by_rule.get(r, ()), self.lang) if p == m["policy"] else None for p, r in self.measures]
            self.book.row(self.sheet, row)
        for given, error in zip(record.get("errors") or (), error_records(record, self.by_id), strict=True):
            _, problems = in_language(error, self.lang)
            policy = self.policy_words(given["policy"], given.get("version")) if given.get("policy") else error["policy"]
            for p in problems or [{}]:
                cells = problem_cells(p, error, self.headings, self.lang)
                row = [record.get("profile"), record.get("applicant_id"), record.get("name", ""), policy, *cells]
                self.book.row(self.errors, row)

    def policy_words(self, pid: str, version: str | None = None) -> str:
        """A policy as the workbook names it, in its language: its title (and version), as the notices head it --
        the id and version (`<policy-id> 2020.1`) were a code in the Chinese workbook's 政策 column."""
        return policy_named(self.policies.get(pid), pid, version, self.lang)

    def discard(self) -> None:
        """The run failed: the sheets' temporary files closed, no workbook saved."""
        self.book.discard()

    def close(self, summary: Summary) -> None:
        lang, book, sheet = self.lang, self.book, self.sheet
        blank: list[Any] = [None] * 6  # (the columns before the measures', but the first: the row's title)
        book.row(sheet, [])
        grand = sum(summary.eligible_total.values(), Decimal(0))
        totals = (summary.eligible_total.get(k, Decimal(0)) for k in self.measures)
        book.row(sheet, [msg("match.row_totals").render(lang), *blank[2:], grand, summary.eligible_up_to, *totals])
        # (a count in a money column is an int: a plain number cell, not an amount)
        book.row(sheet, [msg("match.row_eligible_count").render(lang), *blank, *(summary.eligible_count.get(k, 0) for k in self.measures)])
        book.row(sheet, [msg("match.row_needs_count").render(lang), *blank, *(summary.needs_count.get(k, 0) for k in self.measures)])
        missing = self.missing
        # (those the register lacks first, then a hypothetical item's: the sheet led with the facts of awards the
        # bureau knows of no enterprise having, asked of every profile, over the fees its patents lack)
        for (pid, item_type, fact, hypothetical), count in sorted(summary.missing.most_common(), key=lambda kc: kc[0][3]):
            policy = self.policies.get(pid)
            label = fact_label(policy, Need(None, item_type or None, fact), lang) if policy is not None else fact
            kind = _say(policy.item_type_labels.get(item_type), lang) if policy is not None and item_type else ""
            if hypothetical:
                kind += msg("match.if_you_have").render(lang)
            book.row(missing, [self.policy_words(pid), label, kind, count])
        book.close()
