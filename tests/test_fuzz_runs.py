"""The fuzzer the README and SECURITY.md tell a maintainer to run still runs: every target, briefly.

It is not a fuzzing run (that takes minutes per target and is not run in CI): a target that fails to set up (the
message catalogue moved and every target died with FileNotFoundError before trying an input) is found here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def test_every_fuzz_target_sets_up_and_tries_inputs(tmp_path: Path) -> None:
    out = tmp_path / "summary.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(ROOT / "fuzz" / "run.py"), "--minutes-each", "0.01", "--seed", "1", "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    targets = json.loads(out.read_text(encoding="utf-8"))["targets"]
    # (how many inputs each tries in 0.6 s depends on the machine's load: that some were tried, and none crashed)
    assert len(targets) == 10 and all(t["crashes"] == 0 for t in targets.values()), targets
    assert sum(t["tried"] for t in targets.values()) > 0, targets
