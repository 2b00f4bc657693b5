"""Fair replies through the real PTB front-end: a busy chat waits only on itself.

60 commands from one group (20 messages a minute) or one private chat (1 a second) arrive
first; PTB handles 32 updates at once. Another chat's /btc is still answered within 2 s:
the busy chat's replies wait in its own queue, not in PTB's update slots. Before, those
handlers held every slot while they waited for their chat's pacing (67.5 s for a group's
60, 27.5 s for a private chat's).
"""

from __future__ import annotations

import itertools
import time

import pytest

from bot.telegram import TelegramFrontend
from tests.e2e.telegram_standin import BotApiStandIn, wait_for

pytestmark = pytest.mark.timeout(60)
GROUP, BUSY, OTHER = -100555, 2001, 3001


@pytest.mark.parametrize(("busy", "chat_type", "spacing_s"),
                         [(GROUP, "supergroup", 2.5), (BUSY, "private", 0.8)])
async def test_one_chats_sixty_commands_delay_another_chat_by_under_two_seconds(
        frontend: TelegramFrontend, standin: BotApiStandIn, busy: int, chat_type: str,
        spacing_s: float) -> None:
    for _ in range(60):
        await standin.push_command("/btc", chat_id=busy, chat_type=chat_type)
    asked = time.monotonic()
    await standin.push_command("/btc", chat_id=OTHER)
    await wait_for(lambda: standin.sent_to(OTHER), what="the other chat's answer")
    [answer] = [c for c in standin.calls_of("sendMessage") if c.params["chat_id"] == OTHER]
    assert answer.at - asked < 2.0
    assert "<b>Bitcoin</b>" in answer.params["text"]
    await wait_for(lambda: frontend.adapter.replies.queued(busy) >= 50,
                   what="the busy chat's replies queued")  # handled, off PTB's slots
    # The busy chat keeps its own limits meanwhile: a group message every 3 s, 1/s otherwise.
    sent = [c.at for c in standin.calls_of("sendMessage") if c.params["chat_id"] == busy]
    assert all(b - a >= spacing_s for a, b in itertools.pairwise(sent))
    assert len(sent) < 10  # the rest still queued: it waits on itself
    assert frontend.adapter.replies.discard(busy) >= 50  # (not drained at stop)


async def test_a_full_chat_queue_drops_further_replies_with_a_warning(
        frontend: TelegramFrontend) -> None:
    queues = frontend.adapter.replies
    queues.max_per_chat = 2
    sent: list[int] = []

    async def send(n: int) -> None:
        sent.append(n)

    assert [queues.submit(7, lambda n=n: send(n)) for n in range(4)] == [True, True, False,
                                                                          False]
    await wait_for(lambda: sent == [0, 1], what="the queued sends")
    assert queues.dropped == {"7": 2}
