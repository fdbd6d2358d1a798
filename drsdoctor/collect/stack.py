"""The CloudFormation stack that owns the orchestrator, found without DescribeStackResources by
physical id (which not every endpoint offers): the stack-name tag first, then the stacks' resources."""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import partial
from typing import Any

from drsdoctor.collect.functions import STACK_TAG
from drsdoctor.collect.gather import Gatherer
from drsdoctor.snapshot import Stack, StackResource

LIVE_STATUSES = ["CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE",
                 "IMPORT_ROLLBACK_COMPLETE", "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
                 "UPDATE_ROLLBACK_FAILED", "UPDATE_ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE"]
MAX_STACKS_SEARCHED = 200


def machine_tags(gather: Gatherer, machine_arn: str) -> dict[str, str]:
    found = gather.fact("stack", machine_arn, lambda: gather.call(
        "stepfunctions", "list_tags_for_resource", machine_arn, resourceArn=machine_arn))
    return {tag["key"]: tag["value"] for tag in (found or {}).get("tags", [])}


def owning_stack_name(gather: Gatherer, tag_sets: Iterable[dict[str, str]],
                      physical_ids: set[str], machine_arn: str = "") -> str | None:
    """The stack named by a stack-name tag (the state machine's first); else the live stack whose resources
    include the state machine, else one of these."""
    for tags in tag_sets:
        if tags.get(STACK_TAG):
            return tags[STACK_TAG]

    def live_stacks() -> list[str]:
        names: list[str] = []
        for page in gather.pages("cloudformation", "list_stacks", "stacks", "NextToken", "NextToken",
                                 max_pages=20, StackStatusFilter=LIVE_STATUSES):
            names.extend(summary["StackName"] for summary in page.get("StackSummaries", []))
        return names[:MAX_STACKS_SEARCHED]

    names = gather.fact("stack", "", live_stacks) or []
    def owns(name: str) -> tuple[str, bool] | None:
        held = {r.physical_id for r in resources(gather, name)}
        return (name, machine_arn in held) if physical_ids & held else None

    owners = [owner for owner in gather.in_parallel([partial(owns, name) for name in names]) if owner]
    # the state machine's own stack, so that its definition is compared with its own template
    return next((name for name, has_machine in owners if has_machine), owners[0][0] if owners else None)


def family(gather: Gatherer, owner: Stack) -> list[tuple[str, str, list[StackResource]]]:
    """The owner's root stack and the root's other nested stacks, each with how it relates and its
    resources: a nested orchestrator keeps its functions and tables in its siblings. Nothing to ask (and
    no call made) for a stack that is not nested."""
    described = gather.fact("stack", owner.name, lambda: gather.call(
        "cloudformation", "describe_stacks", owner.name, StackName=owner.name)["Stacks"][0])
    root = (described or {}).get("RootId") or ""
    if not root or root == owner.arn:
        return []
    found = [(root, "the root stack of the state machine's stack", resources(gather, root))]
    nested = [r.physical_id for r in found[0][2] if r.type == "AWS::CloudFormation::Stack" and r.physical_id
              and r.physical_id != owner.arn]
    listed = gather.in_parallel([partial(resources, gather, arn) for arn in nested])
    found += [(arn, "a nested stack of the same root", items)
              for arn, items in zip(nested, listed, strict=True)]
    return found


def resources(gather: Gatherer, name: str) -> list[StackResource]:
    def list_all() -> list[StackResource]:
        found: list[StackResource] = []
        for page in gather.pages("cloudformation", "list_stack_resources", name, "NextToken", "NextToken",
                                 max_pages=20, StackName=name):
            found.extend(StackResource(logical_id=item["LogicalResourceId"], type=item["ResourceType"],
                                       physical_id=item.get("PhysicalResourceId", ""),
                                       status=item.get("ResourceStatus", ""))
                         for item in page.get("StackResourceSummaries", []))
        return found

    return gather.fact("stack", name, list_all) or []


def stack(gather: Gatherer, name: str) -> Stack | None:
    described, listed, template = gather.in_parallel([
        lambda: gather.fact("stack", name, lambda: gather.call("cloudformation", "describe_stacks", name,
                                                               StackName=name)["Stacks"][0]),
        lambda: resources(gather, name),
        lambda: gather.fact("stack", name, lambda: gather.call("cloudformation", "get_template", name,
                                                               StackName=name).get("TemplateBody")),
    ])
    if described is None:
        return None
    return Stack(name=described["StackName"], arn=described.get("StackId", ""),
                 status=described.get("StackStatus", ""), template=_text(template),
                 parameters={p["ParameterKey"]: p.get("ResolvedValue", p.get("ParameterValue", ""))
                             for p in described.get("Parameters", [])},
                 outputs={o["OutputKey"]: o.get("OutputValue", "") for o in described.get("Outputs", [])},
                 resources=listed)


def _text(template: Any) -> str | None:
    if template is None or isinstance(template, str):
        return template
    return json.dumps(template, indent=2)  # botocore decodes a JSON template body into a dict
