"""A seeded generator of realistic application rounds under the Pinggu measures.

    python benchmarks/generate.py --items 1000 --out /tmp/round.jsonl   # JSON lines, one claim each

`claims(n_items, seed)` yields claim dicts (the JSON form `engine.parse_claim`
reads) until exactly `n_items` items have been produced: 5-15 items per
application, every item type of the policy, applicants of every kind and role,
and per application a history of earlier grants in the engine's own grant
format. The mix is tuned so that every refusal path, every cap and every limit
of the policy fires thousands of times in a round of 100,000 items:

* standing refused (not registered / not operating / no tax / no hukou),
  standing unknown (fact not stated), the five-year fraud bar (inside, on the
  fifth anniversary, the day after -- with a later finding made after the
  submission, which does not bar it), submission in the wrong year;
* item outside the funding year, double benefit (第九条), wrong applicant kind
  or role, not the first right holder, non-invention patent, non-bank lender,
  a pledged right other than a patent or trademark, a platform transformation
  that did not land, alliance costs from before the founding day;
* caps exhausted or biting (pledge per year, insurance per year,
  securitisation, platform, alliance, project, agency), limits reached (once
  per patent, award once per patent, three pledge subsidies, two insurance
  years, titles once), from history and from earlier items of the same
  application;
* missing documents (incomplete, with a provisional amount), referrals,
  panel amounts pending review.

It is a generator: nothing is materialised, so a round of any size streams in
constant memory. Identifiers carry valid check characters (GB 32100-2015 /
GB 11643-1999).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.core.identifiers import cn_patent_check_char, resident_id_check_char, uscc_check_char  # noqa: E402  (check characters only: a national standard)

SEED = 20211231
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"

ORG_KINDS = ("enterprise", "public_institution", "other_organisation")
STANDING_DOC = {
    "enterprise": "business_licence",
    "public_institution": "institution_certificate",
    "other_organisation": "organisation_certificate",
    "natural_person": "id_card",
}
# Documents each item type needs from an organisation (a natural person needs no sealed copies).
ITEM_DOCS: dict[str, tuple[str, ...]] = {
    "invention_patent_grant": ("proof_of_right", "fee_receipts", "sealed_receipt_copies"),
    "china_patent_award": ("proof_of_right",),
    "beijing_invention_patent_award": ("proof_of_right",),
    "pledge_loan_interest": ("proof_of_right", "fee_receipts", "sealed_receipt_copies"),
    "patent_insurance": ("proof_of_right", "fee_receipts", "sealed_receipt_copies"),
    "ip_securitisation": ("fee_receipts", "sealed_receipt_copies"),
    "platform_transformation_service": ("fee_receipts", "sealed_receipt_copies"),
    "self_transformation": (),
    "alliance_operation": ("fee_receipts", "sealed_receipt_copies"),
    "navigation_project": ("fee_receipts", "sealed_receipt_copies"),
    "national_ip_title": ("proof_of_right",),
    "beijing_ip_demonstration_unit": ("proof_of_right",),
    "ip_management_certification": ("proof_of_right",),
    "service_agency_performance": (),
}
ITEM_TYPES = tuple(ITEM_DOCS)

# Item types an applicant of each profile mostly claims (a few claims outside these test the scope checks).
PROFILE_TYPES: dict[str, tuple[str, ...]] = {
    "enterprise": (
        "invention_patent_grant",
        "invention_patent_grant",
        "invention_patent_grant",
        "china_patent_award",
        "beijing_invention_patent_award",
        "pledge_loan_interest",
        "pledge_loan_interest",
        "patent_insurance",
        "patent_insurance",
        "ip_securitisation",
        "self_transformation",
        "navigation_project",
        "navigation_project",
        "national_ip_title",
        "beijing_ip_demonstration_unit",
        "ip_management_certification",
    ),
    "public_institution": (
        "invention_patent_grant",
        "invention_patent_grant",
        "china_patent_award",
        "beijing_invention_patent_award",
        "beijing_ip_demonstration_unit",
        "self_transformation",
    ),
    "other_organisation": ("invention_patent_grant", "beijing_invention_patent_award", "self_transformation"),
    "natural_person": (
        "invention_patent_grant",
        "invention_patent_grant",
        "china_patent_award",
        "beijing_invention_patent_award",
        "self_transformation",
    ),
    "ip_operation_platform": ("platform_transformation_service", "platform_transformation_service", "platform_transformation_service"),
    "ip_alliance": ("alliance_operation", "alliance_operation", "alliance_operation"),
    "ip_service_agency": ("service_agency_performance", "service_agency_performance"),
}

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"
FIRMS = "京谷峪鑫泰华盛博远创新联合智云海达金桃"


def uscc(rng: random.Random, kind: str) -> str:
    head = {"enterprise": "91", "public_institution": "12", "other_organisation": "52"}[kind] + "110117"
    body = head + "".join(rng.choice(USCC_CHARS) for _ in range(9))
    return body + uscc_check_char(body)


def resident_id(rng: random.Random) -> str:
    born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(365 * 50))
    body = "110117" + born.strftime("%Y%m%d") + f"{rng.randrange(1000):03d}"
    return body + resident_id_check_char(body)


def money(rng: random.Random, lo: int, hi: int) -> str:
    """An amount in yuan with fen; odd fen make the 50% rounding (half up) matter."""
    return f"{rng.randrange(lo, hi)}.{rng.randrange(100):02d}"


def day_in(rng: random.Random, year: int) -> dt.date:
    return dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))


class _Round:
    """State of one generated round: the counter for ids, patent numbers shared across applicants."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.serial = 0
        self.patents: list[str] = []

    def right(self, n: int) -> str:
        """The right a securitisation or platform transformation rests on (第四条第一款, R3): mostly a patent, every
        third a trademark, one in twenty a copyright (refused). Not drawn from the generator, so adding this fact
        left every other generated value as it was."""
        k = self.serial + n
        return "copyright" if k % 20 == 0 else "trademark" if k % 3 == 0 else "patent"

    def patent(self, year: int) -> str:
        rng = self.rng
        if self.patents and rng.random() < 0.04:  # a patent someone else already claimed (N5: once per patent, whoever claims)
            return rng.choice(self.patents)
        self.serial += 1
        digits = f"{year - 1}1{self.serial:07d}"
        rng.randrange(10)  # (the random check digit numbers used to draw: kept, so that every round stays as it was)
        pid = f"ZL{digits}.{cn_patent_check_char(digits)}"
        if len(self.patents) < 5000:
            self.patents.append(pid)
        else:
            self.patents[rng.randrange(5000)] = pid
        return pid

    # --- the applicant ------------------------------------------------------------------------

    def applicant(self, year: int) -> tuple[dict[str, Any], str]:
        rng = self.rng
        r = rng.random()
        profile: str
        if r < 0.52:
            kind, profile = "enterprise", "enterprise"
        elif r < 0.63:
            kind, profile = "enterprise", rng.choice(("ip_operation_platform", "ip_service_agency"))
        elif r < 0.70:
            kind, profile = "public_institution", "public_institution"
        elif r < 0.75:
            kind, profile = "other_organisation", "other_organisation"
        elif r < 0.82:
            kind, profile = rng.choice(("other_organisation", "other_organisation", "public_institution", "enterprise")), "ip_alliance"
        else:
            kind, profile = "natural_person", "natural_person"
        self.serial += 1
        if kind == "natural_person":
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
            app: dict[str, Any] = {"id": resident_id(rng), "name": name, "kind": kind}
            s = rng.random()
            if s < 0.94:
                app["household_registered_in_district"] = True
            elif s < 0.97:
                app["household_registered_in_district"] = False
            # else: not stated -> unknown
        else:
            suffix = {"enterprise": "科技有限公司", "public_institution": "研究院", "other_organisation": "协会"}[kind]
            name = "北京" + rng.choice(FIRMS) + rng.choice(FIRMS) + f"{self.serial}" + suffix
            app = {"id": uscc(rng, kind), "name": name, "kind": kind}
            facts = ["registered_in_district", "actually_operating", "pays_tax_in_district"]
            s = rng.random()
            for f in facts:
                app[f] = True
            if s < 0.03:
                app[rng.choice(facts)] = False
            elif s < 0.06:
                del app[rng.choice(facts)]  # unknown: incomplete unless refused
            if profile != kind:
                app["roles"] = [profile]
            elif rng.random() < 0.02:  # an enterprise claiming as a platform without the role is tested by the item mix
                app["roles"] = []
        f = rng.random()
        if f < 0.006:  # found to have committed fraud within five years: barred
            app["fraud_finding_dates"] = [(day_in(rng, year - 3)).isoformat()]
        elif f < 0.009:  # fifth anniversary falls on the submission day: still barred (R24)
            app["fraud_finding_dates"] = ["SUBMISSION-5Y"]
        elif f < 0.012:  # the bar ended the day before submission, and a later finding came after it: free
            app["fraud_finding_dates"] = ["SUBMISSION-5Y-1D"]
        elif f < 0.02:
            app["fraud_finding_dates"] = [(day_in(rng, year - 9)).isoformat()]
        return app, profile

    # --- items --------------------------------------------------------------------------------

    def item(self, t: str, n: int, app: dict[str, Any], year: int, ctx: dict[str, Any]) -> dict[str, Any]:
        rng = self.rng
        date = day_in(rng, year) if rng.random() < 0.96 else day_in(rng, year - 1 if rng.random() < 0.7 else year + 1)
        it: dict[str, Any] = {
            "id": f"i{n}",
            "type": t,
            "date": date.isoformat(),
            "supported_by_other_district_policy": rng.random() < 0.025,
        }
        docs = [d for d in ITEM_DOCS[t] if not (d == "sealed_receipt_copies" and app["kind"] == "natural_person")]
        if docs and rng.random() < 0.06:
            docs.remove(rng.choice(docs))
        it["documents"] = docs
        name = app["name"]
        if t == "invention_patent_grant":
            pid = self.patent(year)
            ctx["patents"].append(pid)
            k = rng.random()
            it.update(
                patent_id=pid,
                patent_kind="invention" if k < 0.9 else rng.choice(("utility_model", "design")),
                route=rng.choice(("domestic", "domestic", "domestic", "pct", "foreign_other")),
                official_fees_paid=money(rng, 800, 30000),
            )
            h = rng.random()
            if h < 0.45:
                it["right_holders"] = [name]
            elif h < 0.7:
                it["right_holders"] = [name, "某大学"]
            elif h < 0.74:
                it["right_holders"] = ["某大学", name]  # not the first holder
            elif h < 0.76:
                it["right_holders"] = ["他人科技有限公司"]  # not a holder at all (R30)
            # else: none listed -> the applicant is the sole holder
        elif t in ("china_patent_award", "beijing_invention_patent_award"):
            pid = rng.choice(ctx["patents"]) if ctx["patents"] and rng.random() < 0.3 else self.patent(year - 1)
            levels = ("gold", "silver", "excellence") if t == "china_patent_award" else ("special", "first", "second", "third")
            it.update(patent_id=pid, level=rng.choice(levels))
            if rng.random() < 0.3:
                it["right_holders"] = [name] if rng.random() < 0.9 else ["某大学", name]
            ctx["awards"].append((t, pid))
        elif t == "pledge_loan_interest":
            loans = ctx["loans"]
            if loans and rng.random() < 0.15:
                loan = rng.choice(loans)  # a second payment on the same loan: the same time (R29)
            else:
                loan = f"LOAN-{self.serial}-{n}"
                loans.append(loan)
            r = rng.random()
            right = (
                "patent"
                if r < 0.6
                else "trademark"
                if r < 0.95
                else rng.choice(("copyright", "software_copyright", "plant_variety", "other"))
            )
            it.update(loan_id=loan, lender_is_bank=rng.random() < 0.96, pledged_right=right, annual_interest_paid=money(rng, 5000, 700000))
        elif t == "patent_insurance":
            it.update(insurance_policy_id=f"INS-{self.serial}-{n}", premium_paid=money(rng, 2000, 150000))
        elif t == "ip_securitisation":
            it.update(financing_id=f"ABS-{self.serial}-{n}", financing_costs=money(rng, 50000, 900000), underlying_right=self.right(n))
        elif t == "platform_transformation_service":
            it.update(
                transformation_id=f"TR-{self.serial}-{n}",
                technology_service_fee=money(rng, 20000, 900000),
                landed_in_district=rng.random() < 0.93,
                underlying_right=self.right(n),
            )
        elif t == "self_transformation":
            it.update(transformation_id=f"TRS-{self.serial}-{n}")
        elif t == "alliance_operation":
            alliance = ctx.setdefault("alliance", f"ALLY-{self.serial}")
            founded = ctx.setdefault("founded", day_in(rng, year - rng.randrange(0, 4)))
            start = (
                founded + dt.timedelta(days=rng.randrange(-60, 400))
                if rng.random() < 0.9
                else founded - dt.timedelta(days=rng.randrange(1, 90))
            )
            it.update(
                alliance_id=alliance,
                founding_date=founded.isoformat(),
                costs_from=start.isoformat(),
                actual_costs=money(rng, 10000, 260000),
            )
        elif t == "navigation_project":
            projects = ctx["projects"]
            project = rng.choice(projects) if projects and rng.random() < 0.2 else f"NAV-{self.serial}-{n}"
            projects.append(project)
            it.update(
                project_id=project,
                project_kind=rng.choice(("navigation", "early_warning", "strategy")),
                actual_costs=money(rng, 10000, 160000),
            )
        elif t == "national_ip_title":
            it.update(title=rng.choice(("demonstration", "advantage")))
        elif t == "beijing_ip_demonstration_unit":
            pass
        elif t == "ip_management_certification":
            it.update(certificate_id=f"CERT-{self.serial}-{n}")
        elif t == "service_agency_performance":
            p = rng.random()
            if p < 0.72:
                it["panel_amount"] = money(rng, 5000, 90000)
            elif p < 0.75:
                it["panel_amount"] = "0.00"  # the panel recommends nothing: an amount of zero is refused
            # else: not reviewed yet -> pending review
        return it

    # --- history: earlier grants, in the engine's grant format -----------------------------------

    def history(self, app: dict[str, Any], year: int, items: list[dict[str, Any]], ctx: dict[str, Any]) -> list[dict[str, Any]]:
        rng = self.rng
        aid = app["id"]
        out: list[dict[str, Any]] = []
        types = {it["type"] for it in items}

        def grant(rule: str, gyear: int, amount: str, *consumes: dict[str, Any], applicant: str = aid) -> None:
            n = len(out) + 1
            out.append(
                {
                    "claim_id": f"H-{gyear + 1}-{self.serial}-{n}",
                    "item_id": f"h{n}",
                    "rule": rule,
                    "applicant_id": applicant,
                    "funding_year": gyear,
                    "amount": amount,
                    "consumes": list(consumes),
                }
            )

        for it in items:
            t = it["type"]
            if t == "invention_patent_grant" and rng.random() < 0.08:  # already paid for this patent
                grant(
                    "invention-patent-fees",
                    year - 1,
                    "3000.00",
                    {"limit": "invention-patent-once", "scope": [it["patent_id"]], "counts": ["H", "x"]},
                )
            elif t == "china_patent_award" and rng.random() < 0.12:
                grant(
                    "china-patent-award",
                    year - 1,
                    "300000.00",
                    {"limit": "china-patent-award-once-per-patent", "scope": [it["patent_id"]], "counts": ["H", "y"]},
                )
            elif t == "beijing_invention_patent_award" and rng.random() < 0.12:
                grant(
                    "beijing-invention-patent-award",
                    year - 1,
                    "30000.00",
                    {"limit": "beijing-patent-award-once-per-patent", "scope": [it["patent_id"]], "counts": ["H", "z"]},
                )
        if "pledge_loan_interest" in types:
            past = rng.choice((0, 0, 1, 1, 2, 2, 3))
            for k in range(past):
                gy = year - 1 - k
                amount = money(rng, 10000, 300000)
                grant(
                    "pledge-loan-interest",
                    gy,
                    amount,
                    {"cap": "pledge-annual-cap", "scope": [aid, gy], "amount": amount},
                    {"limit": "pledge-three-times", "scope": [aid], "counts": [f"OLD-LOAN-{k}", gy]},
                )
            if rng.random() < 0.25:  # an earlier application in the same funding year already used part of the annual cap
                amount = money(rng, 100000, 300000)
                grant(
                    "pledge-loan-interest",
                    year,
                    amount,
                    {"cap": "pledge-annual-cap", "scope": [aid, year], "amount": amount},
                    {"limit": "pledge-three-times", "scope": [aid], "counts": ["SAME-YEAR-LOAN", year]},
                )
        if "patent_insurance" in types:
            years = rng.choice(((), (), (year - 1,), (year - 2, year - 1), (year,)))
            for gy in years:
                amount = money(rng, 10000, 100000)
                grant(
                    "patent-insurance",
                    gy,
                    amount,
                    {"cap": "insurance-annual-cap", "scope": [aid, gy], "amount": amount},
                    {"limit": "insurance-two-years", "scope": [aid], "counts": [gy]},
                )
        for t, rule, cap, ceiling, scope in (
            ("ip_securitisation", "ip-securitisation", "securitisation-total-cap", 500000, [aid]),
            ("platform_transformation_service", "platform-transformation-service", "platform-total-cap", 1000000, [aid]),
            ("alliance_operation", "alliance-operation", "alliance-total-cap", 200000, [ctx.get("alliance", "")]),
            ("service_agency_performance", "service-agency-performance", "agency-cap", 100000, [aid, year]),
        ):
            if t in types and rng.random() < 0.5:
                used = rng.randrange(ceiling // 10, ceiling + 1)
                grant(rule, year - 1 if cap != "agency-cap" else year, f"{used}.00", {"cap": cap, "scope": scope, "amount": f"{used}.00"})
        for project in dict.fromkeys(ctx["projects"]):  # in order: a set would follow the hash seed
            if rng.random() < 0.2:
                used = rng.randrange(10000, 50001)
                grant("navigation-project", year - 1, f"{used}.00", {"cap": "project-cap", "scope": [aid, project], "amount": f"{used}.00"})
        for t, rule, limit, scope, amount in (
            ("national_ip_title", "national-ip-title", "national-title-once", None, "100000.00"),
            ("beijing_ip_demonstration_unit", "beijing-ip-demonstration-unit", "beijing-demonstration-once", [aid], "50000.00"),
            ("ip_management_certification", "ip-management-certification", "certification-once", [aid], "50000.00"),
        ):
            if t in types and rng.random() < 0.3:
                sc = scope if scope is not None else [aid, rng.choice(("demonstration", "advantage"))]
                grant(rule, year - 2, amount, {"limit": limit, "scope": sc, "counts": ["H", "t"]})
        return out

    def claim(self, n_items: int) -> dict[str, Any]:
        rng = self.rng
        year = rng.choice((2021, 2021, 2022, 2022, 2023))
        app, profile = self.applicant(year)
        submitted = day_in(rng, year + 1) if rng.random() < 0.97 else day_in(rng, year + rng.choice((0, 2)))
        if app.get("fraud_finding_dates") == ["SUBMISSION-5Y"]:
            app["fraud_finding_dates"] = [_minus_years(submitted, 5).isoformat()]
        elif app.get("fraud_finding_dates") == ["SUBMISSION-5Y-1D"]:
            # (no draw from rng: the stream of every other claim stays as it was)
            later = submitted + dt.timedelta(days=30)  # a finding after the submission does not bar it (R24)
            app["fraud_finding_dates"] = [_minus_years(submitted - dt.timedelta(days=1), 5).isoformat(), later.isoformat()]
        pool = PROFILE_TYPES[profile]
        special = profile in ("ip_operation_platform", "ip_alliance", "ip_service_agency")
        if special:  # half its items are what the role is for, the rest what any organisation of its kind claims
            general = PROFILE_TYPES["enterprise" if app["kind"] == "enterprise" else "other_organisation"]
        ctx: dict[str, Any] = {"patents": [], "awards": [], "loans": [], "projects": []}
        items = []
        for n in range(1, n_items + 1):
            if rng.random() >= 0.93:
                t = rng.choice(ITEM_TYPES)  # outside what this applicant may claim, now and then
            elif special and rng.random() < 0.5:
                t = rng.choice(general)
            else:
                t = rng.choice(pool)
            items.append(self.item(t, n, app, year, ctx))
        documents = [STANDING_DOC[app["kind"]]] if rng.random() < 0.97 else []
        self.serial += 1
        out: dict[str, Any] = {
            "claim_id": f"PG-{year + 1}-{self.serial:07d}",
            "funding_year": year,
            "submission_date": submitted.isoformat(),
            "documents": documents,
            "applicant": app,
            "items": items,
        }
        history = self.history(app, year, items, ctx)
        if history:
            out["history"] = history
        return out


def _minus_years(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February
        return d.replace(year=d.year - years, day=28)


def claims(n_items: int, seed: int = SEED, *, min_items: int = 5, max_items: int = 15) -> Iterator[dict[str, Any]]:
    """Claims with `min_items`..`max_items` items each, `n_items` items in all (the last claim takes the rest)."""
    state = _Round(seed)
    left = n_items
    while left > 0:
        k = state.rng.randint(min_items, max_items)
        if left - k < min_items:
            k = left
        yield state.claim(k)
        left -= k


def application(n_items: int = 10, seed: int = SEED) -> dict[str, Any]:
    """One application of exactly `n_items` items (for latency measurements)."""
    return _Round(seed).claim(n_items)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--items", type=int, default=1000, help="items in the round (default 1000)")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--out", default="-", help="JSON lines file (default stdout)")
    args = ap.parse_args(argv)
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")
    try:
        for c in claims(args.items, args.seed):
            out.write(json.dumps(c, ensure_ascii=False, default=_json_default) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
