"""The one place that builds Redis key names.

Every key carries a hash tag so related keys share a Redis Cluster slot:
`{m}` for metric snapshots/history/status.
"""

from __future__ import annotations

import zlib

# A rule's subscribers are spread over this many sets, each its own hash tag, so on a
# Cluster no slot holds a whole rule's audience (100,000 chats: ~1,560 per set).
SUBSCRIBER_SHARDS = 64


def subscriber_shard(destination: str) -> int:
    """The shard of every rule's subscriber sets that holds `destination`."""
    return zlib.crc32(destination.encode()) % SUBSCRIBER_SHARDS


class Keys:
    def __init__(self, prefix: str = "fw:") -> None:
        self.prefix = prefix

    def snapshot(self, family: str) -> str:
        return f"{self.prefix}{{m}}:snap:{family}"

    def history(self, series_key: str) -> str:
        return f"{self.prefix}{{m}}:hist:{series_key}"

    def history_index(self) -> str:
        return f"{self.prefix}{{m}}:hist-index"

    def source_status(self) -> str:
        return f"{self.prefix}{{m}}:sources"

    def provider_calls(self, provider: str, window: str) -> str:
        """Counter of one provider's upstream calls in one window (e.g. a day: 20261202)."""
        return f"{self.prefix}{{m}}:calls:{provider}:{window}"

    def provider_health(self) -> str:
        """Hash: provider name -> its last outcome in its chain (JSON)."""
        return f"{self.prefix}{{m}}:providers"

    def collection(self) -> str:
        return f"{self.prefix}{{m}}:collection"

    def chart(self, chart: str, window_label: str, asof: str) -> str:
        """A rendered chart PNG (base64) cached by chart, window and as-of date."""
        return f"{self.prefix}{{c}}:chart:{chart}:{window_label}:{asof}"

    # Alerts: shared keys (rules, outbox, leader locks, digests) share the `{a}` hash tag so
    # multi-key transactions work in a cluster.

    def alert_rules(self) -> str:
        """Hash: rule id -> rule JSON (per-chat custom rules)."""
        return f"{self.prefix}{{a}}:rules"

    def alert_rule_seq(self) -> str:
        return f"{self.prefix}{{a}}:rule-seq"

    # Per chat and per shard of chats: these keys carry their own hash tags (`{as:...}` a
    # shard of a rule's subscribers, `{ac:<destination>}` one chat's own keys), so a cluster
    # spreads them and removing or moving a chat touches only its keys and its shards.

    def alert_subscribers(self, rule_id: str, shard: int) -> str:
        """Set: one shard of the destinations subscribed to a rule."""
        return f"{self.prefix}{{as:{rule_id}:{shard}}}:subs"

    def alert_subscriber_set(self, rule_id: str, destination: str) -> str:
        """The shard of `rule_id`'s subscribers that holds `destination`."""
        return self.alert_subscribers(rule_id, subscriber_shard(destination))

    def alert_subscriber_shards(self, rule_id: str) -> list[str]:
        return [self.alert_subscribers(rule_id, n) for n in range(SUBSCRIBER_SHARDS)]

    def alert_chat_rules(self, destination: str) -> str:
        """Set of rule ids a destination is subscribed to."""
        return f"{self.prefix}{{ac:{destination}}}:rules"

    def alert_guided(self, destination: str, user: str) -> str:
        """JSON of one user's guided /alert add in progress here, with a TTL."""
        return f"{self.prefix}{{ac:{destination}}}:guided:{user}"

    def alert_sent_now(self, destination: str, rule_id: str, point: str) -> str:
        """Set once a rule's 'Send it now' alert for one data point was queued here."""
        return f"{self.prefix}{{ac:{destination}}}:now:{rule_id}:{point}"

    def legacy_alert_subscribers(self, rule_id: str) -> str:
        """Before sharding: one set per rule (read once by the layout migration)."""
        return f"{self.prefix}{{a}}:subs:{rule_id}"

    def legacy_alert_chat_rules(self, destination: str) -> str:
        return f"{self.prefix}{{a}}:chat-subs:{destination}"

    def key_layout(self) -> str:
        """The alert key layout version this store was migrated to."""
        return f"{self.prefix}{{a}}:layout"

    def alert_state(self) -> str:
        """Legacy hash '<rule id>|<destination>' -> state JSON (read once to seed a rule's
        state after an upgrade; nothing writes it any more)."""
        return f"{self.prefix}{{a}}:state"

    def alert_rule_state(self) -> str:
        """Hash: rule id -> the rule's state JSON (one state per rule, not per chat)."""
        return f"{self.prefix}{{a}}:rule-state"

    def alert_rule_events(self) -> str:
        """Redis Stream: one entry per rule transition, awaiting its fan-out."""
        return f"{self.prefix}{{a}}:rule-events"

    def alert_fanout_progress(self, entry_id: str) -> str:
        """The subscriber cursor a rule event's fan-out has reached ("done" at the end);
        deleted with the event once its fan-out is finished."""
        return f"{self.prefix}{{a}}:fanout:{entry_id}"

    def alert_fanout_audience(self, entry_id: str) -> str:
        """List: the rule's subscribers when its event's fan-out began, sorted (the fan-out
        cursor is an index into it, which stays valid across a Redis restart)."""
        return f"{self.prefix}{{a}}:fanout-to:{entry_id}"

    def alert_heartbeat(self, consumer: str) -> str:
        """A worker's heartbeat (a short TTL): its stream entries are reclaimed once gone."""
        return f"{self.prefix}{{a}}:hb:{consumer}"

    def alert_mute(self, destination: str) -> str:
        """With a TTL. In `{a}`: admission checks a batch's mutes and day counts in one
        script (admission.py)."""
        return f"{self.prefix}{{a}}:mute:{destination}"

    def alert_notice(self, destination: str, notice: str) -> str:
        """Set once a destination was told `notice` (e.g. a missing right)."""
        return f"{self.prefix}{{a}}:notice:{notice}:{destination}"

    def alert_dormant(self, destination: str) -> str:
        """JSON of a gone destination's parked set-up (subscriptions, digest), with a TTL."""
        return f"{self.prefix}{{a}}:dormant:{destination}"

    def alert_dormant_index(self) -> str:
        """Sorted set: gone destination -> when it went (epoch seconds), for the purge."""
        return f"{self.prefix}{{a}}:dormant-index"

    def alert_muted(self, destination: str) -> str:
        """List of the alerts that fired while the destination was muted (their first lines)."""
        return f"{self.prefix}{{a}}:muted:{destination}"

    def alert_muted_index(self) -> str:
        """Set of destinations with alerts kept while muted."""
        return f"{self.prefix}{{a}}:muted-index"

    def alert_daily_count(self, destination: str) -> str:
        """Hash: the destination's latest alert day ("_day") and, for that day only, event id
        -> its number among the day's alerts (one key per chat, not one per day)."""
        return f"{self.prefix}{{a}}:day:{destination}"

    def alert_outbox(self) -> str:
        """Redis Stream of alert events awaiting delivery."""
        return f"{self.prefix}{{a}}:outbox"

    def alert_dead_letters(self) -> str:
        return f"{self.prefix}{{a}}:dead"

    def alert_sent(self, event_id: str, destination: str) -> str:
        """The send lease of this (event, destination) while a send is in flight."""
        return f"{self.prefix}{{a}}:sent:{event_id}:{destination}"

    # The send budget of each platform's bot (replies and alerts, every process): its own
    # hash tag, so one script takes a send's platform, chat and group slots atomically.

    def alert_pacing(self, platform: str) -> str:
        """The platform's shared send schedule: its next free slot, in Redis microseconds."""
        return f"{self.prefix}{{pace:{platform}}}:all"

    def pacing_scope(self, platform: str, scope: str, chat_id: str) -> str:
        """One chat's (or group's) next free slot on the platform's schedule; short TTL."""
        return f"{self.prefix}{{pace:{platform}}}:{scope}:{chat_id}"

    def leader_lock(self, role: str) -> str:
        return f"{self.prefix}{{a}}:leader:{role}"

    def digest_subscriptions(self) -> str:
        """Hash: destination -> daily digest JSON (time, time zone, since)."""
        return f"{self.prefix}{{a}}:digest:subs"

    def digest_last_day(self, destination: str) -> str:
        """The latest local day whose digest was enqueued for this destination (ISO date)."""
        return f"{self.prefix}{{a}}:digest:last:{destination}"

    def destinations(self) -> str:
        """Hash: destination -> JSON (platform, chat id, migrated-to, unsubscribed)."""
        return f"{self.prefix}{{a}}:destinations"
