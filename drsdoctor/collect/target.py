"""The ARNs an operator pastes (an execution, or a state machine): checked, and taken apart into what the
collector needs."""

from __future__ import annotations

import re
from dataclasses import dataclass

from drsdoctor.errors import InputError

_ARN = re.compile(r"^arn:(?P<partition>aws[a-z-]*):(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):"
                  r"(?P<account>\d*):(?P<rest>.+)$")
EXPECTED = "arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME"
EXPECTED_MACHINE = "arn:aws:states:REGION:ACCOUNT:stateMachine:NAME"
_NAME = re.compile(r"^[^\s<>{}\[\]?*\"#%\\^|~`$&,;:/]{1,80}$")


@dataclass(frozen=True)
class ExecutionTarget:
    arn: str
    partition: str
    region: str
    account: str
    state_machine_name: str
    execution_name: str

    @property
    def state_machine_arn(self) -> str:
        return (f"arn:{self.partition}:states:{self.region}:{self.account}:"
                f"stateMachine:{self.state_machine_name}")


@dataclass(frozen=True)
class MachineTarget:
    arn: str
    partition: str
    region: str
    account: str
    name: str


def _shown(text: str, limit: int = 120) -> str:
    """The pasted text as an error message quotes it: one line, and short whatever was on the clipboard."""
    shown = repr(text[:limit])[1:-1]
    return shown + "..." if len(text) > limit else shown


def _states_arn(arn: str, noun: str, expected: str) -> tuple[re.Match[str], str, str, str]:
    """A Step Functions ARN's parts (the match, its resource kind, the rest, the ARN as shown), or
    InputError when it is not an ARN, or another service's."""
    arn = arn.strip()  # pasted with a space or a newline around it: the ARN is what is inside
    if any(ord(char) < 32 or 127 <= ord(char) < 160 for char in arn):
        raise InputError(f"'{_shown(arn)}' holds control characters: not an ARN (expected {expected})")
    match = _ARN.match(arn)
    if not match:
        raise InputError(f"not an ARN: '{_shown(arn)}' (expected {expected})")
    shown = _shown(arn)
    if match["service"] != "states":
        raise InputError(f"{shown} is a {_shown(match['service'], 40)} ARN, not a Step Functions {noun} ARN")
    kind, _, rest = match["rest"].partition(":")
    return match, kind, rest, shown


def parse_state_machine_arn(arn: str) -> MachineTarget:
    """A state machine ARN, or InputError saying what is wrong with it (exit 2)."""
    match, kind, name, shown = _states_arn(arn, "state machine", EXPECTED_MACHINE)
    if kind != "stateMachine":
        what = _shown(kind, 40) or "resource"
        raise InputError(f"{shown} is a Step Functions {what} ARN, not a state machine ARN "
                         f"({EXPECTED_MACHINE})")
    if not match["region"] or not match["account"] or not _NAME.match(name):
        raise InputError(f"malformed state machine ARN: {shown} (expected {EXPECTED_MACHINE})")
    return MachineTarget(match.group(0), match["partition"], match["region"], match["account"], name)


def parse_execution_arn(arn: str) -> ExecutionTarget:
    """An execution ARN, or InputError saying what is wrong with it (exit 2)."""
    match, kind, rest, shown = _states_arn(arn, "execution", EXPECTED)
    if kind == "express":
        raise InputError(f"{shown} is an EXPRESS execution: EXPRESS state machines keep no execution history "
                         "to diagnose (look in the machine's CloudWatch log group instead)")
    if kind != "execution":
        what = _shown(kind, 40) or "resource"
        raise InputError(f"{shown} is a Step Functions {what} ARN, not an execution ARN ({EXPECTED})")
    machine, _, name = rest.partition(":")
    if not match["region"] or not match["account"] or not _NAME.match(machine) or not _NAME.match(name):
        raise InputError(f"malformed execution ARN: {shown} (expected {EXPECTED})")
    return ExecutionTarget(match.group(0), match["partition"], match["region"], match["account"], machine,
                           name)
