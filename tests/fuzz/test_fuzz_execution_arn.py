"""Fuzzing the execution-ARN parser: any text gives an ExecutionTarget that rebuilds the ARN exactly, or an
InputError of one short line (an operator pastes whatever is on the clipboard)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from drsdoctor.collect.target import parse_execution_arn
from drsdoctor.errors import InputError

from .mutations import DEEP, TOKENS, mutated

REAL_ARNS = [
    "arn:aws:states:us-east-1:123456789012:execution:drs-orchestrator:exec-1",
    "arn:aws-us-gov:states:us-gov-west-1:123456789012:execution:orch-prod:2026-01-08T10.40_run",
    "arn:aws-cn:states:cn-north-1:123456789012:execution:orch:7b1c0f3e-5d2a-4c1b-9f0e-0123456789ab",
    "arn:aws:states:eu-west-2:123456789012:express:orch-dev-recovery:run-1:abc",
    "arn:aws:states:eu-west-2:123456789012:stateMachine:orch-dev-recovery",
    "arn:aws:lambda:eu-west-2:123456789012:function:drs-execution-poller",
]
LONGEST_MESSAGE = 400
NAME = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."),
               min_size=1, max_size=80)


def parsed_or_one_line_error(text: str) -> None:
    try:
        target = parse_execution_arn(text)
    except InputError as error:
        message = str(error)
        assert message and "\n" not in message and "\r" not in message, message
        assert len(message) <= LONGEST_MESSAGE, len(message)
        return
    rebuilt = (f"arn:{target.partition}:states:{target.region}:{target.account}:execution:"
               f"{target.state_machine_name}:{target.execution_name}")
    assert rebuilt == target.arn == text.strip()
    assert target.state_machine_arn.startswith(f"arn:{target.partition}:states:{target.region}:")


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200) | DEEP)
def test_any_text_is_an_execution_or_one_line_of_bad_input(text: str) -> None:
    parsed_or_one_line_error(text)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(REAL_ARNS).flatmap(mutated))
def test_a_mistyped_arn_is_an_execution_or_one_line_of_bad_input(text: str) -> None:
    parsed_or_one_line_error(text)


@settings(max_examples=100, deadline=None)
@given(st.lists(TOKENS | st.sampled_from(["arn", "aws", "states", "execution", "us-east-1", "123456789012"]),
                max_size=12).map(":".join))
def test_arn_shaped_words_are_an_execution_or_one_line_of_bad_input(text: str) -> None:
    parsed_or_one_line_error(text)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["aws", "aws-cn", "aws-us-gov"]),
       st.from_regex(r"[a-z]{2}(-gov)?-[a-z]{4,9}-[1-9]", fullmatch=True),
       st.from_regex(r"[0-9]{12}", fullmatch=True), NAME, NAME)
def test_every_well_formed_execution_arn_is_taken_apart(partition: str, region: str, account: str,
                                                         machine: str, name: str) -> None:
    arn = f"arn:{partition}:states:{region}:{account}:execution:{machine}:{name}"
    target = parse_execution_arn(arn)
    assert (target.partition, target.region, target.account) == (partition, region, account)
    assert (target.state_machine_name, target.execution_name) == (machine, name)
    assert target.state_machine_arn == f"arn:{partition}:states:{region}:{account}:stateMachine:{machine}"
