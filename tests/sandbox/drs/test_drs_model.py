"""The model on its own, as the sandbox drives it: seeding, ids, and the clock."""

from __future__ import annotations

import re

import pytest

from drsdoctor.sandbox.drs.model import DrsModel


def ids_of_a_run(clock, seed):
    model = DrsModel(now=clock, seed=seed)
    servers = [model.add_source_server(name).source_server_id for name in ("db01", "app01")]
    job = model.start_recovery(servers)
    clock.advance(600)
    model.advance()
    return [*servers, job.job_id, *(p.recovery_instance_id for p in job.servers)]


def test_a_seed_repeats_every_id(clock):
    first, again = ids_of_a_run(clock, seed=42), ids_of_a_run(clock, seed=42)
    assert first == again
    assert first != ids_of_a_run(clock, seed=43)
    assert [bool(re.fullmatch(r"(s|drsjob|i)-[0-9a-f]{17}", value)) for value in first] == [True] * 5


@pytest.mark.parametrize(("call", "message"), [
    (lambda m: m.add_source_server("db01", replication="BROKEN"), "replication must be one of"),
    (lambda m: m.set_outcome(m.add_source_server("db01").source_server_id, "EXPLODED"), "outcome must be"),
    (lambda m: m.set_outcome("s-00000000000000000", "FAILED"), "no source server"),
])
def test_seeding_mistakes_are_named(model, call, message):
    with pytest.raises((ValueError, KeyError), match=message):
        call(model)


def test_nothing_moves_until_the_clock_does(model, clock):
    server = model.add_source_server("db01")
    job = model.start_recovery([server.source_server_id])
    model.advance()
    assert (job.status, job.log) == ("PENDING", [])
    clock.advance(5)
    model.advance()
    assert job.status == "STARTED"


def history(clock, step_seconds):
    """Two waves and a terminate, read after the clock moved in steps of `step_seconds`."""
    model = DrsModel(now=clock, seed=7)
    db, web = model.add_source_server("db01"), model.add_source_server("web01")
    app = model.add_source_server("app01", replication="STALLED")
    first = model.start_recovery([db.source_server_id, web.source_server_id])
    clock.advance(300)
    model.advance()
    second = model.start_recovery([db.source_server_id, app.source_server_id])  # replaces db's instance
    clock.advance(40)
    model.advance()
    gone = model.terminate_recovery_instances([first.servers[1].recovery_instance_id or ""])
    for _ in range(int(900 / step_seconds)):
        clock.advance(step_seconds)
        model.advance()
    return [(job.job_id, job.status, job.ended_at, [(item.at, item.event) for item in job.log],
             [p.launch_status for p in job.servers]) for job in (first, second, gone)]


def test_one_big_clock_jump_writes_the_same_history_as_small_steps(clock):
    from copy import copy

    assert history(copy(clock), 900) == history(copy(clock), 5)
