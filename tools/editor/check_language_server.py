#!/usr/bin/env python3
"""Ask a real YAML language server what an officer's editor shows in a policy file.

Starts `yaml-language-server --stdio` (installed by `npm ci` in this folder),
speaks the Language Server Protocol to it over stdin/stdout, opens
policies/pinggu_2020.yaml (the server finds `schemas/policy.schema.json` from
the file's first line, `# yaml-language-server: $schema=../schemas/...`,
exactly as VS Code's YAML extension does; no schema is configured here), and
prints what comes back:

* the diagnostics of the unchanged file (expected: none);
* hover on a few keys (`rate`, `caps`, `cites`, `max`, `times`, `mode`);
* completion on the empty line of a new rule (the rule's keys, each with
  its description), inside an `amount:` mapping, and for the value of
  `rounding.mode` (the enum);
* the diagnostics after two typing mistakes (`capps:` and `mode: half-up`).

Usage (from the repository root):

    (cd tools/editor && npm ci)          # once; node_modules is not committed
    python tools/editor/check_language_server.py            # readable transcript
    python tools/editor/check_language_server.py --json     # machine-readable
    python tools/editor/check_language_server.py --check    # exit 1 if an expectation fails

Only the standard library is used, so it runs with any Python 3.10+.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SERVER = HERE / "node_modules" / "yaml-language-server" / "bin" / "yaml-language-server"
POLICY = ROOT / "policies" / "pinggu_2020.yaml"
MODELINE = re.compile(r"^#\s*yaml-language-server:\s*\$schema=(\S+)\s*$")

SETTINGS: dict[str, Any] = {
    "yaml": {
        "validate": True,
        "hover": True,
        "completion": True,
        "format": {"enable": False},
        "schemas": {},  # nothing configured: the modeline in the file is what binds the schema
        "schemaStore": {"enable": False},  # no catalogue download
        "maxItemsComputed": 5000,
    },
    "http": {"proxy": "", "proxyStrictSSL": False},
    "[yaml]": {},
    "editor": {"tabSize": 2, "detectIndentation": False},
    "files": {"associations": {}},
}

CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{3,}")


class LanguageServer:
    """A minimal LSP client: JSON-RPC with Content-Length framing over a child's stdio."""

    def __init__(self, command: list[str], cwd: Path) -> None:
        self.proc = subprocess.Popen(  # noqa: S603 - our own node and server paths, no shell
            command, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self.next_id = 0
        self.responses: dict[int, queue.Queue[dict[str, Any]]] = {}
        self.diagnostics: queue.Queue[dict[str, Any]] = queue.Queue()
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()

    def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        for _ in self.proc.stderr:
            pass

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message, ensure_ascii=False).encode("utf-8")
        assert self.proc.stdin is not None
        with self.lock:
            self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self.proc.stdin.flush()

    def _read(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            if length is None:
                continue
            message = json.loads(stream.read(length).decode("utf-8"))
            if "id" in message and "method" in message:  # a request from the server
                self._answer(message)
            elif "id" in message:
                self.responses.setdefault(message["id"], queue.Queue()).put(message)
            elif message.get("method") == "textDocument/publishDiagnostics":
                self.diagnostics.put(message["params"])

    def _answer(self, request: dict[str, Any]) -> None:
        result: Any = None
        if request["method"] == "workspace/configuration":
            result = [SETTINGS.get(item.get("section", ""), None) for item in request["params"]["items"]]
        self._send({"jsonrpc": "2.0", "id": request["id"], "result": result})

    def request(self, method: str, params: dict[str, Any], timeout: float = 30) -> Any:
        self.next_id += 1
        rid = self.next_id
        box = self.responses.setdefault(rid, queue.Queue())
        self._send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        message = box.get(timeout=timeout)
        if "error" in message:
            raise RuntimeError(f"{method}: {message['error']}")
        return message.get("result")

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def wait_diagnostics(self, uri: str, version: int, timeout: float = 30) -> list[dict[str, Any]]:
        while True:
            params = self.diagnostics.get(timeout=timeout)
            if params["uri"] == uri and params.get("version", version) == version:
                return list(params["diagnostics"])

    def close(self) -> None:
        try:
            self.request("shutdown", {}, timeout=10)
            self.notify("exit", {})
            self.proc.wait(timeout=10)
        except (OSError, RuntimeError, queue.Empty, subprocess.TimeoutExpired) as exc:
            print(f"language server did not shut down cleanly ({exc!r}); killing it", file=sys.stderr)
        if self.proc.poll() is None:
            self.proc.kill()


def markup_text(contents: Any) -> str:
    """Hover/documentation content of any LSP shape as plain text."""
    if contents is None:
        return ""
    if isinstance(contents, str):
        return contents
    if isinstance(contents, list):
        return "\n".join(markup_text(c) for c in contents)
    return str(contents.get("value", ""))


def position_of(lines: list[str], line_pattern: str, key: str, after: int = 0) -> tuple[int, int]:
    """(line, character) of `key` on the first line at or after `after` matching `line_pattern`."""
    rx = re.compile(line_pattern)
    for number in range(after, len(lines)):
        if rx.search(lines[number]):
            return number, lines[number].index(key) + 1
    raise LookupError(f"no line matches {line_pattern!r}")


def check_modeline(text: str) -> tuple[str, Path]:
    first = text.splitlines()[0]
    match = MODELINE.match(first)
    if not match:
        raise SystemExit(f"{POLICY}: first line is not a `# yaml-language-server: $schema=...` modeline: {first!r}")
    target = (POLICY.parent / match.group(1)).resolve()
    if not target.is_file():
        raise SystemExit(f"{POLICY}: the modeline's schema {match.group(1)} resolves to {target}, which does not exist")
    return match.group(1), target


def run() -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        raise SystemExit("node is not installed (Node 18+ is needed for yaml-language-server)")
    if not SERVER.exists():
        raise SystemExit(f"{SERVER} is missing: run `npm ci` in {HERE}")
    text = POLICY.read_text(encoding="utf-8")
    modeline, schema_path = check_modeline(text)
    lines = text.splitlines()
    uri = POLICY.as_uri()
    out: dict[str, Any] = {
        "policy": str(POLICY.relative_to(ROOT)),
        "modeline": modeline,
        "schema": str(schema_path.relative_to(ROOT)),
    }
    server = LanguageServer([node, str(SERVER), "--stdio"], cwd=ROOT)
    try:
        init = server.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": ROOT.as_uri(),
                "workspaceFolders": [{"uri": ROOT.as_uri(), "name": ROOT.name}],
                "capabilities": {
                    "workspace": {"configuration": True, "didChangeConfiguration": {"dynamicRegistration": False}},
                    "textDocument": {
                        "hover": {"contentFormat": ["markdown", "plaintext"]},
                        "completion": {"completionItem": {"snippetSupport": True, "documentationFormat": ["markdown", "plaintext"]}},
                        "publishDiagnostics": {"versionSupport": True},
                        "synchronization": {"didSave": False},
                    },
                },
                "initializationOptions": {},
            },
        )
        out["server"] = init.get("serverInfo", {"name": "yaml-language-server"})
        server.notify("initialized", {})
        server.notify("workspace/didChangeConfiguration", {"settings": SETTINGS})

        version = 1
        server.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "yaml", "version": version, "text": text}},
        )
        out["diagnostics_unchanged"] = [d["message"] for d in server.wait_diagnostics(uri, version)]

        # Hover on keys of the unchanged file.
        rule_start = next(i for i, line in enumerate(lines) if line.startswith("  - id: pledge-loan-interest"))
        targets = [
            ("rate", *position_of(lines, r"^\s+amount: \{rate:", "rate", rule_start)),
            ("caps", *position_of(lines, r"^    caps:", "caps", rule_start)),
            ("cites (rule)", *position_of(lines, r"^    cites:", "cites", rule_start)),
            ("max", *position_of(lines, r"^\s+max:", "max", rule_start)),
            ("times", *position_of(lines, r"^\s+times:", "times", rule_start)),
            ("mode", *position_of(lines, r"^    mode:", "mode")),
        ]
        hovers = {}
        for label, line, character in targets:
            result = server.request(
                "textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}
            )
            hovers[label] = {
                "line": line + 1,
                "text": lines[line].strip(),
                "hover": markup_text(result["contents"]) if result else "",
            }
        out["hover"] = hovers

        def open_variant(name: str, new_lines: list[str]) -> str:
            """Open an edited copy under another name in the same folder (never written to disk):
            the modeline resolves the same way and its diagnostics cannot be confused with another's."""
            variant = POLICY.with_name(f"{POLICY.stem}.{name}.yaml").as_uri()
            server.notify(
                "textDocument/didOpen",
                {"textDocument": {"uri": variant, "languageId": "yaml", "version": 1, "text": "\n".join(new_lines) + "\n"}},
            )
            return variant

        def complete_at(name: str, new_lines: list[str], line: int, character: int) -> list[dict[str, Any]]:
            variant = open_variant(name, new_lines)
            result = server.request(
                "textDocument/completion",
                {"textDocument": {"uri": variant}, "position": {"line": line, "character": character}},
            )
            items = result["items"] if isinstance(result, dict) else (result or [])
            return [
                {
                    "label": item["label"],
                    "detail": item.get("detail", ""),
                    "documentation": markup_text(item.get("documentation")),
                    "insert": item.get("insertText") or (item.get("textEdit") or {}).get("newText", ""),
                }
                for item in items
            ]

        # Completion on an empty line of a new rule, typed before rule patent-insurance.
        new_rule = next(i for i, line in enumerate(lines) if line.startswith("  - id: patent-insurance"))
        edited = lines[:new_rule] + ["  - id: new-rule", "    ", ""] + lines[new_rule:]
        out["completion_rule"] = {"line": new_rule + 2, "items": complete_at("rule", edited, new_rule + 1, 4)}

        # Completion inside an `amount:` block mapping (replacing the flow mapping).
        amount = position_of(lines, r"^    amount: \{rate:", "amount", rule_start)[0]
        edited = lines[:amount] + ["    amount:", "      "] + lines[amount + 1 :]
        out["completion_amount"] = {"line": amount + 2, "items": complete_at("amount", edited, amount + 1, 6)}

        # Completion of the value of rounding.mode (an enum).
        mode = position_of(lines, r"^    mode:", "mode")[0]
        edited = lines[:mode] + ["    mode: "] + lines[mode + 1 :]
        out["completion_mode_value"] = {"line": mode + 1, "items": complete_at("mode", edited, mode, 10)}

        # Two typing mistakes: a misspelt key and an enum value that is not allowed.
        caps = position_of(lines, r"^    caps:", "caps", rule_start)[0]
        edited = list(lines)
        edited[caps] = edited[caps].replace("caps:", "capps:")
        edited[mode] = "    mode: half-up"
        variant = open_variant("mistakes", edited)
        out["diagnostics_mistakes"] = [
            {"line": d["range"]["start"]["line"] + 1, "message": d["message"]} for d in server.wait_diagnostics(variant, 1)
        ]
    finally:
        server.close()
    return out


def expectations(out: dict[str, Any]) -> list[str]:
    """What must hold for the schema to be doing its job in an editor; returns the failures."""
    failures = []
    if out["diagnostics_unchanged"]:
        failures.append(f"the unchanged policy has diagnostics: {out['diagnostics_unchanged']}")
    for label, hover in out["hover"].items():
        if not (CJK.search(hover["hover"]) and LATIN.search(hover["hover"])):
            failures.append(f"hover on {label} is not bilingual: {hover['hover']!r}")
    labels = {item["label"] for item in out["completion_rule"]["items"]}
    for key in ("caps", "limits", "documents", "subject", "readings", "notes", "when"):
        if key not in labels:
            failures.append(f"completion in a rule lacks {key!r}: {sorted(labels)}")
    documented = [i for i in out["completion_rule"]["items"] if CJK.search(i["documentation"])]
    if len(documented) < 5:
        failures.append("completion items in a rule carry no bilingual documentation")
    amount_labels = {item["label"] for item in out["completion_amount"]["items"]}
    for key in ("rate", "fixed", "per_unit", "least"):
        if key not in amount_labels:
            failures.append(f"completion in amount lacks {key!r}: {sorted(amount_labels)}")
    mode_labels = {item["label"] for item in out["completion_mode_value"]["items"]}
    if not {"half_up", "half_even", "down"} <= mode_labels:
        failures.append(f"completion of mode lacks the enum values: {sorted(mode_labels)}")
    messages = " | ".join(d["message"] for d in out["diagnostics_mistakes"])
    if "capps" not in messages:
        failures.append(f"no diagnostic for the misspelt key capps: {messages}")
    if "half_up" not in messages:
        failures.append(f"no diagnostic listing the allowed modes for half-up: {messages}")
    return failures


def print_transcript(out: dict[str, Any]) -> None:
    server = out["server"]
    print(f"server: {server.get('name')} {server.get('version', '')}".rstrip())
    print(f"policy: {out['policy']}  modeline $schema={out['modeline']} -> {out['schema']}")
    print(f"\n== diagnostics of the unchanged file: {len(out['diagnostics_unchanged'])}")
    for message in out["diagnostics_unchanged"]:
        print(f"  {message}")
    print("\n== hover")
    for label, hover in out["hover"].items():
        print(f"-- {label}  (line {hover['line']}: {hover['text']})")
        for text_line in hover["hover"].strip().splitlines():
            print(f"   | {text_line}")
    for key, title in (
        ("completion_rule", "completion on the empty line of a new rule `- id: new-rule`"),
        ("completion_amount", "completion inside `amount:`"),
        ("completion_mode_value", "completion of the value after `mode: `"),
    ):
        items = out[key]["items"]
        print(f"\n== {title}: {len(items)} items")
        for item in items:
            doc = " ".join(item["documentation"].split())
            print(f"  {item['label']:<20} {doc[:150]}")
    print("\n== diagnostics after typing `capps:` and `mode: half-up`")
    for diagnostic in out["diagnostics_mistakes"]:
        print(f"  line {diagnostic['line']}: {diagnostic['message']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--check", action="store_true", help="exit 1 if the editor would not complete and document")
    args = parser.parse_args(argv)
    out = run()
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        print_transcript(out)
    failures = expectations(out)
    if args.check or not args.json:
        print(f"\n== expectations: {'all hold' if not failures else f'{len(failures)} failed'}", file=sys.stderr)
        for failure in failures:
            print(f"  FAIL {failure}", file=sys.stderr)
    return 1 if (args.check and failures) else 0


if __name__ == "__main__":
    sys.exit(main())
