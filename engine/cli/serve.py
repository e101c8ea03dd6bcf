"""`policy-engine serve` / `python -m engine serve`: the command that starts the web service under uvicorn.

This module needs neither Starlette nor uvicorn to be imported (they are the optional `service` extra, imported
when the command runs); without them, `serve` says what to install (exit 2).
"""

from __future__ import annotations

import argparse
import os
import sys

from engine.cli import EXIT_INVALID, EXIT_OK, EXIT_USAGE, EXIT_WHEN, command
from engine.core.errors import EngineError


def cmd_serve(args: argparse.Namespace) -> int:
    return _serve(args)


EXIT_WHEN["serve"] = ("the policies or the token file are not valid", None)


@command("serve", "start the web service (HTTP API with an OpenAPI 3.1 document; needs the service extra)", cmd_serve)
def _configure(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--policies", required=True, metavar="DIR", help="folder of policy YAML files: every version of every policy in it is served"
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0: any free port)")
    p.add_argument("--workers", type=int, default=1, metavar="N", help="worker processes (default 1)")
    p.add_argument("--ledger", metavar="URL", help="grants ledger: sqlite:///FILE or postgresql://... (ledger endpoints need it)")
    p.add_argument("--token-file", metavar="F", help="bearer tokens: YAML {tokens: {TOKEN: {name: NAME, roles: [officer|reader]}}}")
    p.add_argument("--reads", choices=("open", "token"), default="open", help="reads and evaluations: open (default) or token-protected")
    p.add_argument("--max-body", type=int, default=2_000_000, metavar="BYTES", help="largest request body (default 2000000)")
    p.add_argument("--max-items", type=int, default=200, metavar="N", help="most items per claim (default 200)")
    p.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS", help="longest time for one request's work (default 10)")
    p.add_argument(
        "--body-timeout", type=float, default=30.0, metavar="SECONDS", help="longest time to receive a request body (default 30)"
    )
    p.add_argument("--jobs-dir", metavar="DIR", help="where rounds write their files (default: a folder in the temp dir)")
    p.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))


def _serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from engine.service.app import create_app
        from engine.service.config import CONFIG_ENV, Config, Limits
    except ModuleNotFoundError as err:
        print(f"serve needs the service extra ({err.name} is missing): pip install 'policy-engine[service]'", file=sys.stderr)
        return EXIT_USAGE
    if args.workers < 1 or args.max_body < 1 or args.max_items < 1 or args.timeout <= 0 or args.body_timeout <= 0:
        print("--workers, --max-body, --max-items, --timeout and --body-timeout must be positive", file=sys.stderr)
        return EXIT_USAGE
    limits = Limits(max_body_bytes=args.max_body, max_items=args.max_items, timeout_seconds=args.timeout, body_seconds=args.body_timeout)
    config = Config(
        policies=os.path.abspath(args.policies),
        ledger_url=args.ledger,
        token_file=args.token_file,
        reads=args.reads,
        workers=args.workers,
        jobs_dir=args.jobs_dir,
        limits=limits,
    )
    try:  # everything is checked once before any worker starts: a bad folder or token file is exit 1, not a crash loop
        app = create_app(config)
    except EngineError as err:
        print(str(err), file=sys.stderr)
        return EXIT_INVALID
    common = {"host": args.host, "port": args.port, "log_level": args.log_level, "lifespan": "on", "server_header": False}
    if args.workers == 1:
        uvicorn.run(app, **common)
    else:
        os.environ[CONFIG_ENV] = config.to_env()
        uvicorn.run("engine.service.app:app_from_env", factory=True, workers=args.workers, **common)
    return EXIT_OK
