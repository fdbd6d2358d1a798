"""The second orchestrator, selfpoll, deploys into the sandbox, recovers a plan, and breaks as its faults say.

One world serves the module: each test injects its fault through the AWS APIs, runs the plan until it ends or
is visibly stuck, checks the symptom an operator would see, then repairs the fault through the same APIs.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from drsdoctor.sandbox import orchestrators
from drsdoctor.sandbox.orchestrators import selfpoll
from drsdoctor.sandbox.world import Outcome, Sandbox

pytestmark = pytest.mark.slow

# A wave's job changes at least every 40 simulated seconds and the machine probes it every 30: three
# quiet minutes is already a loop (the world's default of six is for the reference's slower backoff).
STUCK_AFTER = 3 * 60
# A run that must end (SUCCEEDED or FAILED) is waited for to its end: on a starved machine the engine can
# pause for seconds while the clock runs on, and that is not the loop a stuck run is.
UNTIL_IT_ENDS = 10.0**9
# Twice the world's default pace: functions hold the clock while they run, so nothing is skipped.
SPEED = 1200.0


@pytest.fixture(scope="module")
def world() -> Iterator[Sandbox]:
    with Sandbox.start(orchestrator="selfpoll", speed=SPEED) as running:
        yield running


def run_with(world: Sandbox, fault: str | None) -> tuple[Outcome, list[dict[str, Any]]]:
    """Inject (unless None), run the first plan until settled, repair; the outcome and the history."""
    if fault:
        world.inject(fault)
    try:
        arn = world.start_recovery()
        loops = fault is not None and world.orchestrator.fault(fault).symptom == "STUCK"
        outcome = world.run_until_settled(arn, stuck_after=STUCK_AFTER if loops else UNTIL_IT_ENDS)
        for _ in range(3):  # a starved engine can look stuck before DRS has launched the wave it loops on
            if outcome.status != "STUCK" or "LAUNCHED" in outcome.wave_statuses:
                break
            outcome = world.run_until_settled(arn, stuck_after=STUCK_AFTER)
        sfn = world.client("stepfunctions")
        events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        if outcome.status == "STUCK":
            sfn.stop_execution(executionArn=arn, cause="test over")
            # An operator closing the run: the mirror must not keep mirroring a dead execution.
            world.client("dynamodb").update_item(
                TableName=world.names["table:execution-history"],
                Key={"RunName": {"S": selfpoll.run_name(arn)}, "Entry": {"S": "RUN"}},
                UpdateExpression="SET RunStatus = :aborted",
                ExpressionAttributeValues={":aborted": {"S": "ABORTED"}})
        return outcome, events
    finally:
        world.repair()


def variables(template: dict[str, Any]) -> set[str]:
    return {name for resource in template["Resources"].values() if resource["Type"] == "AWS::Lambda::Function"
            for name in resource["Properties"].get("Environment", {}).get("Variables", {})}


def test_its_environment_variables_share_no_word_with_the_reference_s() -> None:
    from cfn_tools import load_yaml

    from drsdoctor import reference

    ours = variables(dict(load_yaml(selfpoll.template_text("functions.yaml"))))
    theirs = variables(reference.template())
    assert ours and theirs
    assert not {w for name in ours for w in name.split("_")} & {w for name in theirs for w in name.split("_")}


def entered(events: list[dict[str, Any]], state: str) -> int:
    return sum(1 for event in events if event.get("stateEnteredEventDetails", {}).get("name") == state)


def test_list_faults_names_selfpoll_s_own_catalogue() -> None:
    done = subprocess.run([sys.executable, "-m", "drsdoctor", "demo", "--list-faults", "--orchestrator",
                           "selfpoll"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert [line.split()[0] for line in done.stdout.splitlines()] == [
        "server-launch-failure", "orchestrator-missing-follow-on", "probe-missing-drs-describe",
        "probe-import-failure", "probe-choice-drift", "mirror-schedule-disabled"]
    assert "selfpoll" in orchestrators.listing()


def test_a_healthy_recovery_succeeds_polled_by_the_state_machine_itself(world: Sandbox) -> None:
    outcome, events = run_with(world, None)
    assert outcome.status == "SUCCEEDED", outcome
    record = outcome.record
    assert record is not None and record["RunStatus"] == "SUCCEEDED"
    assert [wave["WaveName"] for wave in record["Waves"]] == ["database", "app", "web"]
    # the loop is the machine's: it waited and probed each wave until its job completed
    assert entered(events, "Settle") >= 3 and entered(events, "Probe") == entered(events, "Settle")
    job_ids = [wave["JobId"] for wave in record["Waves"]]
    jobs = world.client("drs").describe_jobs(filters={"jobIDs": job_ids})["items"]
    assert all(s["launchStatus"] == "LAUNCHED" for job in jobs for s in job["participatingServers"])


def test_the_mirror_schedule_disabled_leaves_the_ui_behind_but_the_recovery_succeeds(world: Sandbox) -> None:
    outcome, _ = run_with(world, "mirror-schedule-disabled")
    assert outcome.status == "SUCCEEDED", outcome
    assert outcome.record is not None and outcome.record["RunStatus"] == "SUCCEEDED"
    assert outcome.wave_statuses == ["LAUNCHING", "LAUNCHING", "LAUNCHING"]  # never mirrored


def test_a_drifted_judge_literal_loops_on_a_launched_wave(world: Sandbox) -> None:
    outcome, events = run_with(world, "probe-choice-drift")
    assert outcome.status == "STUCK", outcome
    assert outcome.record is not None and outcome.record["CurrentWave"] == 1
    first_job = outcome.record["Waves"][0]["JobId"]
    jobs = world.client("drs").describe_jobs(filters={"jobIDs": [first_job]})["items"]
    assert jobs[0]["status"] == "COMPLETED"  # DRS finished the wave; the machine kept probing it
    judged = [event["stateEnteredEventDetails"]["input"].replace(" ", "") for event in events
              if event["type"] == "ChoiceStateEntered"]
    assert len([text for text in judged if '"Phase":"LAUNCHED"' in text]) >= 2  # judged launched, again
    assert entered(events, "NextWave") == 0


@pytest.mark.parametrize(("fault", "failure"), [
    ("probe-missing-drs-describe", "drs:DescribeJobs"),
    ("probe-import-failure", "RECOVERY_ZONE"),
    ("orchestrator-missing-follow-on", "WaveBroken"),
])
def test_a_broken_probe_or_launcher_fails_the_run_with_its_reason(world: Sandbox, fault: str,
                                                                  failure: str) -> None:
    outcome, _ = run_with(world, fault)
    assert outcome.status == "FAILED", outcome
    assert outcome.record is not None and outcome.record["RunStatus"] == "FAILED"
    assert outcome.record["CurrentWave"] == 1
    assert failure in outcome.record["Failure"], outcome.record


def test_a_server_that_cannot_launch_fails_its_wave(world: Sandbox) -> None:
    outcome, _ = run_with(world, "server-launch-failure")
    assert outcome.status == "FAILED", outcome
    assert outcome.record is not None and outcome.record["CurrentWave"] == 2  # the app wave, app-2's
    assert world.plans[0].server_of("app-2") in outcome.record["Failure"]
