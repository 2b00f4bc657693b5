"""What delivering one outbox entry came to: small types, never strings to match on.

A try ends in a final outcome (`Sent`, `AlreadySent`, `Gone`, `DeadLetter`) or in `RetryIn`,
which sends the entry round again after a wait (a 5xx backoff, another worker's lease).
`label` is the word the delivery log line carries.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sent:
    possible_repeat: bool = False  # taken over from a sender that died mid-send

    @property
    def label(self) -> str:
        return "sent:possible-repeat" if self.possible_repeat else "sent"


@dataclass(frozen=True)
class AlreadySent:
    """Another worker (or an earlier hand-out) sent it: only acknowledged."""

    label = "skipped:already-sent"


@dataclass(frozen=True)
class Gone:
    """The chat blocked or removed the bot: it was unsubscribed."""

    label = "gone"


@dataclass(frozen=True)
class DeadLetter:
    reason: str
    sender_died: bool = False  # its sender died mid-send; not sent again (at-most-once)

    @property
    def label(self) -> str:
        return f"dead-lettered reason={self.reason!r}"


@dataclass(frozen=True)
class RetryIn:
    seconds: float


Final = Sent | AlreadySent | Gone | DeadLetter
TryOutcome = Final | RetryIn


@dataclass
class DeliveryCounts:
    """A worker's final outcomes since it started, counted as each entry ends."""

    sent: int = 0
    possible_repeats: int = 0  # of `sent`: taken over from a sender that died mid-send
    already_sent: int = 0
    gone: int = 0
    dead_lettered: int = 0
    not_resent: int = 0  # of `dead_lettered`: the sender died mid-send (at-most-once)

    def record(self, outcome: Final) -> None:
        match outcome:
            case Sent(possible_repeat=repeat):
                self.sent += 1
                self.possible_repeats += repeat
            case AlreadySent():
                self.already_sent += 1
            case Gone():
                self.gone += 1
            case DeadLetter(sender_died=died):
                self.dead_lettered += 1
                self.not_resent += died
