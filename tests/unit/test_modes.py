"""The storage mode machine's rules (store/modes.py), without a database: milliseconds each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from grandlivre.store.modes import Mode, ModeMachine, Transition, Verdict

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def machine(mode: Mode = Mode.primary, **kwargs: int) -> ModeMachine:
    """A machine that fails over after 2 bad probes and comes back after 3 good ones."""
    return ModeMachine(mode, probe_failures=2, probe_successes=3, hand_over_backlog=400, **kwargs)


def to_fallback(m: ModeMachine) -> None:
    assert m.failed("connection refused", T0) == Transition(
        Mode.primary, Mode.fallback, "connection refused"
    )


def test_a_failed_request_moves_primary_to_fallback_at_once_and_records_since_when() -> None:
    m = machine()

    to_fallback(m)

    assert m.mode == Mode.fallback
    assert m.in_fallback
    assert m.fallback_since == T0


def test_primary_falls_back_after_k_failed_probes_in_a_row_only() -> None:
    m = machine()

    assert m.probed(False, T0) == (Verdict.nothing, None)
    assert m.probed(True, T0) == (Verdict.nothing, None)  # a good one resets the count
    assert m.probed(False, T0) == (Verdict.nothing, None)
    verdict, transition = m.probed(False, T0)

    assert verdict is Verdict.nothing
    assert transition == Transition(Mode.primary, Mode.fallback, "probes failed")


def test_fallback_asks_for_recovery_after_n_good_probes_in_a_row() -> None:
    m = machine()
    to_fallback(m)

    assert m.probed(True, T0)[0] is Verdict.nothing
    assert m.probed(False, T0)[0] is Verdict.nothing  # a bad one resets the count
    assert m.probed(True, T0)[0] is Verdict.nothing
    assert m.probed(True, T0)[0] is Verdict.nothing
    verdict, transition = m.probed(True, T0)

    assert verdict is Verdict.prepare_recovery
    assert transition is None
    assert m.mode == Mode.fallback  # not before PostgreSQL is made ready


def test_recovering_starts_only_once_postgresql_is_ready() -> None:
    m = machine()
    to_fallback(m)
    for _ in range(3):
        m.probed(True, T0)

    m.recovery_failed()  # migrations could not run: count again from zero
    assert m.mode == Mode.fallback
    assert m.probed(True, T0)[0] is Verdict.nothing

    later = T0 + timedelta(seconds=5)
    assert m.recovery_ready(later) == Transition(Mode.fallback, Mode.recovering, "probes succeeded")
    assert m.in_fallback
    assert m.fallback_since == T0  # the outage began when primary was left, not now


def test_recovering_goes_back_to_fallback_on_a_failed_probe_or_request() -> None:
    m = machine(Mode.recovering)
    assert m.probed(False, T0)[1] == Transition(
        Mode.recovering, Mode.fallback, "probe failed while recovering"
    )
    m = machine(Mode.recovering)
    assert m.failed("reset by peer", T0) == Transition(
        Mode.recovering, Mode.fallback, "reset by peer"
    )


def test_never_back_to_primary_with_unreplayed_writes() -> None:
    m = machine(Mode.recovering)

    assert m.drained(1, T0) is None
    assert m.mode == Mode.recovering
    assert m.drained(0, T0) == Transition(Mode.recovering, Mode.primary, "journal drained")
    assert m.fallback_since is None


def test_the_gate_closes_only_for_a_small_remainder_while_recovering() -> None:
    m = machine(Mode.recovering)

    assert m.may_close_gate(400)
    assert m.may_close_gate(0)
    assert not m.may_close_gate(401)  # drain tick by tick with the gate open
    assert not machine(Mode.fallback).may_close_gate(0)
    assert not machine(Mode.embedded).may_close_gate(0)
    # A primary process holds the gate for the other workers of its replica still journaling.
    assert machine(Mode.primary).may_close_gate(10)


def test_start_up_with_writes_left_in_the_journal_serves_them_first() -> None:
    m = machine()

    assert m.started(3, T0) == Transition(
        Mode.primary, Mode.recovering, "journal not empty at start-up"
    )
    assert machine().started(0, T0) is None


def test_embedded_never_changes_mode() -> None:
    m = machine(Mode.embedded)

    assert m.failed("disk full", T0) is None
    assert m.probed(False, T0) == (Verdict.nothing, None)
    assert m.probed(False, T0) == (Verdict.nothing, None)
    assert m.drained(0, T0) is None
    assert m.started(5, T0) is None
    assert m.mode == Mode.embedded


def test_the_same_mode_again_is_no_transition() -> None:
    m = machine()
    to_fallback(m)

    assert m.failed("again", T0) is None
    assert m.recovery_ready(T0) is not None
    assert m.recovery_ready(T0) is None


class Outages(RuleBasedStateMachine):
    """Any sequence of probes, failures and drains: primary is reached only with an empty
    journal, and the fallback's start is known exactly while off primary."""

    def __init__(self) -> None:
        super().__init__()
        self.m = machine()
        self.pending = 0
        self.now = T0

    @rule(healthy=st.booleans())
    def probe(self, healthy: bool) -> None:
        self.now += timedelta(seconds=1)
        verdict, transition = self.m.probed(healthy, self.now)
        self.check(transition)
        if verdict is Verdict.prepare_recovery:
            assert self.m.mode == Mode.fallback

    @rule(ready=st.booleans())
    def prepare(self, ready: bool) -> None:
        if ready:
            self.check(self.m.recovery_ready(self.now))
        else:
            self.m.recovery_failed()

    @rule()
    def request_fails(self) -> None:
        self.check(self.m.failed("connection lost", self.now))

    @precondition(lambda self: self.m.in_fallback)
    @rule(count=st.integers(min_value=1, max_value=1000))
    def clients_write(self, count: int) -> None:
        self.pending += count

    @precondition(lambda self: self.m.mode == Mode.recovering)
    @rule(count=st.integers(min_value=0, max_value=1000))
    def replay(self, count: int) -> None:
        self.pending = max(0, self.pending - count)
        if self.m.may_close_gate(self.pending):
            self.check(self.m.drained(self.pending, self.now))

    def check(self, transition: Transition | None) -> None:
        if transition is not None and transition.to == Mode.primary:
            assert self.pending == 0, "back to primary with un-replayed writes"

    @invariant()
    def fallback_since_matches_the_mode(self) -> None:
        assert (self.m.fallback_since is None) == (self.m.mode == Mode.primary)


TestOutages = Outages.TestCase
