"""JSONata definitions run in the sandbox: moto parses them but has no evaluator; motojsonata gives it one."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
from moto import mock_aws

from drsdoctor.sandbox import motojsonata, motopatch

# A loop kept in variables: Assign (from $states.input and $states.result), a Parallel's Arguments, Output,
# and a Choice Condition that reads a variable, as a JSONata orchestrator uses them.
LOOP = {
    "QueryLanguage": "JSONata",
    "StartAt": "Begin",
    "States": {
        "Begin": {"Type": "Pass", "Assign": {"turns": 0, "limit": "{% $states.input.limit %}"},
                  "Next": "Turn"},
        "Turn": {"Type": "Parallel", "Arguments": {"turn": "{% $turns + 1 %}"},
                 "Branches": [{"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}}],
                 "Assign": {"turns": "{% $states.result[0].turn %}"},
                 "Output": "{% {'echoed': $states.result[0].turn} %}", "Next": "Again"},
        "Again": {"Type": "Choice", "Choices": [{"Condition": "{% $turns < $limit %}", "Next": "Turn"}],
                  "Default": "Done"},
        "Done": {"Type": "Pass", "Output": "{% {'turns': $turns, 'last': $states.input.echoed} %}",
                 "End": True},
    },
}


def run_loop(limit: Any) -> dict[str, Any]:
    """Run the loop to its end in moto's executing Step Functions; the execution as DescribeExecution says."""
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        machine = sfn.create_state_machine(name="loop", definition=json.dumps(LOOP),
                                           roleArn="arn:aws:iam::123456789012:role/loop")["stateMachineArn"]
        arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"limit": limit}))["executionArn"]
        deadline = time.monotonic() + 20
        while True:  # moto runs the execution in a thread of its own, on the wall clock: no clock to advance
            execution = sfn.describe_execution(executionArn=arn)
            if execution["status"] != "RUNNING" or time.monotonic() > deadline:
                return dict(execution)
            time.sleep(0.02)


def test_a_jsonata_loop_runs_to_its_end_with_the_evaluator() -> None:
    motojsonata.install(motopatch._replace)
    try:
        execution = run_loop(limit=3)
    finally:
        motopatch.uninstall()
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    assert json.loads(execution["output"]) == {"turns": 3, "last": 3}


def test_plain_moto_fails_the_same_loop() -> None:
    execution = run_loop(limit=3)
    assert execution["status"] == "FAILED"
    assert "NoneType" in execution["cause"]  # moto's unset evaluator, called


def test_an_expression_that_cannot_evaluate_fails_the_execution_with_the_library_s_reason() -> None:
    motojsonata.install(motopatch._replace)
    try:
        execution = run_loop(limit="three")  # $turns < "three": a type error
    finally:
        motopatch.uninstall()
    assert execution["status"] == "FAILED"
    assert "QueryEvaluationError" in execution["cause"]
    assert "must be of the same data type" in execution["cause"]
