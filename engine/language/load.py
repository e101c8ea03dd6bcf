"""The load pipeline in one call: read -> parse (with positions) -> schema -> semantic checks -> compile.

The deciding layer's `engine.deciding.ready.load_policy` (the facade's `engine.load_policy`) runs it and
then compiles the rules to Python functions; a policy from here gets them on its first evaluation.
"""

from __future__ import annotations

from pathlib import Path

from engine.core.errors import PolicyError, Problem, first_named
from engine.core.i18n import msg
from engine.language import kinds
from engine.language.compiler import compile_policy
from engine.language.model import CompiledPolicy
from engine.language.source import MAX_POLICY_NODES, Source, load_yaml_file, parse_yaml
from engine.language.validate import read_schema_problems


def check_source(source: Source) -> tuple[CompiledPolicy | None, list[Problem]]:
    """All problems of a parsed policy document, and the compiled policy if there are none."""
    kind = kinds.kind_of(source.data)
    if kind is not None and kind != "policy":  # a case file, a claim, ... given as the policy: say which, not its keys
        problem = source.problem(
            (),
            msg("loading.not_this_policy", kind=kinds.named(kind), fix=kinds.read_by(kind)),
            expected=msg("loading.not_this_policy_expected"),
            code="not_a_policy",
        )
        return None, [problem]
    if not isinstance(source.data, dict):
        return None, [
            source.problem(
                (),
                msg("loading.not_a_mapping"),
                expected=msg("loading.not_a_mapping_expected"),
                code="schema.type",
            )
        ]
    problems, beyond = read_schema_problems(source)
    if problems:
        return None, _named(source, problems, beyond)
    policy, problems = compile_policy(source)
    return policy, _named(source, _once(problems))


#: problems of a policy named, in the order its lines come; past them one more says there are others. An officer
#: mends a hundred before reading again; saying thousands cost more than finding them (12,000 rules of one misspelt
#: field: 7 MB of message)
MAX_POLICY_PROBLEMS = 100


def _named(source: Source, problems: list[Problem], beyond: bool = False) -> list[Problem]:
    return first_named(problems, MAX_POLICY_PROBLEMS, lambda n: msg("loading.more_problems", n=n), source.file, beyond=beyond)


def _once(problems: list[Problem]) -> list[Problem]:
    """Each problem once: a cap, check or list written once and shared (an alias, `shared_caps`) is compiled with each
    rule that uses it, and said its error once per rule (an officer's cap shared by 4 rules printed each error 4 times)."""
    seen: set[tuple[object, ...]] = set()
    out = []
    for p in problems:
        key = (p.file, p.line, p.column, p.path, str(p.message), str(p.expected))
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def compile_policy_file(path: str | Path) -> CompiledPolicy:
    """Read, validate and compile a policy file. Raises PolicyError listing every problem found."""
    return _finish(load_yaml_file(path, max_nodes=MAX_POLICY_NODES))


def compile_policy_text(text: str, file: str = "<string>") -> CompiledPolicy:
    """Like compile_policy_file, for YAML text (relative paths resolve against the current directory)."""
    return _finish(parse_yaml(text, file, max_nodes=MAX_POLICY_NODES))


def _finish(source: Source) -> CompiledPolicy:
    policy, problems = check_source(source)
    if problems or policy is None:
        raise PolicyError(problems, msg("loading.summary.not_valid", file=source.file))
    return policy
