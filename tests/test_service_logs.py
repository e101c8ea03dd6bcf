"""The service's log in the officer's language: uvicorn's own lines said by the catalogue (engine/service/logs.py).

Officers start `serve` and read its log; uvicorn wrote it in English ("Uvicorn running on ...", a port already in
use as asyncio's "[Errno 98] error while attempting to bind ..."). The expected lines here are written out from the
catalogue's Chinese, by hand.
"""

from __future__ import annotations

import contextvars
import logging
import logging.config
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

pytest.importorskip("uvicorn")

from test_service import Server, policy_folder

from engine.service.logs import SaidAccessFormatter, SaidFormatter, log_config, said_line
from engine.service.requestid import REQUEST_ID


@pytest.mark.parametrize(
    "uvicorn_line, zh",
    [
        ("Started server process [4242]", "服务进程 [4242] 已启动"),
        (
            "Uvicorn running on http://127.0.0.1:8000 (Press CTRL+C to quit)",
            "服务地址：http://127.0.0.1:8000（接口说明见 http://127.0.0.1:8000/docs；按 Ctrl+C 停止）",
        ),
        ("Application startup complete.", "服务已就绪"),
        ("Child process [77] died", "工作进程 [77] 意外退出，将另起一个"),
        ("Received SIGTERM, exiting.", "收到 SIGTERM，正在退出"),
        (
            "[Errno 98] error while attempting to bind on address ('127.0.0.1', 8000): address already in use",
            "无法在 127.0.0.1:8000 上监听（错误 98）：该端口已被其他程序占用；请换一个 --port，或先停止占用它的程序",
        ),
        (
            "[Errno 98] error while attempting to bind on address ('::1', 8000, 0, 0): address already in use",
            "无法在 [::1]:8000 上监听（错误 98）：该端口已被其他程序占用；请换一个 --port，或先停止占用它的程序",
        ),
        (  # the socket's own words (uvicorn binds the port itself for several workers)
            "[Errno 98] Address already in use",
            "无法在所给地址与端口上监听（错误 98）：该端口已被其他程序占用；请换一个 --port，或先停止占用它的程序",
        ),
        (  # an errno the catalogue has no words for: the system's own
            "[Errno 19] error while attempting to bind on address ('127.0.0.1', 8000): no such device",
            "无法在 127.0.0.1:8000 上监听（错误 19）：no such device",
        ),
    ],
)
def test_uvicorns_lines_are_said_in_chinese(uvicorn_line: str, zh: str) -> None:
    assert said_line(uvicorn_line, "zh") == zh


def test_a_line_the_catalogue_does_not_know_is_kept_as_uvicorn_wrote_it() -> None:
    assert said_line("Some line a newer uvicorn writes", "zh") is None
    formatter = SaidFormatter(fmt="%(levelprefix)s %(message)s", use_colors=False, lang="zh")
    record = logging.LogRecord("uvicorn.error", logging.WARNING, __file__, 1, "Some line %s writes", ("uvicorn 9",), None)
    assert formatter.format(record) == "警告：    Some line uvicorn 9 writes"


def test_the_level_and_a_formatted_line_are_said_and_the_access_log_keeps_the_request() -> None:
    formatter = SaidFormatter(fmt="%(levelprefix)s %(message)s", use_colors=False, lang="zh")
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, "Started server process [%d]", (31,), None)
    record.color_message = "Started server process [\x1b[36m%d\x1b[0m]"  # uvicorn's coloured copy is not used
    assert formatter.format(record) == "信息：    服务进程 [31] 已启动"
    access = SaidAccessFormatter(fmt='%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False, lang="zh")
    hit = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d', ("127.0.0.1:5", "GET", "/health", "1.1", 200), None
    )
    assert access.format(hit) == '信息：    127.0.0.1:5 - "GET /health HTTP/1.1" 200 OK'
    english = SaidFormatter(fmt="%(levelprefix)s %(message)s", use_colors=False, lang="en")
    assert english.format(record) == "INFO:     Started server process [31]"  # uvicorn's own padding, in English


def test_a_line_says_when_in_utc_and_the_request_it_is_about() -> None:
    formatters = log_config("zh")["formatters"]
    default = SaidFormatter(fmt=formatters["default"]["fmt"], use_colors=False, lang="zh")
    access = SaidAccessFormatter(fmt=formatters["access"]["fmt"], use_colors=False, lang="zh")
    started = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, "Started server process [%d]", (31,), None)
    hit = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d', ("127.0.0.1:5", "GET", "/health", "1.1", 200), None
    )
    unreachable = logging.LogRecord("policy_engine.service", logging.WARNING, __file__, 1, "无法连接台账：x", (), None)
    for record in (started, hit, unreachable):
        record.created = 1_800_000_000.25  # 2027-01-15 08:00:00.250 UTC
    assert default.format(started) == "2027-01-15T08:00:00.250Z 信息：    服务进程 [31] 已启动"  # (about no request: no id)

    def in_a_request() -> list[str]:
        REQUEST_ID.set("4bf92f35-req")
        return [access.format(hit), default.format(unreachable)]

    assert contextvars.copy_context().run(in_a_request) == [
        '2027-01-15T08:00:00.250Z 信息：    [4bf92f35-req] 127.0.0.1:5 - "GET /health HTTP/1.1" 200 OK',
        "2027-01-15T08:00:00.250Z 警告：    [4bf92f35-req] 无法连接台账：x",
    ]


def test_the_configuration_names_only_importable_formatters() -> None:
    # uvicorn's supervisor hands the dict to each worker process, which imports the formatters by their path
    config = log_config("zh")
    logging.config.dictConfig(config)  # (what each uvicorn process does with it)
    paths = {f["()"] for f in config["formatters"].values()}
    assert paths == {"engine.service.logs.SaidFormatter", "engine.service.logs.SaidAccessFormatter"}
    logging.config.dictConfig({"version": 1, "disable_existing_loggers": False})  # (leaves pytest's logging as it was)


def test_a_started_service_says_where_it_listens_in_chinese_and_in_english(tmp_path: Path) -> None:
    folder = policy_folder(tmp_path)
    for lang, listening, ready in (
        ("zh", "服务地址：http://127.0.0.1:{port}（接口说明见 http://127.0.0.1:{port}/docs；按 Ctrl+C 停止）", "服务已就绪"),
        (
            "en",
            "Serving on http://127.0.0.1:{port} (the API is described at http://127.0.0.1:{port}/docs; press Ctrl+C to stop)",
            "The service is ready",
        ),
    ):
        (tmp_path / lang).mkdir()
        srv = Server(tmp_path / lang, folder=folder, lang=lang)
        try:
            for _ in range(100):  # (the lines are written around the first answer: read until they are there)
                log = srv.output()
                if ready in log and "Ctrl+C" in log:
                    break
                time.sleep(0.1)
        finally:
            srv.stop()
        assert listening.format(port=srv.port) in log and ready in log, log
        assert "Uvicorn running" not in log and "Application startup complete" not in log


def test_a_port_already_taken_is_said_with_its_fix_and_exit_code(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {"PYTHONPATH": str(ROOT), "POLICY_ENGINE_LANG": "zh", "PATH": "/usr/bin:/bin"}
        folder = policy_folder(tmp_path)
        said = {}
        for workers in ("1", "2"):  # one process binds by asyncio; several, by uvicorn's supervisor with the socket's words
            cmd = [sys.executable, "-m", "engine", "serve", "--policies", str(folder), "--port", str(port), "--workers", workers]
            said[workers] = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=False)
    fix = "该端口已被其他程序占用；请换一个 --port，或先停止占用它的程序"
    lines = {workers: [line.partition("Z ")[2] for line in done.stderr.splitlines()] for workers, done in said.items()}  # (after when)
    assert f"错误：    无法在 127.0.0.1:{port} 上监听（错误 98）：{fix}" in lines["1"], said["1"].stderr
    assert f"错误：    无法在所给地址与端口上监听（错误 98）：{fix}" in lines["2"], said["2"].stderr
    for done in said.values():
        assert done.returncode == 1  # serve's 1 (cannot start), not uvicorn's own 3
        assert "error while attempting to bind" not in done.stderr and "Address already in use" not in done.stderr
