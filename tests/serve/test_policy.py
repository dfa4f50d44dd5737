"""The queue's policy as pure functions: fairness, the attempt limit, which attempt counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from autograder.errors import BadInput
from autograder.serve import policy
from autograder.serve.policy import Attempt, Waiting
from autograder.serve.settings import ServeSettings, parse_cutoff
from autograder.serve.stats import percentile

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def simulate(waiting: list[Waiting], workers: int) -> list[int]:
    """The order in which one service with ``workers`` workers starts ``waiting``, each job
    taking the same time."""
    order: list[int] = []
    running: dict[str, int] = {}
    served: dict[str, datetime] = {}
    clock = T0
    queue = list(waiting)
    while queue or running:
        while len(running) < workers:
            chosen = policy.next_to_run(queue, set(running), served)
            if chosen is None:
                break
            queue.remove(chosen)
            running[chosen.student] = chosen.id
            clock += timedelta(seconds=1)
            served[chosen.student] = clock
            order.append(chosen.id)
        running.pop(next(iter(running)))  # the oldest job finishes
    return order


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_twenty_uploads_of_one_student_delay_anothers_first_by_at_most_one_job(workers):
    # ann's twenty uploads (different assignments, so none replaces another) come first.
    queue = [Waiting(i, "ann", T0 + timedelta(seconds=i)) for i in range(1, 21)]
    queue.append(Waiting(21, "bob", T0 + timedelta(seconds=30)))
    order = simulate(queue, workers)
    assert order.index(21) <= 1, order  # at most ann's one running job goes first
    assert sorted(order) == list(range(1, 22))


def test_students_take_turns():
    queue = [Waiting(i, s, T0 + timedelta(seconds=i))
             for i, s in enumerate(["ann", "ann", "ann", "bob", "bob", "cid"], start=1)]
    order = simulate(queue, 1)
    students = [next(w.student for w in queue if w.id == i) for i in order]
    assert students == ["ann", "bob", "cid", "ann", "bob", "ann"]


def test_a_student_with_a_running_job_gets_no_second_one():
    queue = [Waiting(1, "ann", T0), Waiting(2, "ann", T0 + timedelta(seconds=1))]
    assert policy.next_to_run(queue, {"ann"}, {}) is None
    assert policy.next_to_run([], set(), {}) is None


def test_attempt_limit_says_when_the_next_is_allowed():
    times = [T0 + timedelta(minutes=m) for m in (0, 10, 20)]
    assert policy.next_attempt_at(times, T0 + timedelta(minutes=30), 4) is None
    assert policy.next_attempt_at(times, T0 + timedelta(minutes=30), 3) == T0 + timedelta(hours=1)
    assert policy.next_attempt_at(times, T0 + timedelta(minutes=30), 2) == T0 + timedelta(minutes=70)
    # An hour after the first, one is allowed again.
    assert policy.next_attempt_at(times, T0 + timedelta(minutes=61), 3) is None


def test_counted_attempt_latest_or_best():
    tries = [Attempt(1, T0, 5.0), Attempt(2, T0 + timedelta(hours=1), 2.0),
             Attempt(3, T0 + timedelta(hours=2), None), Attempt(4, T0 + timedelta(hours=3), 5.0)]
    assert policy.counted(tries, "latest").id == 4
    assert policy.counted(tries, "best").id == 4  # a tie goes to the later one
    assert policy.counted(tries[:3], "best").id == 1
    assert policy.counted([Attempt(1, T0, None)], "latest") is None
    with pytest.raises(ValueError, match="counts: expected 'latest' or 'best', got 'first'"):
        policy.counted(tries, "first")


def test_percentile_nearest_rank():
    assert percentile([], 50) is None
    assert percentile([4.0], 95) == 4.0
    values = list(range(1, 101))
    assert (percentile(values, 50), percentile(values, 95), percentile(values, 100)) == (50, 95, 100)


def test_cutoff_and_settings_refuse_bad_values():
    assert parse_cutoff(None) is None
    assert parse_cutoff("2d").after_due == timedelta(days=2)
    assert parse_cutoff("90m").after_due == timedelta(minutes=90)
    assert parse_cutoff("2025-06-01T12:00").at == datetime(2025, 6, 1, 12, tzinfo=UTC)
    with pytest.raises(BadInput, match=r"--cutoff: expected a time after the due date .* got 'soon'"):
        parse_cutoff("soon")
    with pytest.raises(BadInput, match="--counts: expected one of latest, best, got 'first'"):
        ServeSettings(counts="first")
    with pytest.raises(BadInput, match="--attempts-per-hour: expected at least 1, got 0"):
        ServeSettings(attempts_per_hour=0)
    assert ServeSettings().host == "127.0.0.1"
    assert ServeSettings(public_url="https://grading.example.org/").url == "https://grading.example.org"
