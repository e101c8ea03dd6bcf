"""The tests' hang guard (`conftest.no_hang`): what turns a guard of the engine's that regressed into a hang into a
failure. It measures nothing; it must fail the test whatever the engine catches, and leave an outer alarm armed."""

from __future__ import annotations

import signal

import pytest
from conftest import Hung, no_hang


def test_a_hang_is_a_failure_no_except_clause_of_the_engine_catches() -> None:
    caught_by_the_engine = []
    with pytest.raises(Hung):
        with no_hang(1):
            while True:  # (a loop that never ends, inside the kind of clause the engine writes)
                try:
                    signal.pause()
                except (Exception, OSError) as err:  # (the clause the engine writes)
                    caught_by_the_engine.append(err)
    assert caught_by_the_engine == []


def test_an_outer_alarm_is_armed_again_with_what_was_left_of_it() -> None:
    previous = signal.signal(signal.SIGALRM, lambda *_: None)
    try:
        signal.alarm(100)
        with no_hang(5):
            pass
        left = signal.alarm(0)
        assert 95 <= left <= 100
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
