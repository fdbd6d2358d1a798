"""selfpoll's faults: the reference catalogue's that apply to its design, and the ones its design invites.

Applies as in the reference: a source server that cannot launch, and the launching role without the DRS
follow-on permission (both FAILED). Does not apply: every fault of the reference's finder and poller
(there is no finder, and no table the machine waits on); their counterparts here are the mirror's, whose
loss only leaves the UI behind: the recovery still SUCCEEDS, which is the point of the design. Invited by
the design: the probe's role losing drs:DescribeJobs and the probe failing at import (the run FAILS after
the machine's retries), and the Judge's literal drifting (a launched wave never matches: STUCK).

All through the public AWS APIs, each with its repair, as the reference catalogue does.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from drsdoctor.sandbox import faults as reference_faults  # the catalogue's shared helpers
from drsdoctor.sandbox.faults import Fault

if TYPE_CHECKING:
    from drsdoctor.sandbox.world import Sandbox

PROBE_VARIABLE = "RECOVERY_ZONE"  # read at the probe's import
DRIFTED_LITERAL = ("'LAUNCHED'", "'Launched'")


def _drop_probe_variable(world: Sandbox) -> None:
    lambda_ = world.client("lambda")
    name = world.names["function:probe"]
    variables = dict(lambda_.get_function_configuration(FunctionName=name)["Environment"]["Variables"])
    world.saved.setdefault("probe-env", dict(variables))
    variables.pop(PROBE_VARIABLE, None)
    lambda_.update_function_configuration(FunctionName=name, Environment={"Variables": variables})


def _restore_probe_variables(world: Sandbox) -> None:
    variables = world.saved.pop("probe-env", None)
    if variables is not None:
        world.client("lambda").update_function_configuration(
            FunctionName=world.names["function:probe"], Environment={"Variables": variables})


def _drift_judge(world: Sandbox) -> None:
    """The Judge's Conditions compare the probe's Phase with 'Launched': a launched wave never matches."""
    sfn = world.client("stepfunctions")
    arn = world.state_machine_arn
    text = sfn.describe_state_machine(stateMachineArn=arn)["definition"]
    world.saved.setdefault("machine-definition", text)
    definition: dict[str, Any] = json.loads(text)
    old, new = DRIFTED_LITERAL
    for rule in definition["States"][world.names["state:CheckWaveStatus"]]["Choices"]:
        rule["Condition"] = rule["Condition"].replace(old, new)
    sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(definition))


def _restore_machine(world: Sandbox) -> None:
    text = world.saved.pop("machine-definition", None)
    if text is not None:
        world.client("stepfunctions").update_state_machine(stateMachineArn=world.state_machine_arn,
                                                           definition=text)


def _disable_mirror_schedule(world: Sandbox) -> None:
    world.client("events").disable_rule(Name=world.names["rule:mirror"])


def _enable_mirror_schedule(world: Sandbox) -> None:
    world.client("events").enable_rule(Name=world.names["rule:mirror"])


FAULTS: dict[str, Fault] = {fault.name: fault for fault in (
    reference_faults.FAULTS["server-launch-failure"],
    Fault("orchestrator-missing-follow-on",
          "The launcher's role lost drs:CreateRecoveryInstanceForDrs.",
          "The launcher role lacks drs:CreateRecoveryInstanceForDrs, which DRS uses with the caller's "
          "credentials to launch recovery instances: the wave's job ends COMPLETED with every server FAILED, "
          "the probe reports the wave BROKEN and the run fails.",
          "FAILED",
          lambda w: reference_faults.remove_action(w, "launcher", "drs:CreateRecoveryInstanceForDrs"),
          lambda w: reference_faults.restore_policies(w, "launcher")),
    Fault("probe-missing-drs-describe",
          "The probe's role lost drs:DescribeJobs (iam:PutRolePolicy with the statement edited).",
          "The probe role's policy no longer allows drs:DescribeJobs: every probe is denied "
          "(AccessDeniedException), the state machine retries it, then closes the run as FAILED.",
          "FAILED", lambda w: reference_faults.remove_action(w, "probe", "drs:DescribeJobs"),
          lambda w: reference_faults.restore_policies(w, "probe")),
    Fault("probe-import-failure",
          f"The probe's {PROBE_VARIABLE} variable is gone (lambda:UpdateFunctionConfiguration): it fails at "
          "import.",
          f"The probe reads {PROBE_VARIABLE} when its module loads; without it every invocation fails before "
          "the handler runs (KeyError at init), the state machine retries, then closes the run as FAILED.",
          "FAILED", _drop_probe_variable, _restore_probe_variables),
    Fault("probe-choice-drift",
          "The deployed definition's Judge compares the probe's Phase with 'Launched' "
          "(states:UpdateStateMachine).",
          "The deployed state machine drifted: the Judge's Conditions compare $states.input.Phase with "
          "'Launched' instead of 'LAUNCHED', so a launched wave matches no rule and the run loops "
          "Settle -> Probe -> Judge until its probe budget runs out.",
          "STUCK", _drift_judge, _restore_machine),
    Fault("mirror-schedule-disabled",
          "The mirror's schedule rule is disabled (events:DisableRule); the recovery must still succeed.",
          "The EventBridge rule that runs the mirror every minute is DISABLED: the run ledger's wave "
          "statuses stop at LAUNCHING for the UI, but the state machine polls DRS itself, so the recovery "
          "SUCCEEDS.",
          "SUCCEEDED", _disable_mirror_schedule, _enable_mirror_schedule),
)}
