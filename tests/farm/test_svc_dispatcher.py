"""The dispatcher's loop ends on stop, even when a poke comes just before it."""

from __future__ import annotations

import asyncio

import pytest

from farm.config import load_config
from farm.dispatcher import Dispatcher


async def _stop_after_a_poke(loop_turns: int) -> bool:
    """Poke an idle dispatcher, let the loop turn a few times, stop it: did it stop?"""
    dispatcher = Dispatcher(load_config(None), [], lambda: None, None, print, print)
    dispatcher._replan_reasons = []  # nothing to plan: the loop only waits and dispatches
    dispatcher.start()
    await asyncio.sleep(0.01)
    dispatcher.poke()
    for _ in range(loop_turns):
        await asyncio.sleep(0)
    stopper = asyncio.ensure_future(dispatcher.stop())
    done, _ = await asyncio.wait({stopper}, timeout=2.0)
    if not done:  # clean up the runaway loop before failing
        dispatcher._stopped = True
        await asyncio.wait({stopper}, timeout=2.0)
    return bool(done)


@pytest.mark.parametrize("loop_turns", range(4))
def test_a_poke_just_before_stop_does_not_keep_the_loop_running(loop_turns):
    # Python 3.11's asyncio.wait_for swallows a cancellation that comes just as what it
    # waits for is done: this hung the service's shutdown (a test teardown, 300 s)
    assert asyncio.run(_stop_after_a_poke(loop_turns))
