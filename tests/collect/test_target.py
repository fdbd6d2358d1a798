"""The execution ARN an operator pastes: accepted, or refused with a one-line reason."""

from __future__ import annotations

import pytest

from drsdoctor.collect.target import parse_execution_arn
from drsdoctor.errors import InputError


def test_an_execution_arn_is_taken_apart() -> None:
    target = parse_execution_arn(" arn:aws:states:eu-west-2:123456789012:execution:orch-dev-recovery:run-1\n")
    assert (target.region, target.account, target.execution_name) == ("eu-west-2", "123456789012", "run-1")
    assert target.state_machine_arn == "arn:aws:states:eu-west-2:123456789012:stateMachine:orch-dev-recovery"


@pytest.mark.parametrize(("arn", "says"), [
    ("not-an-arn", "not an ARN"),
    ("", "not an ARN"),
    ("arn:aws:lambda:eu-west-1:123456789012:function:poller", "is a lambda ARN"),
    ("arn:aws:states:eu-west-1:123456789012:stateMachine:orch-dev-recovery", "not an execution ARN"),
    ("arn:aws:states:eu-west-1:123456789012:express:orch-dev-recovery:run-1:abc", "EXPRESS"),
    ("arn:aws:states::123456789012:execution:orch-dev-recovery:run-1", "malformed"),
    ("arn:aws:states:eu-west-1:123456789012:execution:orch-dev-recovery", "malformed"),
    ("arn:aws:states:eu-west-1:123456789012:execution:orch dev:run-1", "malformed"),
])
def test_a_bad_arn_is_one_line_of_bad_input(arn: str, says: str) -> None:
    with pytest.raises(InputError) as raised:
        parse_execution_arn(arn)
    assert says in str(raised.value) and "\n" not in str(raised.value)
    assert raised.value.exit_code == 2
