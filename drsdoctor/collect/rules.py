"""The EventBridge rules that target each function: state, schedule, targets."""

from __future__ import annotations

from drsdoctor.collect.gather import Gatherer
from drsdoctor.snapshot import Rule, RuleTarget


def rule_names_targeting(gather: Gatherer, arn: str) -> list[str]:
    """The rules that target a part (a function or the state machine), by its ARN."""
    def names() -> list[str]:
        found: list[str] = []
        for page in gather.pages("events", "list_rule_names_by_target", arn, "NextToken", "NextToken",
                                 max_pages=10, TargetArn=arn):
            found.extend(page.get("RuleNames", []))
        return found

    return gather.fact("rules", arn, names) or []


def rule(gather: Gatherer, name: str) -> Rule | None:
    def describe() -> Rule:
        found = gather.call("events", "describe_rule", name, Name=name)
        targets: list[RuleTarget] = []
        for page in gather.pages("events", "list_targets_by_rule", name, "NextToken", "NextToken",
                                 max_pages=10, Rule=name):
            targets.extend(RuleTarget(id=target["Id"], arn=target["Arn"], role_arn=target.get("RoleArn"),
                                      input=target.get("Input")) for target in page.get("Targets", []))
        return Rule(name=found["Name"], arn=found.get("Arn", ""), state=found.get("State", "ENABLED"),
                    schedule_expression=found.get("ScheduleExpression"),
                    event_pattern=found.get("EventPattern"),
                    event_bus=found.get("EventBusName", "default"), targets=targets)

    return gather.fact("rules", name, describe)
