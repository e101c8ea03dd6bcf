"""The web service: `policy-engine serve` (docs/service.md).

Job: serve the engine over HTTP (an ASGI app on Starlette, run by uvicorn): the policies of a folder with
their generated OpenAPI document, evaluate and explain, the ledger's reads and writes behind bearer tokens,
rounds as jobs, health, readiness and Prometheus metrics; problems as RFC 9457 problem+json.
May import: engine.core, engine.language, engine.deciding, engine.explaining, engine.records, engine.officer.

Starlette and uvicorn are the optional extra `service` (`pip install 'policy-engine[service]'`): the
command line's `serve` (engine/cli/serve.py) imports them when it runs and says what to install when they are missing.
"""
