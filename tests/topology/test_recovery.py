"""Where DRS is called (topology/recovery.py) and who may assume a role (iam/trust.py), without a world."""

from __future__ import annotations

import subprocess
import sys
from functools import cache

import pytest

from drsdoctor.iam.code_needs import CodeReading, read_code
from drsdoctor.iam.trust import principals_named, trust_allows
from drsdoctor.snapshot import Function
from drsdoctor.topology.model import Topology
from drsdoctor.topology.recovery import drs_callers, place

HOME, RECOVERY = "123456789012", "210987654321"
ROLE = f"arn:aws:iam::{RECOVERY}:role/recovery"
CALLER = f"arn:aws:iam::{HOME}:role/orchestration-role"


@cache
def xaccount_code(handler: str) -> CodeReading:
    from drsdoctor.sandbox.orchestrators.xaccount import reference_code_zip

    return read_code(reference_code_zip(), handler)


def function(name: str, kind: str, **environment: str) -> Function:
    return Function(name=name, arn=f"arn:aws:lambda:us-east-1:{HOME}:function:{name}", kind=kind,
                    role_arn=f"arn:aws:iam::{HOME}:role/{name}-role", runtime="python3.12",
                    environment=dict(environment))


def test_the_role_and_region_of_each_drs_call_are_told_from_the_code_and_the_environment() -> None:
    # any variable names do: what matters is what the code reads and what the deployment set
    starter = function("starts", "orchestration", DRS_REGION="us-east-1", DRS_ROLE_ARN=ROLE)
    poller = function("polls", "poller", DRS_REGION="eu-west-1", DRS_ROLE_ARN=ROLE)
    readings = {"starts": xaccount_code("orchestration.handler"),
                "polls": xaccount_code("execution_poller.handler")}
    callers = drs_callers([starter, poller], readings, HOME, "us-east-1", lambda _path: None, {})
    assert [(c.function, c.account, c.region, c.role, c.starts_jobs) for c in callers] == [
        ("starts", RECOVERY, "us-east-1", ROLE, True), ("polls", RECOVERY, "eu-west-1", ROLE, False)]
    assert callers[1].region_from == "DRS_REGION" and "sts:AssumeRole" in callers[0].evidence[0]
    topology = Topology()
    place(topology, callers, HOME)
    assert (topology.drs_account, topology.drs_region) == (RECOVERY, "us-east-1")  # where the jobs start
    assert topology.part(f"account/{RECOVERY}") is not None and topology.part(ROLE) is not None


def test_without_code_a_role_in_the_environment_or_the_input_names_the_recovery_account() -> None:
    by_variable = function("starts", "orchestration", TARGET="arn:aws:iam::210987654321:role/recovery")
    by_input = function("polls", "poller")
    callers = drs_callers([by_variable, by_input], {"starts": None, "polls": None}, HOME, "us-east-1",
                          lambda _path: None, {"recovery": {"roleArn": ROLE}})
    assert [(c.account, c.role) for c in callers] == [(RECOVERY, ROLE), (RECOVERY, ROLE)]
    assert "TARGET" in callers[0].evidence[0] and "input" in callers[1].evidence[0]


def test_a_function_that_never_calls_drs_is_no_caller() -> None:
    assert drs_callers([function("finder", "finder")], {"finder": None}, HOME, "us-east-1",
                       lambda _path: None, {}) == []


@pytest.mark.parametrize(("principal", "allowed"), [
    ({"AWS": f"arn:aws:iam::{HOME}:root"}, True),  # the account stands for every role in it
    ({"AWS": HOME}, True),
    ({"AWS": CALLER}, True),
    ({"AWS": "arn:aws:iam::111122223333:root"}, False),
    ({"Service": "lambda.amazonaws.com"}, False),
])
def test_a_trust_policy_names_the_caller_by_role_or_account(principal: dict[str, str], allowed: bool) -> None:
    trust = {"Version": "2012-10-17",
             "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]}
    decided = trust_allows(trust, ROLE, CALLER)
    assert decided.allowed is allowed
    assert decided.names_principal is (principal == {"AWS": CALLER})
    assert principals_named(trust) == [f"{kind}:{value}" if kind != "AWS" else value
                                       for kind, value in principal.items()]


def test_credentials_for_another_account_that_are_not_well_formed_are_bad_input() -> None:
    for option, value, said in (("--assume-role", "recovery", "is not a role ARN"),
                                ("--account-profile", "recovery", "expected ACCOUNT=PROFILE")):
        done = subprocess.run([sys.executable, "-m", "drsdoctor", "diagnose",
                               f"arn:aws:states:us-east-1:{HOME}:execution:machine:run", option, value],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and said in done.stderr and len(done.stderr.strip().splitlines()) == 1
