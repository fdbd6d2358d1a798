"""The Snapshot: bundles round-trip exactly, lookups find what checks need, facts declare their actions."""

from __future__ import annotations

import json
import sys
from datetime import timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parents[1] / "checks"))
from builders import EXEC_ARN, fn_arn, healthy, stuck

from drsdoctor.errors import InputError
from drsdoctor.snapshot import (
    BUNDLE_SCHEMA,
    FactError,
    Function,
    History,
    HistoryEvent,
    JobLogItem,
    Snapshot,
    fact_actions,
)


@pytest.mark.parametrize("build", [healthy, stuck])
def test_a_bundle_round_trips_exactly(build, tmp_path: Path) -> None:
    snap = build()
    snap.fact_errors.append(FactError("functions", "lambda:GetPolicy", "AccessDeniedException",
                                      "drs-execution-finder", "denied", "lambda:GetPolicy"))
    path = tmp_path / "bundle.json"
    snap.save(path)
    assert json.loads(path.read_text())["schema"] == BUNDLE_SCHEMA
    assert Snapshot.load(path) == snap
    assert Snapshot.load(path).to_json() == snap.to_json()


def test_loading_a_bundle_keeps_datetimes_timezone_aware() -> None:
    loaded = Snapshot.from_json(stuck().to_json())
    assert loaded.collected_at is not None and loaded.collected_at.tzinfo is not None
    assert loaded.history is not None and loaded.history.events[0].timestamp.tzinfo is not None


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "is not valid"),
    ('{"schema": "something/else", "target": "x"}', "not a drsdoctor bundle"),
    (json.dumps({"schema": BUNDLE_SCHEMA, "target": "x", "functions": "oops"}), "expected list"),
])
def test_a_bad_bundle_is_one_line_of_input_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message) as raised:
        Snapshot.load(path)
    assert "\n" not in str(raised.value)


def test_a_missing_bundle_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read bundle"):
        Snapshot.load(tmp_path / "nope.json")


def test_unknown_fields_from_a_newer_collector_are_ignored() -> None:
    data = healthy().to_dict()
    data["future_fact"] = {"x": 1}
    data["functions"][0]["future_field"] = 1
    assert Snapshot.from_dict(data).functions[0].name == "drs-orchestration"


def test_rules_targeting_matches_qualified_target_arns_and_names() -> None:
    snap = healthy()
    snap.rules[0].targets[0].arn = fn_arn("drs-execution-finder") + ":live"
    assert [r.name for r in snap.rules_targeting("drs-execution-finder")] == ["drs-execution-finder-schedule"]
    assert snap.rules_targeting(snap.functions_of_kind("poller")) == []


def test_missing_finds_whole_fact_errors_and_per_resource_errors() -> None:
    snap = healthy(fact_errors=[FactError("functions", "lambda:GetPolicy", "AccessDenied",
                                          "drs-execution-finder"),
                                FactError("execution", "states:DescribeExecution", "AccessDenied")])
    assert snap.missing("functions", "drs-execution-finder") is not None
    assert snap.missing("functions", "drs-orchestration") is None
    assert snap.missing("execution", EXEC_ARN) is not None
    assert snap.missing("rules") is None


def test_every_fact_declares_read_only_actions() -> None:
    declared = fact_actions()
    wanted = {"execution", "history", "functions", "rules", "tables", "drs_jobs", "role_decisions"}
    assert wanted <= set(declared)
    verbs = ("Describe", "Get", "List", "Query", "Filter", "Simulate")
    for fact, actions in declared.items():
        assert actions, fact
        for action in actions:
            service, operation = action.split(":")
            # the one exception: reaching DRS in a recovery account (issue 14); its sessions stay read-only
            assert service and (operation.startswith(verbs) or action == "sts:AssumeRole"), action


def _json_values() -> st.SearchStrategy[object]:
    scalars = st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.text(max_size=8)
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)


aware = st.datetimes(timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=-5))]))


@settings(max_examples=60, deadline=None)
@given(
    functions=st.lists(st.builds(Function, name=st.text(min_size=1, max_size=10),
                                 environment=st.dictionaries(st.text(max_size=6), st.text(max_size=6)),
                                 last_invocation=st.none() | aware,
                                 reserved_concurrency=st.none() | st.integers(0, 1000)), max_size=3),
    events=st.lists(st.builds(HistoryEvent, id=st.integers(1, 25_000), type=st.text(max_size=12),
                              timestamp=aware, details=st.dictionaries(st.text(max_size=6), _json_values(),
                                                                       max_size=3)), max_size=4),
    logs=st.dictionaries(st.text(max_size=6), st.lists(st.builds(
        JobLogItem, event=st.text(max_size=8), time=st.none() | aware,
        details=st.dictionaries(st.text(max_size=6), _json_values(), max_size=2)), max_size=2), max_size=2),
)
def test_any_snapshot_round_trips_exactly(functions, events, logs) -> None:
    snap = Snapshot(target="arn:x", functions=functions, history=History(events=events, complete=False),
                    job_log_items=logs)
    assert Snapshot.from_json(snap.to_json()) == snap
