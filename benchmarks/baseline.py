"""The Pinggu measures hand-written in plain Python with Decimal: the benchmark's yardstick.

Written directly from the measures (pinggu_ip_measures.zh.txt) and the binding
readings R1-R30 (READINGS.md), with the policy file's notes N1-N5 -- not by
calling the engine, and not generated from the YAML. It decides statuses and
amounts only (no trace, no reasons, no words): what a programmer would write
by hand for one district's measures.

    prepared = prepare(raw_claim)        # untimed: JSON values to Decimal / date, like parse_claim
    results = decide(prepared)           # [(status, amount, provisional or None), ...] per item

History is read in the engine's documented grant format (the ledger's
vocabulary of cap and limit ids), folded into running totals inside `decide`,
just as the engine does inside `evaluate`.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

ZERO = Decimal(0)
CENT = Decimal("0.01")
HALF = Decimal("0.5")

ORGS = frozenset({"enterprise", "public_institution", "other_organisation"})
EVERYONE = ORGS | {"natural_person"}
ENTERPRISE = frozenset({"enterprise"})
STANDING_DOC = {  # 第十二条（一）
    "enterprise": "business_licence",
    "public_institution": "institution_certificate",
    "other_organisation": "organisation_certificate",
    "natural_person": "id_card",
}

Result = tuple[str, Decimal, Decimal | None]


def half_of(x: Decimal) -> Decimal:
    """50%, rounded half up to the fen before any cap (R8)."""
    return (x * HALF).quantize(CENT, rounding=ROUND_HALF_UP)


def five_years_after(d: dt.date) -> dt.date:
    """Same calendar date five years on; 29 Feb -> 28 Feb (R24)."""
    try:
        return d.replace(year=d.year + 5)
    except ValueError:
        return d.replace(year=d.year + 5, day=28)


# --- preparing a claim (outside the timed region, like parse_claim) ---------------------------------


def prepare(raw: dict[str, Any]) -> dict[str, Any]:
    """JSON values to exact types: money to Decimal, dates to date, lists to tuples/sets."""
    a = dict(raw["applicant"])
    a["fraud_finding_dates"] = tuple(dt.date.fromisoformat(d) for d in a.get("fraud_finding_dates", ()))
    a["roles"] = frozenset(a.get("roles", ()))
    items = []
    for it in raw["items"]:
        x = dict(it)
        x["date"] = dt.date.fromisoformat(x["date"])
        x["documents"] = frozenset(x.get("documents", ()))
        for k in (
            "official_fees_paid",
            "annual_interest_paid",
            "premium_paid",
            "financing_costs",
            "technology_service_fee",
            "actual_costs",
            "panel_amount",
        ):
            if x.get(k) is not None:
                x[k] = Decimal(x[k])
        for k in ("founding_date", "costs_from"):
            if k in x:
                x[k] = dt.date.fromisoformat(x[k])
        x["right_holders"] = tuple(x.get("right_holders", ()))
        items.append(x)
    history = []
    for g in raw.get("history", ()):
        consumes = []
        for c in g.get("consumes", ()):
            if "cap" in c:
                consumes.append(("cap", c["cap"], tuple(c["scope"]), Decimal(c["amount"])))
            elif "limit" in c:
                consumes.append(("limit", c["limit"], tuple(c["scope"]), tuple(c.get("counts", ()))))
        history.append(tuple(consumes))
    return {
        "claim_id": raw["claim_id"],
        "year": raw["funding_year"],
        "submitted": dt.date.fromisoformat(raw["submission_date"]),
        "documents": frozenset(raw.get("documents", ())),
        "applicant": a,
        "items": items,
        "history": history,
    }


# --- the rules -------------------------------------------------------------------------------------

_CHINA_AWARD = {"gold": Decimal(500000), "silver": Decimal(400000), "excellence": Decimal(300000)}  # 第五条（二）
_BEIJING_AWARD = {"special": Decimal(200000), "first": Decimal(100000), "second": Decimal(50000), "third": Decimal(30000)}  # 第五条（三）
_NATIONAL_TITLE = {"demonstration": Decimal(200000), "advantage": Decimal(100000)}  # 第七条（一）


def _number_kind(patent_id: str) -> str:
    """The kind a Chinese patent number's kind digit says (ZC 0006-2003), "" for another office's (N7)."""
    if not patent_id.startswith("ZL"):
        return ""
    digit = patent_id[6] if len(patent_id) == 16 else patent_id[4]  # (12 digits: the 5th; 8 digits: the 3rd)
    return {"1": "invention", "8": "invention", "2": "utility_model", "9": "utility_model", "3": "design"}.get(digit, "")


def decide(c: dict[str, Any]) -> list[Result]:
    """Statuses and amounts for every item of one prepared claim, in order (R20)."""
    caps: dict[tuple[str, tuple[Any, ...]], Decimal] = {}
    limits: dict[tuple[str, tuple[Any, ...]], set[tuple[Any, ...]]] = {}
    for consumes in c["history"]:
        for kind, ident, scope, value in consumes:
            if kind == "cap":
                caps[(ident, scope)] = caps.get((ident, scope), ZERO) + value
            else:
                limits.setdefault((ident, scope), set()).add(value)

    a = c["applicant"]
    kind = a["kind"]
    roles = a["roles"]
    aid = a["id"]
    year = c["year"]
    claim_id = c["claim_id"]
    is_person = kind == "natural_person"

    # Applicant standing (第四条第二款, R1): True / False / None (not stated: unknown, N4).
    standing_refused = False
    standing_unknown = False
    if is_person:
        v = a.get("household_registered_in_district")
        if v is None:
            standing_unknown = True
        elif not v:
            standing_refused = True
    else:
        for fact in ("registered_in_district", "actually_operating", "pays_tax_in_district"):
            v = a.get(fact)
            if v is None:
                standing_unknown = True
                break
            if not v:
                standing_refused = True
                break
    if any(d <= c["submitted"] <= five_years_after(d) for d in a["fraud_finding_dates"]):  # 第十四条, R5, R24
        standing_refused = True
    if c["submitted"].year != year + 1:  # 第十一条, R6
        standing_refused = True
    standing_docs_missing = STANDING_DOC[kind] not in c["documents"]  # 第十二条（一）, R23

    out: list[Result] = []
    for it in c["items"]:
        t = it["type"]
        refused = standing_refused
        if it["date"].year != year:  # 第十一条, R6
            refused = True
        if it["supported_by_other_district_policy"]:  # 第九条, R19 (and N2 for referrals)
            refused = True

        if t == "self_transformation":  # 第六条（四）第二款: referred (R14, R28); no documents
            status = "refused" if refused else "incomplete" if standing_unknown else "referred"
            out.append((status, ZERO, None))
            continue

        asked: Decimal | None
        cap_id: str | None = None
        cap_max = ZERO
        cap_scope: tuple[Any, ...] = ()
        limit_id: str | None = None
        limit_times = 1
        limit_scope: tuple[Any, ...] = ()
        counts: tuple[Any, ...] = (claim_id, it["id"])  # by default each granted item counts once
        docs: tuple[str, ...] = ("proof_of_right",)
        receipts = True

        if t == "invention_patent_grant":  # 第五条（一）, R9; once per patent number, whoever claims (N5)
            if kind not in EVERYONE or _not_first_holder(it, a):
                refused = True
            if it["patent_kind"] != "invention" or _number_kind(it["patent_id"]) not in ("", "invention"):  # (N7)
                refused = True
            asked = half_of(it["official_fees_paid"])
            limit_id, limit_scope = "invention-patent-once", (it["patent_id"],)
        elif t == "china_patent_award":  # 第五条（二）, R10, R27
            if kind not in EVERYONE or _not_first_holder(it, a):
                refused = True
            asked = _CHINA_AWARD[it["level"]]
            limit_id, limit_scope = "china-patent-award-once-per-patent", (it["patent_id"],)
            receipts = False
        elif t == "beijing_invention_patent_award":  # 第五条（三）, R10, R27
            if kind not in EVERYONE or _not_first_holder(it, a):
                refused = True
            asked = _BEIJING_AWARD[it["level"]]
            limit_id, limit_scope = "beijing-patent-award-once-per-patent", (it["patent_id"],)
            receipts = False
        elif t == "pledge_loan_interest":  # 第六条（一）, R3, R11, R29
            if kind != "enterprise" or not it["lender_is_bank"] or it["pledged_right"] not in ("patent", "trademark"):
                refused = True
            asked = half_of(it["annual_interest_paid"])
            cap_id, cap_max, cap_scope = "pledge-annual-cap", Decimal(300000), (aid, year)
            limit_id, limit_times, limit_scope, counts = "pledge-three-times", 3, (aid,), (it["loan_id"], year)
        elif t == "patent_insurance":  # 第六条（二）, R12
            if kind != "enterprise":
                refused = True
            asked = half_of(it["premium_paid"])
            cap_id, cap_max, cap_scope = "insurance-annual-cap", Decimal(100000), (aid, year)
            limit_id, limit_times, limit_scope, counts = "insurance-two-years", 2, (aid,), (year,)
        elif t == "ip_securitisation":  # 第六条（三）, R3, R13
            if kind != "enterprise" or it["underlying_right"] not in ("patent", "trademark"):
                refused = True
            asked = half_of(it["financing_costs"])
            cap_id, cap_max, cap_scope = "securitisation-total-cap", Decimal(500000), (aid,)
            docs = ()
        elif t == "platform_transformation_service":  # 第六条（四）第一款, R3, R14
            if kind not in ORGS or "ip_operation_platform" not in roles or not it["landed_in_district"]:
                refused = True
            if it["underlying_right"] not in ("patent", "trademark"):
                refused = True
            asked = half_of(it["technology_service_fee"])
            cap_id, cap_max, cap_scope = "platform-total-cap", Decimal(1000000), (aid,)
            docs = ()
        elif t == "alliance_operation":  # 第六条（五）, R15, N3
            if kind not in ORGS or "ip_alliance" not in roles or it["costs_from"] < it["founding_date"]:
                refused = True
            if it["costs_from"].year != year:  # 第十一条, R6, N8: the cost period begins in the funding year
                refused = True
            asked = half_of(it["actual_costs"])
            cap_id, cap_max, cap_scope = "alliance-total-cap", Decimal(200000), (it["alliance_id"],)
            docs = ()
        elif t == "navigation_project":  # 第六条（六）, R16
            if kind != "enterprise":
                refused = True
            asked = half_of(it["actual_costs"])
            cap_id, cap_max, cap_scope = "project-cap", Decimal(50000), (aid, it["project_id"])  # (N10: the applicant's project)
            docs = ()
        elif t == "national_ip_title":  # 第七条（一）, R17: once per applicant and title
            if kind != "enterprise":
                refused = True
            asked = _NATIONAL_TITLE[it["title"]]
            limit_id, limit_scope = "national-title-once", (aid, it["title"])
            receipts = False
        elif t == "beijing_ip_demonstration_unit":  # 第七条（二）, R2 (单位), R17
            if kind not in ("enterprise", "public_institution"):
                refused = True
            asked = Decimal(50000)
            limit_id, limit_scope = "beijing-demonstration-once", (aid,)
            receipts = False
        elif t == "ip_management_certification":  # 第七条（三）, R17
            if kind != "enterprise":
                refused = True
            asked = Decimal(50000)
            limit_id, limit_scope = "certification-once", (aid,)
            receipts = False
        elif t == "service_agency_performance":  # 第八条, R18, N1: the panel's amount, at most 10万 per agency and year
            if kind not in ORGS or "ip_service_agency" not in roles:
                refused = True
            asked = it.get("panel_amount")
            cap_id, cap_max, cap_scope = "agency-cap", Decimal(100000), (aid, year)
            docs = ()
            receipts = False
        else:
            raise ValueError(f"unknown item type {t}")

        # Limits: times per scope (R11, R12, R17, R27, N5).
        if limit_id is not None:
            used = limits.get((limit_id, limit_scope), ())
            if counts not in used and len(used) >= limit_times:
                refused = True

        pending = asked is None
        granted = ZERO if asked is None else asked
        if not pending:
            if cap_id is not None:
                room = cap_max - caps.get((cap_id, cap_scope), ZERO)
                if granted > 0 and room < granted:
                    if room <= 0:  # cut to nothing: refused, counts as no time (R21)
                        refused = True
                        granted = ZERO
                    else:
                        granted = room
            if granted == 0 and not refused and not standing_unknown:
                refused = True  # nothing to pay
        elif cap_id is not None and cap_max - caps.get((cap_id, cap_scope), ZERO) <= 0:
            refused = True  # whatever the panel gives, the cap cuts it to nothing (R21; R25: the refusal wins)

        if refused:
            out.append(("refused", ZERO, None))
            continue
        if standing_unknown:  # (R23/R25: its amount stated, as the caps stand, consuming nothing; a panel's: none yet)
            out.append(("incomplete", ZERO, None if pending else granted))
            continue
        if pending:
            out.append(("pending_review", ZERO, None))
            continue
        have = it["documents"]
        missing = standing_docs_missing or ("proof_of_right" in docs and "proof_of_right" not in have)
        if receipts and not missing:
            missing = "fee_receipts" not in have or (not is_person and "sealed_receipt_copies" not in have)
        if missing:  # 第十二条, R23, R25: provisional amount after caps, consuming nothing
            out.append(("incomplete", ZERO, granted))
            continue
        assert asked is not None
        out.append(("reduced" if granted < asked else "granted", granted, None))
        if cap_id is not None:
            caps[(cap_id, cap_scope)] = caps.get((cap_id, cap_scope), ZERO) + granted
        if limit_id is not None:
            limits.setdefault((limit_id, limit_scope), set()).add(counts)
    return out


def _not_first_holder(it: dict[str, Any], a: dict[str, Any]) -> bool:
    """第四条第三款, R4, R30: only the first listed right holder; no holders listed means the applicant."""
    holders = it["right_holders"]
    return bool(holders) and holders[0] != a["name"]
