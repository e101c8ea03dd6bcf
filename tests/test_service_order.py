"""POST /evaluate's lean path under load (issue 16 point 5): one decision per turn of the event loop, first
come first answered (engine/service/fast.py `Turns`).

The event loop reads every request that has arrived in one poll and then runs their tasks one after the other.
Deciding them all in one go made the clients answered last in a run miss the next poll (they had not sent
their next request yet) and wait at the end of the run after it: twice as long as the others (the p99 at 32
clients ~2.5 x the p50). Here the lean path is called in process, as uvicorn calls it, with the requests of
one poll started together; a callback that puts itself back on the loop counts the loop's iterations.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
from collections.abc import Callable
from typing import Any

import pytest
from conftest import ROOT, claim, item

pytest.importorskip("starlette")

from engine.service.app import create_app
from engine.service.config import Config
from engine.service.fast import FastEvaluate, Turns


@pytest.fixture(scope="module")
def lean(tmp_path_factory: pytest.TempPathFactory) -> FastEvaluate:
    folder = tmp_path_factory.mktemp("order") / "policies"
    folder.mkdir()
    shutil.copy(ROOT / "policies" / "pinggu_2020.yaml", folder)
    shutil.copytree(ROOT / "policies" / "texts", folder / "texts")
    app = create_app(Config(policies=str(folder), lang="en"))
    assert isinstance(app, FastEvaluate)
    return app


def body(n: int) -> bytes:
    # a pledge loan's interest: 50 % of 60,000 paid = 30,000 (第六条（二）项), distinct per request
    one = claim(item("pledge_loan_interest", "l1", date="2021-06-01", loan_id=f"LOAN-{n}", annual_interest_paid="60000"), claim_id=f"C-{n}")
    return json.dumps(one, ensure_ascii=False).encode("utf-8")


class Ticks:
    """Counts the event loop's iterations: a callback that puts itself back on the loop each time it runs."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop, self.count, self.on = loop, 0, True
        loop.call_soon(self.tick)

    def tick(self) -> None:
        self.count += 1
        if self.on:
            self.loop.call_soon(self.tick)


def request(app: FastEvaluate, n: int, answered: list[tuple[int, int, bytes]], ticks: Callable[[], int]) -> Any:
    scope = {"type": "http", "method": "POST", "path": "/evaluate", "headers": [], "query_string": b""}
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body(n), "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            answered.append((n, ticks(), message["body"]))

    return app(scope, receive, send)


def test_requests_read_in_one_poll_are_decided_one_per_turn_of_the_loop_in_their_order(lean: FastEvaluate) -> None:
    answered: list[tuple[int, int, bytes]] = []

    async def main() -> None:
        ticks = Ticks(asyncio.get_running_loop())
        # four requests read by one poll: uvicorn starts a task for each, in the order it read them
        await asyncio.gather(*(asyncio.ensure_future(request(lean, n, answered, lambda: ticks.count)) for n in range(4)))
        ticks.on = False

    asyncio.run(main())
    assert [n for n, _, _ in answered] == [0, 1, 2, 3]
    turns = [t for _, t, _ in answered]
    # each answered in a later iteration of the loop than the one before (before: all four in one iteration)
    assert all(b > a for a, b in itertools.pairwise(turns)), turns
    for n, _, answer in answered:
        decision = json.loads(answer)
        assert decision["claim_id"] == f"C-{n}"
        assert decision["items"][0]["amount"] == "30000.00"  # 50 % x 60,000


def test_a_request_that_comes_while_others_wait_is_answered_after_them(lean: FastEvaluate) -> None:
    """Request 0's answer makes its client send request 9 at once; it comes in before 1 and 2 are decided
    (the loop polls between decisions), and is answered after them, not ahead of them or a whole run later."""
    answered: list[tuple[int, int, bytes]] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        ticks = Ticks(loop)
        later: list[asyncio.Future[Any]] = []

        def counted() -> int:
            if len(answered) == 0:  # request 0 answered: its client's next request arrives in the next poll
                loop.call_soon(lambda: later.append(asyncio.ensure_future(request(lean, 9, answered, counted))))
            return ticks.count

        first = [asyncio.ensure_future(request(lean, n, answered, counted)) for n in range(3)]
        await asyncio.gather(*first)
        while not later:
            await asyncio.sleep(0)
        await later[0]
        ticks.on = False

    asyncio.run(main())
    assert [n for n, _, _ in answered] == [0, 1, 2, 9]


def test_a_waiter_cancelled_before_or_after_its_turn_passes_the_turn_on() -> None:
    async def main() -> list[str]:
        turns, done = Turns(), []

        async def one(name: str) -> None:
            await turns.take()
            try:
                done.append(name)
            finally:
                turns.give()

        await turns.take()  # a decision under way
        a, b, c = (asyncio.ensure_future(one(x)) for x in "abc")
        await asyncio.sleep(0)  # all three wait
        a.cancel()  # cancelled while waiting: skipped
        turns.give()  # the turn goes to b ...
        b.cancel()  # ... which is cancelled before it runs: c gets it
        await asyncio.gather(a, b, c, return_exceptions=True)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        await turns.take()  # and the turn is free again afterwards
        turns.give()
        return done

    assert asyncio.run(main()) == ["c"]


def test_a_client_that_does_not_read_its_answer_holds_up_no_one(lean: FastEvaluate) -> None:
    """The turn is given back when the decision is made, before the answer is sent: a send that waits (the
    client's socket full, uvicorn's flow control) does not keep the next request from its turn."""
    answered: list[int] = []

    async def main() -> None:
        stuck = asyncio.Event()  # never set: request 0's client reads nothing

        def make(n: int) -> Any:
            scope = {"type": "http", "method": "POST", "path": "/evaluate", "headers": [], "query_string": b""}

            async def receive() -> dict[str, Any]:
                return {"type": "http.request", "body": body(n), "more_body": False}

            async def send(message: dict[str, Any]) -> None:
                if n == 0:
                    await stuck.wait()
                if message["type"] == "http.response.body":
                    answered.append(n)

            return lean(scope, receive, send)

        blocked = asyncio.ensure_future(make(0))
        await asyncio.wait_for(asyncio.gather(make(1), make(2)), timeout=30)
        blocked.cancel()

    asyncio.run(main())
    assert answered == [1, 2]
