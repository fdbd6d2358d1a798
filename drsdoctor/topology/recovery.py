"""Where DRS is called: for each function that calls it, the account, the region and the role it calls DRS
with, each with its evidence. Not assumed to be the state machine's account and region.

- From the code (drsdoctor.iam.code_needs): the DRS calls, the region their client is made for
  (`region_name`), and the role whose credentials they use (sts:AssumeRole's RoleArn), each told from the
  function's environment as deployed or from this execution's input.
- Without code: a role ARN, an account id or a region among the function's environment values, or a role ARN
  in the execution's input.
- The jobs run where the function that starts them (drs:StartRecovery) calls DRS: that account and region
  are where drsdoctor reads the jobs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from drsdoctor.snapshot import Function
from drsdoctor.topology.model import DrsCaller, Topology
from drsdoctor.topology.values import REGION, Known, resolve

Event = Callable[[tuple[str, ...]], "str | None"]
STARTS = ("drs:StartRecovery",)
POLLS = ("drs:DescribeJobs", "drs:DescribeJobLogItems")
DRS_KINDS = ("orchestration", "poller")  # without code, the kinds of function that call DRS


def account_of(arn: str) -> str:
    return "".join(arn.split(":")[4:5])


def drs_callers(functions: list[Function], readings: Mapping[str, Any], home_account: str,
                home_region: str, event: Event, execution_input: dict[str, Any]) -> list[DrsCaller]:
    """Each function that calls DRS and where. `readings`: function name -> its CodeReading (None: the code
    could not be read); `event`: a text at a path of this execution's input."""
    from drsdoctor.iam.code_needs import told

    callers = []
    for item in functions:
        reading = readings.get(item.name)
        if reading is not None:
            caller = _from_code(item, reading, event, told)
        elif item.kind in DRS_KINDS:
            caller = _from_environment(item, execution_input)
        else:
            continue
        if caller is None:
            continue
        if not caller.region:
            caller.region = home_region
            caller.evidence.append(f"{item.name} names no DRS region: the region of the state machine")
        if not caller.account:
            caller.account = account_of(caller.role) if caller.role else home_account
        callers.append(caller)
    return callers


def _from_code(item: Function, reading: Any, event: Event, told: Any) -> DrsCaller | None:
    needs = [need for need in reading.needs if need.action.startswith("drs:") and not need.follow_on]
    if not needs:
        return None
    caller = DrsCaller(item.name, starts_jobs=any(need.action in STARTS for need in needs),
                       polls_jobs=any(need.action in POLLS for need in needs))
    for need in needs:
        if need.assumed and not caller.role:
            role = told(need.role, item.environment, event)
            if role and role.startswith("arn:"):
                caller.role = role
                caller.evidence.append(f"{item.name}'s code calls {need.action} with the credentials of "
                                       f"sts:AssumeRole on {role} ({need.where[0]})")
            elif not role:
                caller.evidence.append(f"{item.name}'s code calls {need.action} with an assumed role whose "
                                       f"ARN could not be told ({need.where[0]})")
        region = told(need.region, item.environment, event)
        if region and REGION.match(region) and not caller.region:
            caller.region = region
            caller.region_from = getattr(need.region, "name", "")
            caller.evidence.append(f"{item.name}'s code makes its DRS client for region {region} "
                                   f"({need.where[0]})")
    return caller


def _from_environment(item: Function, execution_input: dict[str, Any]) -> DrsCaller:
    """Without the code: its kind says it calls DRS; its environment (or the input) may say where."""
    caller = DrsCaller(item.name, starts_jobs=item.kind == "orchestration", polls_jobs=item.kind == "poller")
    known = Known()
    named = {variable: resolve(value, known) for variable, value in sorted(item.environment.items())}
    roles = [(variable, found.value) for variable, found in named.items() if found and found.kind == "role"]
    regions = {found.value for found in named.values() if found and found.kind == "region"}
    accounts = [(variable, found.value) for variable, found in named.items()
                if found and found.kind == "account"]
    if len(roles) == 1:
        caller.role = roles[0][1]
        caller.evidence.append(f"{item.name}'s variable {roles[0][0]} names role {roles[0][1]} (its code "
                               "could not be read: taken as the role it calls DRS with)")
    elif not roles and (found := _input_roles(execution_input)):
        caller.role = found[0]
        caller.evidence.append(f"the execution's input names role {found[0]}")
    if len(regions) == 1:
        caller.region = next(iter(regions))
        caller.region_from = next(variable for variable, found in named.items()
                                  if found and found.kind == "region")
        caller.evidence.append(f"{item.name}'s environment names region {caller.region}")
    if not caller.role and len(accounts) == 1:
        caller.account = accounts[0][1]
        caller.evidence.append(f"{item.name}'s variable {accounts[0][0]} names account {accounts[0][1]}")
    return caller


def _input_roles(document: Any) -> list[str]:
    found: list[str] = []
    if isinstance(document, dict):
        for value in document.values():
            found += _input_roles(value)
    elif isinstance(document, list):
        for value in document:
            found += _input_roles(value)
    elif isinstance(document, str) and document.startswith("arn:") and ":role/" in document:
        found.append(document)
    return list(dict.fromkeys(found))


def place(topology: Topology, callers: list[DrsCaller], home_account: str) -> None:
    """The callers in the topology: DRS's account and region are where the jobs are started (else where
    they are asked about), each account and assumed role a part with its evidence."""
    topology.drs_callers = callers
    starter = next((caller for caller in callers if caller.starts_jobs), None) or next(iter(callers), None)
    if starter is None:
        return
    topology.drs_region = starter.region or topology.drs_region
    topology.drs_account = starter.account if starter.account != home_account else ""
    for caller in callers:
        source = next((part.id for part in topology.parts_of("function") if part.name == caller.function),
                      caller.function)
        evidence = "; ".join(caller.evidence) or f"{caller.function} calls DRS"
        if caller.role:
            topology.add(caller.role, "role", evidence, caller.role.rsplit("/", 1)[-1])
            topology.connect(source, caller.role, "assumes", evidence)
        if caller.account and caller.account != home_account:
            topology.add(f"account/{caller.account}", "account", evidence, caller.account)
            topology.connect(source, f"account/{caller.account}", "calls-drs-in", evidence)


def input_document(text: str | None) -> dict[str, Any]:
    try:
        found = json.loads(text) if text else {}
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}

