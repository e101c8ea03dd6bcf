"""How a service is configured: the policy folder, the ledger, who may do what, and the bounds on a request."""

from __future__ import annotations

import hmac
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from engine.core.errors import EngineError, PolicyError, Problem, os_reason
from engine.core.i18n import msg
from engine.language.source import parse_yaml

#: The environment variable a worker process reads its configuration from (uvicorn starts workers by import string).
CONFIG_ENV = "POLICY_ENGINE_SERVICE_CONFIG"

OFFICER = "officer"
READER = "reader"
ROLES = (OFFICER, READER)


@dataclass(frozen=True)
class Limits:
    """Bounds on one request (defaults in docs/service.md)."""

    max_body_bytes: int = 2_000_000  # a claim, a decision to explain, a ledger write
    max_round_bytes: int = 50_000_000  # a round (POST /rounds)
    max_items: int = 200  # items per claim (the claim schema's own bound is 1000)
    timeout_seconds: float = 10.0  # evaluate, explain, ledger writes
    body_seconds: float = 30.0  # receiving a request body
    max_jobs: int = 4  # rounds running at once on this host (`Jobs.running_here`), whichever worker started them
    inline_items: int = 20  # POST /evaluate of at most this many items is decided on the event loop (no thread hop)
    job_ttl_seconds: float = 86_400.0  # a finished round job and its files are removed after this long
    jobs_kept: int = 100  # at most this many finished round jobs are kept (the oldest removed first)
    jobs_bytes: int = 1_000_000_000  # and at most this many bytes of their files


@dataclass(frozen=True)
class Principal:
    """Who a bearer token stands for."""

    name: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Config:
    policies: str
    ledger_url: str | None = None
    token_file: str | None = None
    reads: str = "open"  # "open" | "token": reads and evaluations need any valid token
    workers: int = 1
    jobs_dir: str | None = None  # where rounds write their files (default: a folder in the temp dir)
    lang: str = "zh"  # the language of answers when the request names none (?lang=, Accept-Language)
    metrics_dir: str | None = None  # where the workers' metrics meet (several workers: /metrics sums them)
    limits: Limits = field(default_factory=Limits)

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls, text: str | None = None) -> Config:
        data: dict[str, Any] = json.loads(text if text is not None else os.environ[CONFIG_ENV])
        limits = Limits(**data.pop("limits", {}))
        return cls(**data, limits=limits)


class Tokens:
    """Bearer tokens from a token file (YAML or JSON):

        tokens:
          <token>: {name: 王科员, roles: [officer]}
          <token>: {name: finance-system, roles: [reader]}

    A token is compared in constant time with every known one.
    """

    def __init__(self, entries: dict[str, Principal]) -> None:
        self._entries = [(token.encode("utf-8"), who) for token, who in entries.items()]

    def __len__(self) -> int:
        return len(self._entries)

    def who(self, token: str) -> Principal | None:
        given = token.encode("utf-8")
        found = None
        for known, who in self._entries:
            if hmac.compare_digest(known, given):
                found = who
        return found

    @classmethod
    def load(cls, path: str | None) -> Tokens:
        if path is None:
            return cls({})
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            reason = os_reason(err) if isinstance(err, OSError) else msg("core.json.not_utf8")
            problem = Problem(msg("service.tokens.unreadable", error=reason), file=path, code="service.tokens")
            raise PolicyError([problem], msg("service.tokens.bad_file")) from None
        try:  # YAML slips (a tab, an unclosed quote) said as a policy's are, with their line and fix
            data = parse_yaml(text, path).data
        except EngineError as err:
            raise PolicyError(err.problems, msg("service.tokens.bad_file")) from None
        problems: list[Problem] = []
        entries: dict[str, Principal] = {}
        tokens = data.get("tokens") if isinstance(data, dict) else None
        if not isinstance(tokens, dict):
            problems.append(
                Problem(msg("service.tokens.no_mapping"), file=path, expected="tokens: {TOKEN: {name: NAME, roles: [officer]}}")
            )
            tokens = {}
        for token, spec in tokens.items():
            where = ("tokens", str(token)[:4] + "…")
            name = spec.get("name") if isinstance(spec, dict) else None
            roles = spec.get("roles") if isinstance(spec, dict) else None
            if not isinstance(token, str) or len(token) < 16:
                problems.append(Problem(msg("service.tokens.too_short"), where, path, code="service.tokens"))
            elif not token.isascii() or not token.isprintable() or " " in token:  # (an HTTP header carries neither)
                problems.append(Problem(msg("service.tokens.not_ascii"), where, path, code="service.tokens"))
            elif not isinstance(name, str) or not name:
                problems.append(Problem(msg("service.tokens.no_name"), where, path, code="service.tokens"))
            elif not isinstance(roles, list) or not roles or any(r not in ROLES for r in roles):
                problems.append(Problem(msg("service.tokens.roles", roles=", ".join(ROLES)), where, path, code="service.tokens"))
            else:
                entries[token] = Principal(name, tuple(roles))
        if problems:
            raise PolicyError(problems, msg("service.tokens.bad_file"))
        return cls(entries)
