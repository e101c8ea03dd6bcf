"""Shared fixtures: the Pinggu policy (loaded once) and builders for valid claims.

Builders fill in the boring facts (a standing, registered enterprise; documents
present; not supported elsewhere) so that each test states only what it is
about. Every expected amount in the tests is written out by hand from the
measures and the readings, never copied from the engine's output.
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import engine
from engine.core.identifiers import cn_patent_check_char

# Tests read the engine's words in English unless they choose a language themselves: a machine whose locale is
# zh_CN must not turn the English assertions red (the language tests set LANG / POLICY_ENGINE_LANG explicitly).
for _var in ("LC_ALL", "LC_MESSAGES", "POLICY_ENGINE_LANG"):
    os.environ.pop(_var, None)
os.environ["LANG"] = "C.UTF-8"

ROOT = Path(__file__).resolve().parent.parent
POLICY_PATH = ROOT / "policies" / "pinggu_2020.yaml"

# Identifiers with valid check characters (GB 32100-2015 / GB 11643-1999).
ENTERPRISE_ID = "91110117MA01ABCD1F"
ENTERPRISE_2_ID = "91110117MA02XYHW3G"
INSTITUTION_ID = "12110117400000001X"
PLATFORM_ID = "91110117MA03PLAT5Q"
ALLIANCE_ID = "91110117MA04ALLE66"
AGENCY_ID = "91110117MA05AGEN75"
OTHER_ORG_ID = "52110117MA06NNNN8H"
PERSON_ID = "110117198503120026"

ENTERPRISE_NAME = "北京平谷示例科技有限公司"

# Documents each item type needs when the applicant is an organisation (R23).
FULL_DOCS: dict[str, list[str]] = {
    "invention_patent_grant": ["proof_of_right", "fee_receipts", "sealed_receipt_copies"],
    "china_patent_award": ["proof_of_right"],
    "beijing_invention_patent_award": ["proof_of_right"],
    "pledge_loan_interest": ["proof_of_right", "fee_receipts", "sealed_receipt_copies"],
    "patent_insurance": ["proof_of_right", "fee_receipts", "sealed_receipt_copies"],
    "ip_securitisation": ["fee_receipts", "sealed_receipt_copies"],
    "platform_transformation_service": ["fee_receipts", "sealed_receipt_copies"],
    "self_transformation": [],
    "alliance_operation": ["fee_receipts", "sealed_receipt_copies"],
    "navigation_project": ["fee_receipts", "sealed_receipt_copies"],
    "national_ip_title": ["proof_of_right"],
    "beijing_ip_demonstration_unit": ["proof_of_right"],
    "ip_management_certification": ["proof_of_right"],
    "service_agency_performance": [],
}

# Minimal valid facts per item type (funding year 2021).
DEFAULT_FACTS: dict[str, dict[str, Any]] = {
    "invention_patent_grant": {
        "patent_id": "ZL202010000001.1",
        "patent_kind": "invention",
        "route": "domestic",
        "official_fees_paid": "8400.00",
    },
    "china_patent_award": {"patent_id": "ZL201810000002.9", "level": "gold"},
    "beijing_invention_patent_award": {"patent_id": "ZL201810000003.3", "level": "first"},
    "pledge_loan_interest": {"loan_id": "LOAN-1", "lender_is_bank": True, "pledged_right": "patent", "annual_interest_paid": "100000.00"},
    "patent_insurance": {"insurance_policy_id": "INS-1", "premium_paid": "20000.00"},
    "ip_securitisation": {"financing_id": "ABS-1", "financing_costs": "400000.00", "underlying_right": "patent"},
    "platform_transformation_service": {
        "transformation_id": "TR-1",
        "technology_service_fee": "300000.00",
        "landed_in_district": True,
        "underlying_right": "patent",
    },
    "self_transformation": {"transformation_id": "TR-SELF-1"},
    "alliance_operation": {"alliance_id": "ALLY-1", "founding_date": "2020-05-01", "costs_from": "2021-01-01", "actual_costs": "100000.00"},
    "navigation_project": {"project_id": "NAV-1", "project_kind": "navigation", "actual_costs": "60000.00"},
    "national_ip_title": {"title": "demonstration"},
    "beijing_ip_demonstration_unit": {},
    "ip_management_certification": {"certificate_id": "CERT-1"},
    "service_agency_performance": {"panel_amount": "80000.00"},
}

APPLICANTS: dict[str, dict[str, Any]] = {
    "enterprise": {
        "id": ENTERPRISE_ID,
        "name": ENTERPRISE_NAME,
        "kind": "enterprise",
        "registered_in_district": True,
        "actually_operating": True,
        "pays_tax_in_district": True,
    },
    "public_institution": {
        "id": INSTITUTION_ID,
        "name": "平谷区示例研究院",
        "kind": "public_institution",
        "registered_in_district": True,
        "actually_operating": True,
        "pays_tax_in_district": True,
    },
    "other_organisation": {
        "id": OTHER_ORG_ID,
        "name": "平谷区示例协会",
        "kind": "other_organisation",
        "registered_in_district": True,
        "actually_operating": True,
        "pays_tax_in_district": True,
    },
    "natural_person": {"id": PERSON_ID, "name": "张三", "kind": "natural_person", "household_registered_in_district": True},
    "platform": {
        "id": PLATFORM_ID,
        "name": "平谷知识产权运营平台有限公司",
        "kind": "enterprise",
        "roles": ["ip_operation_platform"],
        "registered_in_district": True,
        "actually_operating": True,
        "pays_tax_in_district": True,
    },
    "alliance": {
        "id": ALLIANCE_ID,
        "name": "平谷区知识产权联盟",
        "kind": "other_organisation",
        "roles": ["ip_alliance"],
        "registered_in_district": True,
        "actually_operating": True,
        "pays_tax_in_district": True,
    },
    "agency": {
        "id": AGENCY_ID,
        "name": "平谷知识产权代理事务所",
        "kind": "enterprise",
        "roles": ["ip_service_agency"],
        "registered_in_district": True,
        "actually_operating": True,
        "pays_tax_in_district": True,
    },
}

STANDING_DOC = {
    "enterprise": "business_licence",
    "public_institution": "institution_certificate",
    "other_organisation": "organisation_certificate",
    "natural_person": "id_card",
}


def policy_beside(folder: Path, policy: Path = POLICY_PATH) -> Path:
    """A copy of `policy` (and the texts it quotes) in `folder`, for a case file written there to name: a case file
    names only a policy kept with it (`engine/officer/casefile.py`, `_check_beside`)."""
    kept = folder / policy.name
    if not kept.exists():
        shutil.copy(policy, kept)
        if (policy.parent / "texts").is_dir():
            shutil.copytree(policy.parent / "texts", folder / "texts", dirs_exist_ok=True)
    return kept


def policy_edited(folder: Path, old: str, new: str) -> Path:
    """Pinggu's policy with one edit (`old`, found once, replaced by `new`), written in `folder` beside the texts it
    quotes."""
    text = POLICY_PATH.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    out = folder / "policy.yaml"
    out.write_text(text.replace(old, new), encoding="utf-8")
    shutil.copytree(POLICY_PATH.parent / "texts", folder / "texts")
    return out


def load_refused(path: Path) -> str:
    """The problems loading the policy at `path` says (it must refuse it)."""
    with pytest.raises(engine.PolicyError) as caught:
        engine.load_policy(path)
    return str(caught.value)


def patent_number(n: int, year: int = 2021) -> str:
    """A patent number (专利号, ZC 0006-2003) in its standard form: an invention application of `year`, serial `n`
    (the check character is the standard's: tests/test_patent_numbers.py holds it to hand-worked cases)."""
    digits = f"{year}1{n:07d}"
    return f"ZL{digits}.{cn_patent_check_char(digits)}"


#: one patent that several claims name (its "once per patent" limit shared between them)
SHARED_PATENT = patent_number(4242)


def item(item_type: str, item_id: str | None = None, *, date: str = "2021-06-01", **facts: Any) -> dict[str, Any]:
    """A valid item of `item_type` in funding year 2021 with all its documents; override any fact."""
    out: dict[str, Any] = {
        "id": item_id or item_type,
        "type": item_type,
        "date": date,
        "documents": list(FULL_DOCS[item_type]),
        "supported_by_other_district_policy": False,
    }
    out.update(copy.deepcopy(DEFAULT_FACTS[item_type]))
    out.update(facts)
    return {k: v for k, v in out.items() if v is not ...}  # pass fact=... to drop a fact


def claim(
    *items: dict[str, Any],
    applicant: str | dict[str, Any] = "enterprise",
    funding_year: int = 2021,
    submission_date: str | None = None,
    history: list[dict[str, Any]] | None = None,
    claim_id: str = "C-1",
    **applicant_facts: Any,
) -> dict[str, Any]:
    """A valid claim by a standing applicant, with its proof of standing, for `items`."""
    app = copy.deepcopy(APPLICANTS[applicant]) if isinstance(applicant, str) else copy.deepcopy(applicant)
    app.update(applicant_facts)
    app = {k: v for k, v in app.items() if v is not ...}
    out: dict[str, Any] = {
        "claim_id": claim_id,
        "funding_year": funding_year,
        "submission_date": submission_date or f"{funding_year + 1}-03-15",
        "documents": [STANDING_DOC[app["kind"]]],
        "applicant": app,
        "items": list(items),
    }
    if history is not None:
        out["history"] = history
    return out


# --- history written by hand (grant records, as the ledger stores them) ---


def history_grant(
    rule: str,
    amount: str,
    *consumes: dict[str, Any],
    year: int = 2021,
    applicant_id: str = ENTERPRISE_ID,
    claim_id: str = "H-1",
    item_id: str = "h1",
) -> dict[str, Any]:
    """One earlier grant, written by hand in the JSON form Grant.to_dict() produces."""
    return {
        "claim_id": claim_id,
        "item_id": item_id,
        "rule": rule,
        "applicant_id": applicant_id,
        "funding_year": year,
        "amount": amount,
        "consumes": list(consumes),
    }


def cap_use(cap_id: str, scope: list[Any], amount: str) -> dict[str, Any]:
    return {"cap": cap_id, "scope": scope, "amount": amount}


def limit_use(limit_id: str, scope: list[Any], counts: list[Any]) -> dict[str, Any]:
    return {"limit": limit_id, "scope": scope, "counts": counts}


# A hang turned into a failure, never a measure of speed: a guard's bound on work is proved by what its test
# checks (a refusal before the costly step, the size of what is built, a count of calls); this limit only keeps a
# guard that regressed into a hang from holding the whole run, far above the work's time on any machine.
HANG_LIMIT = 60  # seconds


class Hung(BaseException):
    """A test's block still running at its hang limit: a BaseException, so that no `except Exception` or `except
    OSError` of the engine (a process taken for dead, a render error) catches it and carries on."""


@contextlib.contextmanager
def no_hang(seconds: int = HANG_LIMIT) -> Iterator[None]:
    """Fails the test (`Hung`) if the block is still running after `seconds`: SIGALRM, main thread only. An outer
    alarm is armed again on the way out with what was left of it."""

    def hung(signum: int, frame: Any) -> None:
        raise Hung(f"still running after {seconds} s: hung")

    before = signal.signal(signal.SIGALRM, hung)
    outer = signal.alarm(seconds)
    began = time.monotonic()
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, before)
        if outer:
            signal.alarm(max(1, outer - int(time.monotonic() - began)))


@pytest.fixture
def guessed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The words a did-you-mean was asked to guess for, in order (`difflib.get_close_matches`, which every did-you-mean of
    the engine calls): a count of the work a flood of unknown names makes."""
    words: list[str] = []
    real = difflib.get_close_matches

    def guess(word: str, *args: Any, **kwargs: Any) -> list[str]:
        words.append(word)
        return real(word, *args, **kwargs)

    monkeypatch.setattr(difflib, "get_close_matches", guess)
    return words


@pytest.fixture(scope="session")
def policy() -> engine.CompiledPolicy:
    return engine.load_policy(POLICY_PATH)


def decide(policy: engine.CompiledPolicy, data: dict[str, Any], history: Any = ()) -> dict[str, Any]:
    """Evaluate and return the decision as its JSON dict (what every consumer sees)."""
    return engine.evaluate(policy, data, history).to_dict()


def by_item(decision: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["item"]: d for d in decision["items"]}
