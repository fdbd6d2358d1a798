"""SFN005: the deployed state machine definition matches the working one: the reference orchestrator (when
the deployment is recognisably the reference: the same state names) and its own stack's template.

ARNs and ${...} substitutions are compared as "a reference to something": the deployed definition has
real ARNs where the template has ${OrchestrationFunction.Arn}, and that is no drift.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from drsdoctor.checks._known_good import NoDefinition, known_good_definition

from drsdoctor.cache import computed_once
from drsdoctor.checkapi import (
    CAUSE,
    EXECUTION_FAILED,
    EXECUTION_STUCK,
    HIGH,
    TASK_FAILING,
    Finding,
    check,
    error,
    fail,
    passed,
    skip,
)
from drsdoctor.fixes import FixFile, Remedy, command, file_arg, remedy, safe_file_name
from drsdoctor.secrets import Scrubber
from drsdoctor.snapshot import Snapshot

SAME_SHAPE = 0.5  # share of state names in common for a definition to be "the reference"
_REF = "<ref>"


@check(id="SFN005", service="states", severity=HIGH, layer=CAUSE, plan_step="definition",
       title="The deployed state machine definition matches the working reference and its template",
       remediation="aws stepfunctions update-state-machine --state-machine-arn {state_machine} "
                   "--definition file://drsdoctor-fixes/{name}.asl.json (its own template's definition)",
       reads=("state_machine",))  # the stack is optional: without it the reference still compares
def definition_drift(snap: Snapshot) -> Iterator[Finding]:
    machine = snap.state_machine
    if machine is None or not machine.definition:
        yield skip(snap.target, "no state machine definition")
        return
    try:
        deployed = _parsed(machine.definition)
    except Exception as bad:
        yield error(machine.arn, f"the deployed definition cannot be read: {bad}")
        return
    baselines = [("reference", _reference_definition()), ("its stack's template", _stack_definition(snap))]
    unread = snap.missing("stack")
    if unread is not None and (snap.stack is None or not snap.stack.template):
        yield error(machine.arn, f"its stack's template could not be read: {unread.describe()}")
    compared, drifts, template_matches = False, [], False
    for label, expected in baselines:
        if expected is None:
            continue
        try:
            baseline_text = json.dumps(expected, sort_keys=True, default=str)
            baseline = _parsed(baseline_text)
        except Exception:  # a template we cannot read is no baseline; the other one may still be
            continue
        common = set(baseline.states) & set(deployed.states)
        every = set(baseline.states) | set(deployed.states)
        if label == "reference" and len(common) < SAME_SHAPE * len(every):
            continue  # not built from the reference: comparing would only list every state
        compared = True
        changes = _changes(baseline_text, _masked_text(baseline_text, machine.definition))
        if not changes:
            template_matches = template_matches or label != "reference"
            yield passed(machine.arn, f"the definition matches {label}")
            continue
        drifts.append((label, changes))
    fix = _fix(snap, template_matches) if drifts else None
    for label, changes in drifts:
        yield fail(machine.arn, f"the definition differs from {label}: {changes[0].summary}"
                                + (f" (+{len(changes) - 1} more)" if len(changes) > 1 else ""),
                   evidence=[f"{c.path}: {c.summary}" for c in changes[:10]],
                   explains=(EXECUTION_STUCK, EXECUTION_FAILED, TASK_FAILING), fix=fix)
    if not compared:
        yield skip(machine.arn, "no baseline: not the reference's states, and no stack template")


def _fix(snap: Snapshot, template_matches: bool) -> Remedy:
    """The state machine's own template's definition put back (never the reference's: the deployment's
    template is what it should run); when that template already holds the change, the change is the
    template's and the fix is to the template."""
    machine, stack = snap.state_machine, snap.stack
    assert machine is not None
    if template_matches and stack is not None:
        return remedy(command("drsdoctor", "diff-stacks", "reference", stack.name),
                      note=f"stack {stack.name}'s own template has this definition: correct the template "
                           "where the command shows it differs, then redeploy the stack")
    name = safe_file_name(machine.name or machine.arn.rsplit(":", 1)[-1]) + ".asl.json"
    update = command("aws", "stepfunctions", "update-state-machine", "--state-machine-arn", machine.arn,
                     "--definition", file_arg(name))
    try:
        if stack is None or not stack.template:
            raise NoDefinition("its stack's template was not read")
        logical = next((r.logical_id for r in stack.resources if r.physical_id == machine.arn), None)
        text = known_good_definition(snap, _template_body(stack.template, stack.name), logical)
        if Scrubber.of_snapshot(snap).text(text) != text:
            raise NoDefinition("it holds a secret-looking value, which drsdoctor does not write")
    except NoDefinition as why:
        return remedy(update, note=f"the file is the definition in the template that deployed "
                                   f"{machine.name}; drsdoctor could not write it: {why}")
    resource = logical or "its state machine"
    return remedy(update, files=[FixFile(name, text)],
                  note=f"the file holds the definition in stack {stack.name}'s template ({resource}), with "
                       "this deployment's values")


@computed_once(maxsize=1)  # the shipped reference: parsed once a run, not once per execution diagnosed
def _reference_definition() -> Any:
    try:
        from drsdoctor.reference import template

        return _definition_in(template(), None)
    except Exception:  # the reference is optional for this check
        return None


def _stack_definition(snap: Snapshot) -> Any:
    if snap.stack is None or not snap.stack.template:
        return None
    try:
        body = _template_body(snap.stack.template, snap.stack.name)
    except Exception:
        return None
    machine_arn = snap.state_machine.arn if snap.state_machine else ""
    logical = next((r.logical_id for r in snap.stack.resources if r.physical_id == machine_arn), None)
    return _definition_in(body, logical)


@computed_once(maxsize=8)  # `diagnose --running`: every execution of one machine has the same stack template
def _template_body(text: str, stack_name: str) -> dict[str, Any]:
    from drsdoctor.diff.loader import load_deployed_template

    return load_deployed_template(text, f"stack {stack_name}")


def _definition_in(template: Mapping[str, Any], logical_id: str | None) -> Any:
    resources = template.get("Resources") or {}
    machines = [(name, body) for name, body in resources.items()
                if isinstance(body, Mapping) and body.get("Type") == "AWS::StepFunctions::StateMachine"]
    if logical_id:
        machines = [item for item in machines if item[0] == logical_id] or machines
    if len(machines) != 1:
        return None
    properties = machines[0][1].get("Properties") or {}
    if isinstance(properties.get("Definition"), Mapping):
        return properties["Definition"]
    text = _text_of(properties.get("DefinitionString"))
    return json.loads(text) if text else None


def _text_of(value: Any) -> str | None:
    """The JSON text of a DefinitionString: plain, !Sub (string or [string, map]) or !Join."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return sub if isinstance(sub, str) else (sub[0] if sub and isinstance(sub[0], str) else None)
    if isinstance(value, Mapping) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(part if isinstance(part, str) else _REF for part in parts)
    return None


@computed_once(maxsize=16)  # every execution of a machine compares the same two definitions
def _changes(baseline: str, deployed: str) -> list[Any]:
    """The high and medium risk changes from one definition's text to another's."""
    from drsdoctor.asl import diff_definitions

    return [c for c in diff_definitions(_parsed(baseline), _parsed(deployed)) if c.risk in ("high", "medium")]


@computed_once(maxsize=16)
def _parsed(definition: str) -> Any:
    """A definition's JSON text, normalised and parsed: once for every execution of a machine."""
    from drsdoctor.asl import parse_definition

    return parse_definition(_normalise(json.loads(definition)))


@computed_once(maxsize=16)
def _masked_text(baseline: str, deployed: str) -> str:
    """The deployed definition with each value the template writes as an intrinsic (a !Ref, a !Sub) taken as
    that same token: the deployed value is what the intrinsic resolved to, not a change."""
    try:
        return json.dumps(_masked(_normalise(json.loads(baseline)), json.loads(deployed)))
    except ValueError:
        return deployed


def _masked(baseline: Any, deployed: Any) -> Any:
    if baseline == _REF:
        return _REF
    if isinstance(baseline, Mapping) and isinstance(deployed, Mapping):
        return {key: _masked(baseline[key], item) if key in baseline else item
                for key, item in deployed.items()}
    if isinstance(baseline, list) and isinstance(deployed, list) and len(baseline) == len(deployed):
        return [_masked(before, after) for before, after in zip(baseline, deployed, strict=True)]
    return deployed


def _normalise(value: Any) -> Any:
    """ARNs, ${...} and intrinsic functions become one token: they name resources, not behaviour."""
    if isinstance(value, str):
        return _REF if value.startswith("arn:") or "${" in value else value
    if isinstance(value, Mapping):
        if len(value) == 1 and next(iter(value)).startswith(("Fn::", "Ref")):
            return _REF
        return {key: _normalise(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normalise(item) for item in value]
    return value
