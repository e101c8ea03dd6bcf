"""Test cases written by officers, in YAML: a claim (plus history) and what the decision must say.

A case file::

    policy: ../<measures>.yaml          # relative to this file (a CLI --policy overrides it)
    applicants:                           # named applicants, used as `applicant: enterprise`
      enterprise: {id: 91110117MA01ABCD1F, name: 示例公司, kind: enterprise, ...}
    defaults:
      claim: {funding_year: 2021, submission_date: "2022-03-15", documents: [business_licence]}
      item: {date: "2021-06-01", supported_by_other_district_policy: false}
      items: {pledge_loan_interest: {documents: [proof_of_right, fee_receipts, sealed_receipt_copies]}}
    cases:
      - name: 年度封顶 30 万，第二笔贷款被核减
        clauses: [<clause citation>]
        earlier: [ {claim...} ]           # decided first, in order; their grants become history
        history: [ {grant...} ]           # or grant records as the ledger stores them
        claim:
          applicant: enterprise           # or {like: enterprise, pays_tax_in_district: false}
          items:
            - {id: l1, type: <item type>, <fact>: "120000.00", ...}
        expect:
          items:
            l1: {status: granted, amount: 25万}
          total: 25万
          # or: error: not_in_force       (the claim is an error with this code)

A round (several claims decided together as `batch` decides them: round selections ranked, then
the round budget's pro-rata scaling) is a case with `round:` instead of `claim:`::

      - name: 每年不超过3家
        round:
          budget: 25万                     # optional: the round's budget (else the policy's round_budget)
          claims:                          # in round order; each a claim as above, with its claim_id
            - {claim_id: R1, applicant: a, items: [...]}
            - {claim_id: R2, applicant: b, items: [...]}
        expect:
          claims:
            R1: {items: {c1: {status: granted, amount: 10万}}, total: 10万}
          total: 20万                      # of the whole round

A fact written `(absent)` is removed after merging the defaults (an unknown fact).
Amounts may be written 120000, "120000.00" or 12万; one in full-width digits, with thousands separators, w or
千, or as digits with Chinese units between them (1万5千) is refused with the digits to write
(`_amount_written_otherwise`); 1万2 (12000 or 10002) with its two readings. Expected keys per item:
`status`, `amount`, `asked`, `provisional`, `reason` (the main reason's check id),
`reasons` (check ids that must all be among the grounds), `missing_documents`,
`missing_facts`, `cites` (clauses that must all be cited).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from engine.core.errors import ClaimError, EngineError, Problem, first_named
from engine.core.i18n import Msg, languages, lookup, msg, tr
from engine.core.quantities import QuantityError, mixed_readings, parse_amount, said_money
from engine.deciding.claims import checked_history, parse_claim
from engine.deciding.decision import STATUSES, Decision
from engine.deciding.evaluator import RULE_GROUNDS, evaluate_claim
from engine.deciding.history import Grant
from engine.deciding.ready import load_policy
from engine.language.expressions import suggest
from engine.language.model import BudgetRounding, Cap, CompiledPolicy, DocumentCheck, Limit, Rule, Selection, Test, Text
from engine.language.source import Source, load_yaml_file
from engine.language.walk import PolicyVisitor, Site, walk
from engine.records.batch import column_headings, decide_in_memory
from engine.records.tabular import field_heading

ABSENT = "(absent)"
ITEM_KEYS = ("status", "amount", "asked", "provisional", "reason", "reasons", "missing_documents", "missing_facts", "cites")


@dataclass(frozen=True)
class Case:
    file: str
    index: int
    name: str
    line: int | None
    spec: Mapping[str, Any]
    policy_path: Path | None
    claim: dict[str, Any]
    earlier: tuple[dict[str, Any], ...]
    round: tuple[dict[str, Any], ...] = ()  # the claims of a round case, in round order
    budget: Decimal | None = None  # a round case's budget
    source: Source | None = field(default=None, compare=False, repr=False)  # the case file, to place a claim's problems

    @property
    def id(self) -> str:
        return f"{Path(self.file).stem}::{self.index + 1}:{self.name}"

    @property
    def expect(self) -> Mapping[str, Any]:
        exp = self.spec.get("expect", {})
        return exp if isinstance(exp, Mapping) else {}


@dataclass
class CaseResult:
    case: Case
    decision: Decision | None = None
    error: EngineError | None = None
    mismatches: list[str] = field(default_factory=list)
    diagnosis: list[str] = field(default_factory=list)
    policy: CompiledPolicy | None = None
    round_decisions: list[dict[str, Any]] = field(default_factory=list)  # a round case's decisions, as decisions.jsonl holds them

    @property
    def passed(self) -> bool:
        return not self.mismatches


class CaseFileError(EngineError):
    """A case file that cannot be read: not YAML, or not a list of cases."""


# --- loading -------------------------------------------------------------------


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, Mapping) and isinstance(over, Mapping):
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(out[k], v) if k in out else copy.deepcopy(v)
        return out
    return copy.deepcopy(over)


def _strip_absent(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _strip_absent(v) for k, v in value.items() if v != ABSENT}
    if isinstance(value, list):
        return [_strip_absent(v) for v in value]
    return value


def _build_claim(raw: Any, doc: Mapping[str, Any], problems: list[Problem], source: Source, path: tuple[str | int, ...]) -> dict[str, Any]:
    defaults = doc.get("defaults") or {}
    applicants = doc.get("applicants") or {}
    if not isinstance(raw, Mapping):
        problems.append(source.problem(path, msg("casetest.claim_not_mapping"), code="case.claim"))
        return {}
    base = copy.deepcopy(defaults.get("claim") or {})
    claim = dict(raw)
    if "applicant" not in claim and "applicant" in base:
        claim["applicant"] = base["applicant"]
    app = claim.get("applicant")
    if isinstance(app, str) or (isinstance(app, Mapping) and "like" in app):
        name = app if isinstance(app, str) else app["like"]
        if name not in applicants:
            problems.append(
                source.problem(
                    path + ("applicant",),
                    msg("casetest.no_applicant", name=repr(name)),
                    expected=", ".join(applicants) or msg("casetest.an_applicant"),
                )
            )
            claim["applicant"] = {}
        else:
            over = {} if isinstance(app, str) else {k: v for k, v in app.items() if k != "like"}
            claim["applicant"] = _merge(applicants[name], over)
        base.pop("applicant", None)
    out = _merge(base, {k: v for k, v in claim.items() if k != "items"})
    items = []
    for it in claim.get("items", []) or []:
        if not isinstance(it, Mapping):
            items.append(it)
            continue
        per_type = (defaults.get("items") or {}).get(it.get("type"), {})
        items.append(_merge(_merge(defaults.get("item") or {}, per_type), it))
    out["items"] = items
    result = _strip_absent(out)
    assert isinstance(result, dict)
    return result


def _not_cases(source: Source, path: str | Path) -> Problem:
    """The problem of a file `test` was given that holds no `cases:`; a policy given as a case file (`test POLICY
    CASES`, as `lint` and `coverage` take the policy first) is said so, with the command that runs the cases under
    it: "a case file needs `cases:`" named the policy's first line, which an officer could not act on."""
    doc = source.data
    if isinstance(doc, Mapping) and isinstance(doc.get("policy"), Mapping) and "rules" in doc:
        said = msg("casetest.is_a_policy", path=str(path))
        return source.problem((), said, expected=msg("casetest.is_a_policy_fix", path=str(path)), code="case.file")
    return source.problem((), msg("casetest.needs_cases"), code="case.file")


def load_case_file(path: str | Path) -> list[Case]:
    source = load_yaml_file(path)
    doc = source.data
    if not isinstance(doc, Mapping) or not isinstance(doc.get("cases"), list):
        raise CaseFileError([_not_cases(source, path)], msg("casetest.not_a_case_file"))
    problems: list[Problem] = []
    policy_path = None
    if isinstance(doc.get("policy"), str):
        policy_path = (Path(path).parent / doc["policy"]).resolve()
    cases = []
    for i, spec in enumerate(doc["cases"]):
        if len(problems) > MAX_CASE_FILE_PROBLEMS:  # (more than are named: the cases after it are not read)
            break
        p: tuple[str | int, ...] = ("cases", i)
        if (
            not isinstance(spec, Mapping)
            or ("claim" in spec) == ("round" in spec)
            or not isinstance(spec.get("expect"), Mapping)
            or not spec["expect"]
        ):
            # a case that expects nothing would always pass: it proves nothing
            misspelt = _unknown_case_keys(spec)  # (`expext:` for `expect:`: said as the key it is)
            problems.append(
                source.problem(
                    (*p, *misspelt[:1]),
                    msg("casetest.case_shape"),
                    expected=_case_keys_said(misspelt) if misspelt else None,
                    code="case.shape",
                )
            )
            continue
        unknown = _unknown_case_keys(spec)
        if unknown:
            problems.append(source.problem(p, msg("casetest.unknown_keys", keys=unknown), expected=_case_keys_said(unknown)))
        listed = spec.get("clauses")  # (one clause written without brackets is one clause: `clauses_of`)
        if (
            listed is not None
            and not isinstance(listed, str)
            and not (isinstance(listed, list) and all(isinstance(c, str) for c in listed))
        ):
            problems.append(
                source.problem(
                    p + ("clauses",), msg("casetest.clauses_list"), expected=msg("casetest.clauses_list_expected"), code="case.shape"
                )
            )
        if "round" in spec:
            cases.append(_round_case(path, i, spec, doc, source, problems, policy_path))
            continue
        _expected_top(spec["expect"], spec["claim"], p + ("expect",), source, problems)
        _expected_items((spec.get("expect") or {}).get("items"), p + ("expect", "items"), source, problems)
        if "total" in spec["expect"]:
            _check_amount(spec["expect"]["total"], p + ("expect", "total"), source, problems)
        claim = _build_claim(spec["claim"], doc, problems, source, p + ("claim",))
        earlier = []
        for j, e in enumerate(spec.get("earlier") or []):
            built = _build_claim(e, doc, problems, source, p + ("earlier", j))
            if not (isinstance(e, Mapping) and "claim_id" in e):
                built["claim_id"] = f"EARLIER-{j + 1}"  # distinct from the case's claim, so limits count it
            earlier.append(built)
        line, _ = source.where(p)
        name = str(spec.get("name", f"case {i + 1}"))
        cases.append(Case(str(path), i, name, line, spec, policy_path, claim, tuple(earlier), source=source))
    if problems:
        named = first_named(problems, MAX_CASE_FILE_PROBLEMS, lambda n: msg("casetest.more_problems", n=n), source.file)
        raise CaseFileError(named, msg("casetest.invalid_file", path=str(path)))
    return cases


#: problems of a case file named, in the order of its cases; past them one more says there are others, and the cases
#: after are not read (100,000 cases of `1`, a 0.2 MB file, were 100,000 problems: 12.8 s, 11 MB of message)
MAX_CASE_FILE_PROBLEMS = 100


CASE_KEYS = ("name", "clauses", "claim", "round", "earlier", "history", "expect", "note")


def _unknown_case_keys(spec: Any) -> list[str]:
    return sorted(str(k) for k in spec if k not in CASE_KEYS) if isinstance(spec, Mapping) else []


def _case_keys_said(unknown: list[str]) -> Msg:
    """What a case's keys may be, with the one an unknown key likely means (`expext` -> `expect`; `ｅｘｐｅｃｔ`, in a
    Chinese input method's full-width letters, -> `expect`, said as such: it was "a case needs claim: and expect:")."""
    folded = unicodedata.normalize("NFKC", unknown[0]) if len(unknown) == 1 else None
    if folded is not None and folded != unknown[0] and folded in CASE_KEYS:
        return msg("casetest.case_keys_full_width", key=unknown[0], close=folded)
    close = suggest(unknown[0], list(CASE_KEYS)) if len(unknown) == 1 else None
    return msg("casetest.case_keys_close", key=unknown[0], close=close) if close else msg("casetest.case_keys")


def _expected_top(expect: Mapping[str, Any], claim: Any, path: tuple[str | int, ...], source: Source, problems: list[Problem]) -> None:
    """A claim case expects `items`, `total` or `error`, and at least one of them something: `expect: {l1: {...}}`
    (an item's expectation one level too high) or `expect: {items: {}}` expected nothing and passed on any decision."""
    unknown = sorted(str(k) for k in set(expect) - {"items", "total", "error"})
    raw_items = claim.get("items") if isinstance(claim, Mapping) else None
    item_ids = {str(it.get("id")) for it in raw_items or () if isinstance(it, Mapping)} if isinstance(raw_items, list) else set()
    if unknown and set(unknown) <= item_ids:
        problems.append(source.problem(path + (unknown[0],), msg("casetest.expect_item_at_top", item=unknown[0]), code="case.shape"))
    elif unknown:
        problems.append(
            source.problem(path + (unknown[0],), msg("casetest.unknown_expectations", keys=unknown), expected="items, total, error")
        )
    elif not expect.get("items") and "total" not in expect and "error" not in expect:
        problems.append(source.problem(path, msg("casetest.expects_nothing"), expected="items, total, error", code="case.shape"))


def _expected_items(items: Any, path: tuple[str | int, ...], source: Source, problems: list[Problem]) -> None:
    """Each item's expectations: a mapping of item ids to mappings of known keys, none empty (`items: {l1: {}}`
    expected nothing of l1 but that it be decided, and passed on any decision; `items: [l1]` crashed the run)."""
    if items is not None and not isinstance(items, Mapping):
        problems.append(source.problem(path, msg("casetest.items_mapping"), expected="items: {l1: {status: granted}}", code="case.shape"))
        return
    for item_id, exp in (items or {}).items():
        if not isinstance(exp, Mapping) or not exp:
            problems.append(source.problem(path + (item_id,), msg("casetest.item_expects_nothing", item=str(item_id)), code="case.shape"))
            continue
        bad = set(exp or {}) - set(ITEM_KEYS)
        if bad:
            one = str(next(iter(bad))) if len(bad) == 1 else None
            expected: Msg | str
            if one is not None and unicodedata.normalize("NFKC", one) in ITEM_KEYS:  # (ａｍｏｕｎｔ: full-width letters)
                expected = msg("casetest.full_width_key", key=one, guess=unicodedata.normalize("NFKC", one), keys=", ".join(ITEM_KEYS))
            else:
                close = suggest(one, list(ITEM_KEYS)) if one is not None else None  # (amout: amount)
                expected = msg("casetest.did_you_mean", guess=close, keys=", ".join(ITEM_KEYS)) if close else ", ".join(ITEM_KEYS)
            problems.append(source.problem(path + (item_id,), msg("casetest.unknown_expectations", keys=sorted(bad)), expected=expected))
        for key in ("amount", "asked", "provisional"):
            if isinstance(exp, Mapping) and key in exp:
                _check_amount(exp[key], path + (item_id, key), source, problems)
        if isinstance(exp, dict) and "status" in exp:
            exp["status"] = _status(exp["status"], path + (item_id, "status"), source, problems)


def _status(written: Any, path: tuple[str | int, ...], source: Source, problems: list[Problem]) -> Any:
    """An expected status as its code: written as the code or as its word in either language (支持, as summary.xlsx
    says it); anything else a problem with the one meant (`grantd` was compared with every decision's, and failed)."""
    words = {lookup(f"status_short.{s}", lang): s for s in STATUSES for lang in languages()}
    code = written if written in STATUSES else words.get(written) if isinstance(written, str) else None
    if code is not None:
        return code
    close = suggest(str(written), [*STATUSES, *words])
    choices = [msg("casetest.status_choice", code=s, word=msg(f"status_short.{s}")) for s in STATUSES]
    hint = (
        msg("casetest.status_hint", guess=words.get(close, close), choices=choices)
        if close
        else msg("casetest.status_choices", choices=choices)
    )
    problems.append(source.problem(path, msg("casetest.unknown_status", status=repr(written)), expected=hint, code="case.status"))
    return written


def _round_case(
    path: str | Path,
    i: int,
    spec: Mapping[str, Any],
    doc: Mapping[str, Any],
    source: Source,
    problems: list[Problem],
    policy_path: Path | None,
) -> Case:
    """A `round:` case: its claims (defaults merged, each with its claim id), budget and expectations checked."""
    p: tuple[str | int, ...] = ("cases", i)
    rnd = spec["round"]
    claims: list[dict[str, Any]] = []
    budget = None
    if not isinstance(rnd, Mapping) or not isinstance(rnd.get("claims"), list) or not rnd["claims"]:
        problems.append(source.problem(p + ("round",), msg("casetest.round_needs_claims"), code="case.shape"))
    else:
        extra = set(rnd) - {"claims", "budget"}
        if extra:
            problems.append(source.problem(p + ("round",), msg("casetest.unknown_keys", keys=sorted(extra)), expected="claims, budget"))
        for j, raw in enumerate(rnd["claims"]):
            built = _build_claim(raw, doc, problems, source, p + ("round", "claims", j))
            if "claim_id" not in built:
                problems.append(source.problem(p + ("round", "claims", j), msg("casetest.round_claim_id"), code="case.shape"))
            claims.append(built)
        if "budget" in rnd:
            _check_amount(rnd["budget"], p + ("round", "budget"), source, problems)
            budget = _amount(rnd["budget"])
    for key in ("earlier", "history"):
        if key in spec:
            problems.append(source.problem(p + (key,), msg("casetest.round_takes_no", what=key), expected="round: {claims, budget}"))
    expect = spec["expect"]
    for claim_id, exp in (expect.get("claims") or {}).items():
        if not isinstance(exp, Mapping) or set(exp) - {"items", "total"}:
            problems.append(source.problem(p + ("expect", "claims", claim_id), msg("casetest.round_claim_expect"), code="case.shape"))
            continue
        _expected_items(exp.get("items"), p + ("expect", "claims", claim_id, "items"), source, problems)
        if "total" in exp:
            _check_amount(exp["total"], p + ("expect", "claims", claim_id, "total"), source, problems)
    if set(expect) - {"claims", "total"}:
        problems.append(source.problem(p + ("expect",), msg("casetest.round_expect"), code="case.shape"))
    elif not expect.get("claims") and "total" not in expect:
        problems.append(source.problem(p + ("expect",), msg("casetest.expects_nothing"), expected="claims, total", code="case.shape"))
    if "total" in expect:
        _check_amount(expect["total"], p + ("expect", "total"), source, problems)
    line, _ = source.where(p)
    name = str(spec.get("name", f"case {i + 1}"))
    return Case(str(path), i, name, line, spec, policy_path, {}, (), tuple(claims), budget, source=source)


def case_files(paths: Iterable[str | Path]) -> list[Path]:
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*.yaml") if f.is_file()))
        else:
            out.append(p)
    return out


def load_cases(paths: Iterable[str | Path]) -> list[Case]:
    cases: list[Case] = []
    for f in case_files(paths):
        cases.extend(load_case_file(f))
    return cases


# --- running -------------------------------------------------------------------

_POLICIES: dict[Path, CompiledPolicy] = {}


def _policy_for(case: Case, policy: CompiledPolicy | None) -> CompiledPolicy:
    if policy is not None:
        return policy
    if case.policy_path is None:
        raise CaseFileError([Problem(msg("casetest.no_policy"), file=case.file, code="case.policy")])
    _check_beside(case)
    cached = _POLICIES.get(case.policy_path)
    if cached is None:
        cached = _POLICIES[case.policy_path] = load_policy(case.policy_path)
    return cached


#: (policy, the folder above its case file) found kept together by `_check_beside`
_BESIDE: set[tuple[Path, Path]] = set()


def _check_beside(case: Case) -> None:
    """A case file's `policy:` names a policy file kept with it: under the folder above the case file's
    (`policies/tests/x.yaml` -> `../measures.yaml`, `../measures/x.yaml`), links followed. A case file may come
    from elsewhere (a draft by mail, a pull request a CI job tests): one naming any file made `test` read it and
    print what it found there. A policy kept elsewhere is given on the command line (`--policy`)."""
    assert case.policy_path is not None
    named, project = case.policy_path, Path(case.file).resolve().parent.parent
    if (named, project) in _BESIDE:  # (a file of cases names one policy: it is read once, not once a case)
        return
    if named.suffix.lower() in (".yaml", ".yml") and named.is_relative_to(project) and project != Path(project.anchor):
        # nor in a hidden folder (a case file saved to ~/Downloads names `../.config/...`), and the file a policy
        if not any(part.startswith(".") for part in named.relative_to(project).parts) and _looks_like_a_policy(named):
            _BESIDE.add((named, project))
            return
        said = msg("casetest.not_a_policy", path=str(named))
    else:
        said = msg("casetest.policy_elsewhere", path=str(named))
    at = case.source.problem(("policy",), said, code="case.policy") if case.source is not None else None
    raise CaseFileError([at or Problem(said, file=case.file, code="case.policy")])


def _looks_like_a_policy(path: Path) -> bool:
    """Whether the YAML file at `path` reads and has a policy's `policy:` and `rules:`; else nothing of it is said
    (a file a case file names is not echoed: `validate` says what is wrong with a policy)."""
    try:
        doc = load_yaml_file(path).data
    except EngineError:
        return False
    return isinstance(doc, Mapping) and isinstance(doc.get("policy"), Mapping) and isinstance(doc.get("rules"), list)


def decide_case(case: Case, policy: CompiledPolicy) -> Decision:
    """Decide the earlier claims in order, then the case's claim after all their grants."""
    history: list[Grant] = []
    with _placed_in(case, ("claim",)):
        claim = parse_claim(policy, case.claim, file=case.file)
    if "history" in case.spec:
        # held to what a claim's own history is held to (`checked_history`): a scope no running total holds, a grant
        # of the case's claim itself (a grant of "2021" for 2021 used up nothing, and the case passed on it)
        try:
            grants = checked_history(policy, case.spec["history"], claim.claim_id)
        except ClaimError as err:
            problems = err.problems
            raise CaseFileError(
                [Problem(p.message, p.path, case.file, case.line, None, p.expected, p.code) for p in problems], msg("casetest.bad_history")
            ) from None
        history.extend(grants)
    for j, earlier in enumerate(case.earlier):
        with _placed_in(case, ("earlier", j)):
            parsed = parse_claim(policy, earlier, file=f"{case.file} (earlier claim)")
            history.extend(evaluate_claim(policy, parsed, list(history), trace=False).grants)
    with _placed_in(case, ("claim",)):  # (a funding year out of the window is found deciding: it was said at <输入>)
        return evaluate_claim(policy, claim, history)


@contextlib.contextmanager
def _placed_in(case: Case, at: tuple[str | int, ...]) -> Iterator[None]:
    """A claim's problems placed on the case file's line that gave the value: the case's own claim, the applicant it
    names, or the file's defaults; a value none of them gives (a missing fact) at the nearest line of the case above
    it (the item). The claim is merged from those, so the parser alone knows no line."""
    try:
        yield
    except ClaimError as err:
        if case.source is None:
            raise
        err.problems[:] = [_placed(p, case, ("cases", case.index) + at) for p in err.problems]
        raise


def _placed(problem: Problem, case: Case, at: tuple[str | int, ...]) -> Problem:
    src = cast(Source, case.source)
    path = tuple(problem.path)
    given = _given(src.data, at, path)
    line, column = next((src.positions[g] for g in _misspelt_keys(problem, src.data, given) if g in src.positions), (None, None))
    if line is None:
        line, column = next((src.positions[g] for g in given if g in src.positions), src.where(at + path))
    # a problem of the claim as a whole is said of the case's `claim:` (or `earlier:` claim), not "(the whole file)"
    where = path or at[2:]
    return dataclasses.replace(problem, path=where, file=case.file, line=line, column=column)


def _given(doc: Any, at: tuple[str | int, ...], path: tuple[str | int, ...]) -> list[tuple[str | int, ...]]:
    """Where in the case file the claim's value at `path` may be written: the case's claim, the applicant it names, the
    file's defaults (for an item: its type's, then every item's), in the order the merge takes them."""
    raw = _lookup(doc, at)
    given: list[tuple[str | int, ...]] = [at + path]
    if path[:1] == ("items",) and len(path) > 1:
        item = _lookup(raw, path[:2])
        kind = str(item.get("type")) if isinstance(item, Mapping) else ""
        given += [("defaults", "items", kind) + path[2:], ("defaults", "item") + path[2:]]
    elif path[:1] == ("applicant",):
        app = raw.get("applicant", _lookup(doc, ("defaults", "claim", "applicant"))) if isinstance(raw, Mapping) else None
        named = app if isinstance(app, str) else app.get("like") if isinstance(app, Mapping) else None
        given += [("defaults", "claim") + path] + ([("applicants", named) + path[1:]] if isinstance(named, str) else [])
    else:
        given += [("defaults", "claim") + path]
    return given


def _misspelt_keys(problem: Problem, doc: Any, given: list[tuple[str | int, ...]]) -> Iterator[tuple[str | int, ...]]:
    """An unknown field's own key where the case file writes it (a typo in the defaults: not the case's `claim:` it
    was merged into), found among the fields the problem names."""
    fields = problem.message.params.get("fields") if isinstance(problem.message, Msg) else None
    if problem.code != "claim.additionalProperties" or not isinstance(fields, list):
        return
    for g in given:
        written = _lookup(doc, g)
        yield from (g + (k,) for k in (written if isinstance(written, Mapping) else ()) if repr(k) in fields)


def _lookup(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        if isinstance(data, Mapping):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


def _check_amount(value: Any, path: tuple[str | int, ...], source: Any, problems: list[Problem]) -> None:
    """An expected amount must be one the engine could pay: a number of yuan or 万 notation, on the cent."""
    try:
        amount = parse_amount(value)
    except QuantityError as exc:
        written = _amount_written_otherwise(value)
        if written is not None:  # (said "is not an amount", though 1０００ looks like one: the slip, and the digits)
            how, fix = written
            said = msg("casetest.amount_written", value=repr(value), how=how)
            problems.append(source.problem(path, said, expected=msg("casetest.amount_write", fix=fix), code="case.amount"))
            return
        mixed = mixed_readings(value)
        if mixed is not None:  # (1万2: two readings, neither offered as the one meant)
            said = msg("casetest.amount_mixed_unclear", value=repr(value), said=str(mixed[1]), added=str(mixed[0]))
            problems.append(source.problem(path, said, expected=msg("casetest.amount_forms"), code="case.amount"))
            return
        problems.append(
            source.problem(
                path,
                msg("casetest.amount_bad", value=repr(value), error=exc.args[0] if exc.args else str(exc)),
                expected=msg("casetest.amount_forms"),
                code="case.amount",
            )
        )
        return
    if amount != amount.quantize(Decimal("0.01")):
        problems.append(
            source.problem(path, msg("casetest.amount_cent", value=repr(value)), expected=msg("casetest.two_decimals"), code="case.amount")
        )


#: an amount as it may be written by slip: digits (with thousands separators) and a unit. 千 (a thousand) is read in
#: no amount the engine takes, in a policy, a claim or a case (quantities.parse_amount: yuan, 万, 万元), and w is 万
#: typed without switching the input method
_WRITTEN_AMOUNT = re.compile(r"([0-9][0-9,]*(?:\.[0-9]+)?)\s*(千万元|千万|千元|千|万元|万|元|w|W)?")
_GROUPED = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")
_THOUSANDS = {"千": Decimal(1000), "千元": Decimal(1000), "千万": Decimal(10_000_000), "千万元": Decimal(10_000_000)}


def _amount_written_otherwise(value: Any) -> tuple[list[Msg], str] | None:
    """(how it is written, the same amount as parse_amount reads it) for an expected amount written with full-width
    characters (１０００, ３５万, 100，000.00: NFKC makes them ASCII), thousands separators, w for 万, or 千; None for
    anything else. Nothing is read from it: the case file is refused with the digits to write, as a claim's amount
    written so is (`quantities.amount_slip`)."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    how: list[Msg] = []
    text = unicodedata.normalize("NFKC", value).strip()
    if text != value.strip():
        how.append(msg("casetest.how.full_width"))
    mixed = mixed_readings(text)
    if mixed is not None:  # 1万5千: the digits; 1万2 (12000 as said, 10002 as added up) none (`_check_amount`)
        return ([*how, msg("casetest.how.mixed")], str(mixed[0])) if mixed[0] == mixed[1] else None
    written = _WRITTEN_AMOUNT.fullmatch(text)
    if written is None:
        return None
    number, unit = written.group(1), written.group(2) or ""
    if "," in number:
        if not _GROUPED.fullmatch(number):
            return None
        number = number.replace(",", "")
        how.append(msg("casetest.how.grouped"))
    if unit in ("w", "W"):
        unit = "万"
        how.append(msg("casetest.how.w"))
    if unit in _THOUSANDS:
        how.append(msg("casetest.how.thousand", unit=unit))
        fix = f"{Decimal(number) * _THOUSANDS[unit]:f}"
        number, unit = (fix.rstrip("0").rstrip(".") if "." in fix else fix), ""
    fix = number + unit
    try:
        amount = parse_amount(fix)
    except QuantityError:
        return None
    return (how, fix) if how and amount == amount.quantize(Decimal("0.01")) else None


def _amount(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return parse_amount(value)
    except QuantityError:
        return None


def decide_round(case: Case, policy: CompiledPolicy) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A round case's claims decided as `batch` decides a round (engine.records.batch.run_batch: selections
    ranked, then the budget's pro-rata scaling), with no ledger: (decisions as decisions.jsonl holds them,
    error records)."""
    if case.budget is not None:  # the case's budget stands for the policy's round budget
        rounding = policy.round_budget_rounding or BudgetRounding(policy.quantum)
        policy = dataclasses.replace(policy, round_budget=case.budget, round_budget_rounding=rounding)
    return decide_in_memory(policy, case.round)


def _run_round(case: Case, policy: CompiledPolicy, result: CaseResult) -> CaseResult:
    decisions, errors = decide_round(case, policy)
    result.round_decisions = decisions
    for e in errors:
        result.mismatches.append(
            msg(
                "casetest.round_error",
                claim=str(e.get("claim_id")),
                error=str(e.get("error")),
                problems="; ".join(str(p.get("message")) for p in e["problems"]),
            )
        )
    by_claim = {d["claim_id"]: d for d in decisions}
    for claim_id, exp in (case.expect.get("claims") or {}).items():
        d = by_claim.get(str(claim_id))
        if d is None:
            result.mismatches.append(msg("casetest.round_no_decision", claim=str(claim_id), claims=list(by_claim)))
            continue
        items = {i["item"]: i for i in d["items"]}
        for item_id, want in (exp.get("items") or {}).items():
            got = items.get(str(item_id))
            if got is None:
                result.mismatches.append(msg("casetest.round_item_missing", claim=str(claim_id), item=str(item_id), items=list(items)))
                continue
            before = len(result.mismatches)
            _compare_item(str(item_id), want or {}, got, result)
            result.mismatches[before:] = [msg("casetest.in_claim", claim=str(claim_id), mismatch=m) for m in result.mismatches[before:]]
        if "total" in exp and _amount(exp["total"]) != Decimal(d["total"]):
            result.mismatches.append(
                msg("casetest.round_claim_total", claim=str(claim_id), want=_show(exp["total"]), got=_money(d["total"]))
            )
    if "total" in case.expect:
        total = sum((Decimal(d["total"]) for d in decisions), Decimal(0))
        if _amount(case.expect["total"]) != total:
            result.mismatches.append(msg("casetest.round_total", want=_show(case.expect["total"]), got=said_money(total)))
    return result


def clauses_of(case: Case) -> list[str]:
    """The clauses a case lists (`clauses:`): one written without brackets is one clause (it was read letter by
    letter, a mismatch for each character of 第N条第（一）项)."""
    listed = case.spec.get("clauses")
    return [listed] if isinstance(listed, str) else [str(c) for c in listed or ()]


def run_case(case: Case, policy: CompiledPolicy | None = None) -> CaseResult:
    result = CaseResult(case)
    try:
        result.policy = pol = _policy_for(case, policy)
    except EngineError as err:
        result.error = err
        result.mismatches.append(msg("casetest.cannot_load", error=err))
        return result
    unknown = [c for c in clauses_of(case) if c not in pol.clauses]
    for cite in unknown:  # (a case's clauses were never looked at: 第N条第(一)项 passed as if it named one)
        close = suggest(str(cite), list(pol.clauses))
        result.mismatches.append(
            msg("casetest.unknown_clause_close", cite=str(cite), close=close) if close else msg("casetest.unknown_clause", cite=str(cite))
        )
    result.mismatches.extend(_unknown_reasons(case, pol))
    if case.round:
        return _run_round(case, pol, result)
    expect = case.expect
    try:
        decision = decide_case(case, pol)
    except EngineError as err:
        result.error = err
        codes = [p.code for p in err.problems]
        want = expect.get("error")
        if want is None:
            # (each problem's own lines, its 应为 line too, stand under it: the 应为 line stood left of its problem)
            said = "\n      ".join(str(p).replace("\n", "\n      ") for p in err.problems)
            result.mismatches.append(msg("casetest.got_error", problems=said))
        elif want not in codes:
            result.mismatches.append(msg("casetest.error_code", want=str(want), got=codes))
        return result
    result.decision = decision
    if "error" in expect:
        result.mismatches.append(msg("casetest.error_not_raised", want=str(expect["error"]), total=said_money(decision.total)))
        return result
    out = decision.to_dict()
    items = {d["item"]: d for d in out["items"]}
    for item_id, exp in (expect.get("items") or {}).items():
        got = items.get(str(item_id))
        if got is None:
            result.mismatches.append(msg("casetest.item_missing", item=str(item_id), items=list(items)))
            continue
        _compare_item(str(item_id), exp or {}, got, result)
    if "total" in expect:
        want_total = _amount(expect["total"])
        if want_total is None or want_total != decision.total:
            result.mismatches.append(msg("casetest.total", want=_show(expect["total"]), got=said_money(decision.total)))
    return result


class _ReasonIds(PolicyVisitor):
    """Every id a decision's reason may name (`reasons[].check`): checks, conditions, caps, limits, selections, and a
    rule's own grounds (`<rule>#who`, `#table`, `#subject`, `#zero`: `evaluator.RULE_GROUNDS`)."""

    def __init__(self) -> None:
        self.ids: set[str] = set()

    def visit_check(self, test: Test, at: Site) -> None:
        self.ids.add(test.id)

    def visit_document_check(self, check: DocumentCheck, at: Site) -> None:
        self.ids.add(check.id)

    def enter_rule(self, rule: Rule, at: Site) -> None:
        self.ids.update([rule.id, *(f"{rule.id}#{ground}" for ground in RULE_GROUNDS)])

    def visit_condition(self, test: Test, at: Site) -> None:
        self.ids.add(test.id)

    def visit_cap(self, cap: Cap, at: Site) -> None:
        self.ids.add(cap.id)

    def visit_limit(self, limit: Limit, at: Site) -> None:
        self.ids.add(limit.id)

    def visit_selection(self, selection: Selection, at: Site) -> None:
        self.ids.add(selection.id)


def _unknown_reasons(case: Case, policy: CompiledPolicy) -> list[Msg]:
    """A mismatch for each `reason:` / `reasons:` expected that names no id of the policy (a slip in the id, or a
    rule's id where its limit's is meant): it failed only as "理由应为 X，实为 Y", never saying that X names nothing."""
    expect = case.expect
    claims = expect.get("claims") if case.round else {None: expect}
    wanted: list[tuple[str, str]] = []
    for exp in claims.values() if isinstance(claims, Mapping) else ():
        items = exp.get("items") if isinstance(exp, Mapping) else None
        for item_id, exp_item in items.items() if isinstance(items, Mapping) else ():
            if isinstance(exp_item, Mapping):
                listed = exp_item.get("reasons")
                named = ([exp_item["reason"]] if "reason" in exp_item else []) + (listed if isinstance(listed, list) else [])
                wanted += [(str(item_id), str(r)) for r in named]
    if not wanted:
        return []
    visitor = _ReasonIds()
    walk(policy, visitor)
    out = []
    for item_id, reason in dict.fromkeys(wanted):
        if reason not in visitor.ids:
            close = suggest(reason, sorted(visitor.ids))
            key = "casetest.unknown_reason_close" if close else "casetest.unknown_reason"
            out.append(msg(key, item=item_id, reason=reason, close=close) if close else msg(key, item=item_id, reason=reason))
    return out


def _show(value: Any) -> Msg | str:
    """An expected amount as an officer reads it (`50,000.00 元`); what is no amount, as written."""
    d = _amount(value)
    return said_money(d) if d is not None else repr(value)


def _compare_item(item_id: str, exp: Mapping[str, Any], got: dict[str, Any], result: CaseResult) -> None:
    before = len(result.mismatches)
    reasons = [r["check"] for r in got["reasons"]]
    if "status" in exp and exp["status"] != got["status"]:  # (each in the reader's words, as summary.xlsx says it: 支持)
        wanted, made = (msg(f"status_short.{s}") if s in STATUSES else s for s in (exp["status"], got["status"]))
        result.mismatches.append(msg("casetest.status", item=item_id, want=wanted, got=made))
    for key, field_name in (("amount", "amount"), ("asked", "asked"), ("provisional", "provisional_amount")):
        if key in exp:
            want = _amount(exp[key])
            have = got.get(field_name)
            if want is None or have is None or Decimal(have) != want:
                result.mismatches.append(
                    msg("casetest.amount", item=item_id, what=msg(f"casetest.what.{key}"), want=_show(exp[key]), got=_money(have))
                )
    if "reason" in exp and (not reasons or reasons[0] != exp["reason"]):
        result.mismatches.append(
            msg("casetest.reason", item=item_id, want=exp["reason"], got=reasons[0] if reasons else msg("casetest.none"))
        )
    for key, have_list in (
        ("reasons", reasons),
        ("missing_documents", got.get("missing_documents", [])),
        ("missing_facts", got.get("missing_facts", [])),
    ):
        if key in exp:
            want_list = list(exp[key] or [])
            ok = set(want_list) <= set(have_list) if key == "reasons" else sorted(want_list) == sorted(have_list)
            if not ok:
                result.mismatches.append(
                    msg("casetest.list", item=item_id, what=msg(f"casetest.what.{key}"), want=str(want_list), got=str(have_list))
                )
    if "cites" in exp:
        missing = [c for c in exp["cites"] if c not in got["cites"]]
        if missing:
            result.mismatches.append(msg("casetest.cites", item=item_id, want=str(missing), got=str(got["cites"])))
    if len(result.mismatches) > before:
        said = where_they_part(exp, got, _code_words(result.policy, got.get("type")))
        result.diagnosis.extend(msg("casetest.diagnosis", item=item_id, line=line) for line in said)


def _code_words(policy: CompiledPolicy | None, item_type: str | None = None) -> dict[str, Mapping[str, Any]]:
    """The policy's words for the codes a trace step lists: applicant kinds, roles and documents; and its facts, as
    the workbook's columns head them (`column_headings`), an item fact by `item_type`'s own words where it is given
    (`item.patents` of an annuity is 缴费件数, though the column, shared with the grants, is headed 授权件数)."""
    if policy is None:
        return {}
    words = {"kinds": policy.applicant_kinds, "roles": policy.applicant_roles, "documents": policy.documents}
    facts: Mapping[str, Any] = column_headings(policy)
    own = policy.item_facts.get(item_type) if item_type is not None else None
    if own:
        facts = {**facts, **{f"item.{name}": spec.label for name, spec in own.items()}}
    return {**words, "facts": facts}


def _fact(name: Any, words: Mapping[str, Mapping[str, Any]] | None) -> Any:
    """A fact of a trace step (`item.official_fees_paid`) by the policy's words and its code, as every other message
    an officer reads names it (a problem's field, the workbook's column, `field_heading`):
    获得专利权所缴纳的官方规定费用（item.official_fees_paid）. What is not one fact (an expression) stays as written."""
    facts = (words or {}).get("facts")
    if not facts or not isinstance(name, str):
        return name
    zh, en = (field_heading(name, facts, lang) for lang in ("zh", "en"))
    return name if zh == name else Text(zh, en)


def _coded(value: Any, words: Mapping[str, Any] | None) -> Any:
    """Codes of a trace step by the policy's words with the code a case file writes (企业（enterprise）), else as `_said`."""
    if not words:
        return _said(value)
    if isinstance(value, (list, tuple)):
        return [_coded(v, words) for v in value] if value else msg("casetest.step.none")
    word = words.get(value) if isinstance(value, str) else None
    if word is None:
        return _said(value)
    said = {lang: str(getattr(word, lang, None) or value) for lang in ("zh", "en")}  # (a word that is its code: once)
    zh, en = (
        said[lang] if said[lang] == value else tr(msg("casetest.step.coded", word=said[lang], code=value), lang) for lang in ("zh", "en")
    )
    return Text(zh, en)


def _said(value: Any) -> Any:
    """A value of the trace in the reader's words: yes or no, not given, a list by its entries (none: 无), a text as
    it is (not Python's `True`, `None`, `['enterprise']` or quoted `'2021-06-01'`)."""
    if isinstance(value, bool):
        return msg("meta.yes_word" if value else "meta.no_word")
    if value is None:
        return msg("fact_absent")
    if isinstance(value, (list, tuple)):
        return [_said(v) for v in value] if value else msg("casetest.step.none")
    return str(value)


def _text(words: Mapping[str, Any]) -> Text:
    """A `{zh, en}` of the trace as a text said in the reader's language."""
    return Text(str(words.get("zh")), str(words.get("en")))


def _per_unit_step(step: dict[str, Any], words: Mapping[str, Mapping[str, Any]]) -> Msg:
    """A per-unit amount step in words: the sum per unit (and what chose or computed it: a table's key, a dated
    parameter's label), times the count, with the count's fact and its ceiling when they differ from what was
    multiplied. It was said as its form's code, "金额（<clause>）：per_unit → 20,000.00 元"."""
    unit, of, by = step.get("unit"), step.get("per_unit_of"), step.get("per_unit_by")
    count: Mapping[str, Any] = step["count"] if isinstance(step.get("count"), Mapping) else {}
    said: dict[str, Any] = {
        "cites": step.get("cites", ""),
        "unit": _text(unit) if isinstance(unit, Mapping) else msg("casetest.step.per_item"),
        "per_unit": _money(step["per_unit"]),
        "of": "",
        "counted": step.get("counted"),
        "value": _money(step["value"]),
    }
    if isinstance(of, Mapping) and isinstance(of.get("label"), Mapping):
        said["of"] = msg("casetest.step.per_unit_of", label=_text(of["label"]))
    elif isinstance(by, Mapping) and isinstance(by.get("label"), Mapping):
        said["of"] = msg("casetest.step.per_unit_by", label=_text(by["label"]), value=_said(by.get("value")))
    expression, given = str(count.get("expression", "")), count.get("value")
    if expression == str(given):  # (a count written as the number itself, `count: "1"`)
        return msg("casetest.step.amount_per_unit", **said)
    said.update(count=_fact(expression, words), given=given)
    if step.get("max_count") is not None and given != step.get("counted"):
        return msg("casetest.step.amount_per_unit_capped", **said, most=step["max_count"])
    return msg("casetest.step.amount_per_unit_count", **said)


def _parameter_step(step: dict[str, Any]) -> Msg:
    """A dated parameter's look-up in words: its label and name, the day asked, the value and the day it is from."""
    label = step.get("label")
    value = _money(step["value"]) if step.get("type") == "money" else str(step.get("shown") or step["value"])
    return msg(
        "casetest.step.parameter",
        label=_text(label) if isinstance(label, Mapping) else step["parameter"],
        name=step["parameter"],
        date=str(step["date"]),
        value=value,
        since=str(step["in_force_from"]),
    )


def _describe_step(step: dict[str, Any], words: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    """One trace step in words (identifiers and numbers as the trace has them; applicant kinds, roles and documents
    also by the policy's `words` for them)."""
    words = words or {}
    kind = step["step"]
    cites = step.get("cites", "")
    if kind == "amount":
        if step.get("form") == "rate":
            base = step["base"]
            rate = f"{(Decimal(str(step['rate'])) * 100).normalize():f}%"  # (0.5: 50%, as the clause writes it)
            return msg(
                "casetest.step.amount_rate",
                cites=cites,
                rate=rate,
                base=_fact(base["expression"], words),
                of=_money(base["value"]),
                value=_money(step["value"]),
            )
        if step.get("form") == "table":
            return msg(
                "casetest.step.amount_table",
                cites=cites,
                by=_fact(step["by"]["expression"], words),
                entry=repr(step["by"]["value"]),
                value=_money(step["value"]),
            )
        if step.get("form") == "per_unit":
            return _per_unit_step(step, words)
        return msg("casetest.step.amount", cites=cites, form=str(step.get("form")), value=_money(step["value"]))
    if kind == "parameter":
        return _parameter_step(step)
    if kind == "cap":
        return msg(
            "casetest.step.cap",
            cap=step["cap"],
            cites=cites,
            ceiling=_money(step["ceiling"]),
            used=_money(step["used_before"]),
            asked=_money(step["asked"]),
            granted=_money(step["granted"]),
        )
    if kind == "limit":
        result = msg("casetest.step.ok" if step["result"] else "casetest.step.refused")
        unit = step.get("unit")  # (a limit counting years says 年, as its explanation does)
        return msg(
            "casetest.step.limit",
            limit=step["limit"],
            cites=cites,
            used=step["used_before"],
            times=step["times"],
            unit=Text(str(unit.get("zh")), str(unit.get("en"))) if isinstance(unit, Mapping) else msg("casetest.step.times"),
            counts=step["counts"],
            result=result,
        )
    if kind == "check":
        facts = [msg("casetest.step.fact", name=_fact(k, words), value=_said(v)) for k, v in step["facts"].items()]
        res = {True: msg("casetest.step.true"), False: msg("casetest.step.false")}.get(step["result"]) or msg(
            "casetest.step.unknown", fact=_fact(str(step.get("missing_fact")), words)
        )
        return msg("casetest.step.check", check=step["check"], cites=cites, test=step["test"], facts=facts, result=res)
    if kind == "who":
        return msg(
            "casetest.step.who",
            cites=cites,
            kinds=_coded(step["kinds"], words.get("kinds")),
            roles=_coded(step["roles"], words.get("roles")),
            kind=_coded(step["applicant_kind"], words.get("kinds")),
            has=_coded(step["applicant_roles"], words.get("roles")),
            result=msg("casetest.step.ok" if step["result"] else "casetest.step.refused"),
        )
    if kind == "documents":
        return msg(
            "casetest.step.documents",
            check=step["check"],
            cites=cites,
            required=_coded(step["required"], words.get("documents")),
            missing=_coded(step["missing"], words.get("documents")),
        )
    return f"{kind}: {step}"


def _money(value: Any) -> Any:
    """An amount of a decision's trace as an officer reads it (`50,000.00 元`); anything else as it is."""
    try:
        return said_money(Decimal(str(value)))
    except ArithmeticError:
        return value


def where_they_part(exp: Mapping[str, Any], got: dict[str, Any], words: Mapping[str, Mapping[str, Any]] | None = None) -> list[str]:
    """The trace step(s) where the decision leaves the officer's expectation (`words`: `_code_words`)."""
    steps = got.get("steps", [])

    lines: list[str] = []
    want_status = exp.get("status")
    if want_status is not None and want_status != got["status"]:
        if got["status"] == "refused":
            for s in steps:
                if s.get("result") is False or (s["step"] == "cap" and Decimal(s["granted"]) == 0 and Decimal(s["asked"]) > 0):
                    lines.append(msg("casetest.refused_at", step=_describe_step(s, words)))
        else:
            if got["status"] == "incomplete":  # (before what a refusal expected: the missing documents are why)
                facts = [_fact(f, words) for f in got.get("missing_facts", [])] or msg("casetest.step.none")
                documents = _coded(got.get("missing_documents", []), (words or {}).get("documents"))
                lines.append(msg("casetest.incomplete", documents=documents, facts=facts))
            if want_status == "refused":
                lines.append(msg("casetest.none_refused"))
                lines.extend(
                    msg("casetest.indent", line=_describe_step(s, words)) for s in steps if s["step"] in ("check", "limit", "cap", "who")
                )
            elif want_status == "incomplete":
                lines.extend(_describe_step(s, words) for s in steps if s["step"] == "documents")
    want = _amount(exp.get("amount")) if "amount" in exp else None
    if want is not None and Decimal(got["amount"]) != want and got["status"] in ("granted", "reduced"):
        running: Decimal | None = None
        parted = None
        for s in steps:
            after = None
            if s["step"] == "amount":
                after = Decimal(s["value"])
            elif s["step"] == "cap":
                after = Decimal(s["granted"])
            if after is None:
                continue
            if running == want and after != want:
                parted = s
                break
            running = after
        if parted is not None:
            lines.append(msg("casetest.part_stand", step=_describe_step(parted, words), want=said_money(want)))
        else:
            first = next((s for s in steps if s["step"] == "amount"), None)
            caps = [s for s in steps if s["step"] == "cap"]
            asked = _amount(exp.get("asked")) if "asked" in exp else None
            cut = exp.get("status") == "reduced" or (first is not None and asked is not None and asked == Decimal(first["value"]))
            if first is not None and caps and cut and Decimal(first["value"]) >= want:
                # a cut expected, of an amount at or above what is expected: the amount is right, and the caps are
                # where they part (a cap raised, so that the cut did not happen, was blamed on the amount)
                lines.append(msg("casetest.part", step=_describe_step(caps[0], words), want=said_money(want)))
                lines.extend(msg("casetest.then", step=_describe_step(s, words)) for s in caps[1:])
            elif first is not None:
                lines.append(msg("casetest.part", step=_describe_step(first, words), want=said_money(want)))
                # (the dated parameters the amount looked up: which value, in force from which day)
                lines.extend(msg("casetest.with_step", step=_describe_step(s, words)) for s in steps if s["step"] == "parameter")
                lines.extend(msg("casetest.then", step=_describe_step(s, words)) for s in caps if s["bites"])
    return lines


def format_result(result: CaseResult, verbose: bool = False) -> str:
    c = result.case
    where = f"{c.file}:{c.line}" if c.line else c.file
    if result.passed:
        return tr(msg("casetest.pass", where=where, name=c.name))
    lines = [tr(msg("casetest.fail", where=where, name=c.name))]
    lines += ["  " + tr(m) for m in result.mismatches]
    lines += ["  " + tr(d) for d in result.diagnosis]
    return "\n".join(lines)


def format_results(results: Iterable[CaseResult], verbose: bool = False) -> Iterator[str]:
    """Each failed result (every one, `verbose`) as `format_result` says it; a policy that cannot be loaded, or a
    claim that cannot be decided for the same problem at the same place (a slip in `defaults:` or `applicants:`),
    is said in full once, its later cases "as said above": a case file whose `policy:` or whose default
    submission date was wrong repeated the same problem under each of its cases."""
    said: set[str] = set()
    for r in results:
        if r.passed and not verbose:
            continue
        once = r.error is not None and len(r.mismatches) == 1  # the one problem of the case: its policy's, or its claim's
        if once and (text := tr(r.mismatches[0])) in said:
            again = "casetest.cannot_load_again" if r.policy is None else "casetest.got_error_again"
            r = dataclasses.replace(r, mismatches=[msg(again)])
        elif once:
            said.add(text)
        yield format_result(r, verbose)


def run_cases(cases: Iterable[Case], policy: CompiledPolicy | None = None) -> list[CaseResult]:
    return [run_case(c, policy) for c in cases]
