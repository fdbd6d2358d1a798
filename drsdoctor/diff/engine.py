"""The diff itself: match resources, compare each pair with its type's differ, parameters, outputs, drift."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from drsdoctor.diff.differs import CATEGORY_OF_TYPE, VITAL_TYPES, change, diff_properties
from drsdoctor.diff.iam_diff import PolicyDocs, diff_role_permissions
from drsdoctor.diff.model import Change, DiffResult, Resource, Side
from drsdoctor.diff.secrets import REDACTED, without_secrets
from drsdoctor.diff.sides import Source, build_side
from drsdoctor.secrets import Scrubber, looks_secret

GENERIC_WORDS = {
    "function",
    "role",
    "table",
    "rule",
    "lambda",
    "state",
    "machine",
    "policy",
    "permission",
    "aws",
    "resource",
    "fn",
    "the",
}


def diff_sources(a: Source, b: Source) -> DiffResult:
    """Build both sides with one shared notion of identity parameters, then compare them."""
    identity = a.identity() | b.identity()
    return diff_sides(build_side(a, identity), build_side(b, identity))


def diff_sides(a: Side, b: Side) -> DiffResult:
    changes: list[Change] = []
    changes += _parameters(a, b)
    changes += _outputs(a, b)
    # a resource deleted behind CloudFormation's back is absent from that side, as drift
    unfollowed = a.unfollowed | b.unfollowed
    a_live = _followed({k: r for k, r in a.resources.items() if not r.deleted}, unfollowed)
    b_live = _followed({k: r for k, r in b.resources.items() if not r.deleted}, unfollowed)
    changes += _deleted(a, b_live, "a") + _deleted(b, a_live, "b")
    pairs, renames = match_resources(a_live, b_live)
    b_resources = _renamed(b_live, renames) if renames else b_live
    for new_id, old_id in sorted(renames.items()):
        resource = b_live[new_id]
        changes.append(
            Change(
                new_id,
                resource.type,
                "modified",
                CATEGORY_OF_TYPE.get(resource.type, "other"),
                "LogicalId",
                old_id,
                new_id,
                "low",
                f"{new_id} was {old_id} (renamed, same role)",
            )
        )
    matched_a = {x for x, _ in pairs}
    matched_b = {y for _, y in pairs}
    deleted = {c.resource for c in changes if c.drift}
    for logical_id in sorted(set(a_live) - matched_a - deleted):
        changes.append(_whole(a_live[logical_id], "removed"))
    for logical_id in sorted(set(b_live) - matched_b - deleted):
        changes.append(_whole(b_live[logical_id], "added"))
    policies_a, policies_b = role_policies(a_live, True), role_policies(b_resources, True)
    for old_id, new_id in pairs:
        old, new = a_live[old_id], b_resources[renames.get(new_id, new_id)]
        found = diff_properties(new_id, new.type, old.effective(), new.effective())
        if old.type == "AWS::IAM::Role":
            found += diff_role_permissions(
                new_id, new.type, policies_a.get(old_id, []), policies_b.get(renames.get(new_id, new_id), [])
            )
        drift_a, drift_b = _drifted(old), _drifted(new)
        for item in found:
            item.drift = _which(item.path, drift_a, drift_b)
        changes += found
    covered = {(c.resource, c.path) for c in changes}
    changes += _drift_only(a_live, "a", covered) + _drift_only(b_live, "b", covered)
    # a secret parameter travels into properties (!Ref, !Sub): its value is scrubbed from every change
    scrubber = Scrubber(_secret_values(a) + _secret_values(b))
    return DiffResult(a, b, scrubber.deep(sorted(changes, key=Change.sort_key)))


def _followed(resources: dict[str, Resource], unfollowed: set[str]) -> dict[str, Resource]:
    """What both sides can compare: a nested stack one side could not follow is compared as a resource
    alone on both (its children on the other side would all read as added); a stack followed on both
    compares by its children, so where its template was stored (TemplateURL) is no change."""
    out = {}
    for logical_id, resource in resources.items():
        if any(logical_id.startswith(path + "/") for path in unfollowed):
            continue
        if resource.type == "AWS::CloudFormation::Stack" and logical_id not in unfollowed:
            properties = {k: v for k, v in resource.properties.items() if k != "TemplateURL"}
            resource = Resource(logical_id, resource.type, properties, resource.live, resource.physical_id)
        out[logical_id] = resource
    return out


def _secret_values(side: Side) -> list[str]:
    values = [str(v) for k, v in side.parameters.items() if side.shown_parameter(k, v) == REDACTED]
    for resource in side.resources.values():
        for properties in (resource.properties, resource.effective()):
            environment = properties.get("Environment")
            variables = environment.get("Variables") if isinstance(environment, Mapping) else None
            if isinstance(variables, Mapping):
                values += [v for k, v in variables.items() if isinstance(v, str) and looks_secret(k, v)]
    # properties are normalised: "Pw-prod-9" is shown as "Pw-${EnvironmentName}-9", so scrub that form too
    names = {str(v): f"${{{k}}}" for k, v in side.parameters.items() if k in side.identity and v}
    for value in list(values):
        for concrete, token in names.items():
            values.append(value.replace(concrete, token))
    return values


def _parameters(a: Side, b: Side) -> list[Change]:
    changes = []
    for key in sorted(set(a.parameters) | set(b.parameters)):
        if key in a.identity or key in b.identity:
            continue  # the environment's own name differs by design
        before, after = a.parameters.get(key), b.parameters.get(key)
        if before != after:
            # one side looking secret hides both: the other is the same secret, rotated
            secret = REDACTED in (a.shown_parameter(key, before), b.shown_parameter(key, after))
            before = REDACTED if secret and before is not None else before
            after = REDACTED if secret and after is not None else after
            risk = "medium" if before is not None and after is not None else "low"
            changes.append(
                change(
                    key,
                    "AWS::CloudFormation::Parameter",
                    "Parameters." + key,
                    before,
                    after,
                    risk,
                    "parameter",
                    "parameter",
                )
            )
    return changes


def _outputs(a: Side, b: Side) -> list[Change]:
    changes = []
    for key in sorted(set(a.outputs) | set(b.outputs)):
        before, after = a.outputs.get(key), b.outputs.get(key)
        if before != after:
            changes.append(
                change(
                    key,
                    "AWS::CloudFormation::Output",
                    "Outputs." + key,
                    before,
                    after,
                    "low",
                    "output",
                    "output",
                )
            )
    return changes


def _deleted(side: Side, other_live: Mapping[str, Resource], label: str) -> list[Change]:
    """Resources the stack declares but the service no longer has: deleted by hand, or never created."""
    changes = []
    for logical_id, resource in sorted(side.resources.items()):
        if not resource.deleted:
            continue
        # seen from a to b: deleted on b is a removal, deleted on a an addition (b still has it)
        kind = "removed" if label == "b" or logical_id not in other_live else "added"
        shown = other_live.get(logical_id, resource)
        change = _whole(
            Resource(
                logical_id, shown.type, shown.effective() if shown is not resource else resource.properties
            ),
            kind,
        )
        change.drift = label
        change.summary = (
            f"{resource.type} {logical_id} is gone on side {label}: deleted outside CloudFormation "
            "(its stack still declares it)"
        )
        changes.append(change)
    return changes


def _whole(resource: Resource, kind: str) -> Change:
    vital = resource.type in VITAL_TYPES
    risk = ("high" if vital else "medium") if kind == "removed" else "medium"
    before = without_secrets(resource.effective()) if kind == "removed" else None
    after = without_secrets(resource.effective()) if kind == "added" else None
    return Change(
        resource.logical_id,
        resource.type,
        kind,
        CATEGORY_OF_TYPE.get(resource.type, "other"),
        "",
        before,
        after,
        risk,
        f"{resource.type} {resource.logical_id} {kind}",
    )


def _words(logical_id: str) -> set[str]:
    words = {w.lower() for w in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", logical_id.split("/")[-1])}
    return words - GENERIC_WORDS


def match_resources(
    a: Mapping[str, Resource], b: Mapping[str, Resource]
) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """Pairs (a id, b id) by logical id, then renamed ones by type and role; renames maps b id -> a id."""
    pairs = [(x, x) for x in sorted(set(a) & set(b)) if a[x].type == b[x].type]
    left = [x for x in sorted(a) if (x, x) not in pairs]
    right = [y for y in sorted(b) if (y, y) not in pairs]
    renames: dict[str, str] = {}
    for x in left:
        candidates = [y for y in right if b[y].type == a[x].type and y not in renames]
        scored = sorted(((_similarity(a[x], b[y]), y) for y in candidates), reverse=True)
        if scored and scored[0][0] > 0 and (len(scored) == 1 or scored[0][0] > scored[1][0]):
            renames[scored[0][1]] = x
    pairs += [(x, y) for y, x in renames.items()]
    return pairs, renames


def _similarity(x: Resource, y: Resource) -> float:
    words_x, words_y = _words(x.logical_id), _words(y.logical_id)
    score = len(words_x & words_y) / max(1, len(words_x | words_y))
    for key in ("TableName", "FunctionName", "RoleName", "Name", "StateMachineName", "Handler"):
        if key in x.properties and x.properties.get(key) == y.properties.get(key):
            score += 1
    return score


def _renamed(resources: Mapping[str, Resource], renames: Mapping[str, str]) -> dict[str, Resource]:
    """Side b's references to a renamed resource (`<New>`, `<New.Arn>`) rewritten to the old id; inside a
    nested stack a reference names a resource of the same stack, so each stack has its own renames."""
    local: dict[str, dict[str, str]] = {}
    for new_id, old_id in renames.items():
        folder, _, new_name = new_id.rpartition("/")
        old_folder, _, old_name = old_id.rpartition("/")
        if folder == old_folder:
            local.setdefault(folder, {})[new_name] = old_name
    patterns = {
        folder: (re.compile(r"<(" + "|".join(re.escape(n) for n in names) + r")([.>])"), names)
        for folder, names in local.items()
    }

    def rewrite(value: Any, folder: str) -> Any:
        if folder not in patterns:
            return value
        pattern, names = patterns[folder]
        return json.loads(pattern.sub(lambda m: f"<{names[m.group(1)]}{m.group(2)}", json.dumps(value)))

    out = {}
    for logical_id, resource in resources.items():
        key = renames.get(logical_id, logical_id)
        folder = logical_id.rpartition("/")[0]
        out[key] = Resource(
            key,
            resource.type,
            rewrite(resource.properties, folder),
            rewrite(resource.live, folder) if resource.live else None,
            resource.physical_id,
        )
    return out


def role_policies(resources: Mapping[str, Resource], effective: bool) -> dict[str, PolicyDocs]:
    """Role logical id -> its inline policies plus the standalone policies attached to it."""
    found: dict[str, PolicyDocs] = {}
    for logical_id, resource in resources.items():
        properties = resource.effective() if effective else resource.properties
        if resource.type == "AWS::IAM::Role":
            for item in properties.get("Policies") or []:
                if isinstance(item, Mapping):
                    found.setdefault(logical_id, []).append(
                        (str(item.get("PolicyName")), item.get("PolicyDocument"))
                    )
    for logical_id, resource in resources.items():
        properties = resource.effective() if effective else resource.properties
        if resource.type in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            # a nested stack's policy names its role relative to its own template: <Role> is Child/Role
            folder = logical_id.rpartition("/")[0]
            for role in properties.get("Roles") or []:
                target = (folder + "/" if folder else "") + str(role).strip("<>")
                if target in resources:
                    found.setdefault(target, []).append((logical_id, properties.get("PolicyDocument")))
    return found


def _drifted(resource: Resource) -> set[str]:
    """Paths where this resource's live configuration differs from its own template."""
    if not resource.live:
        return set()
    paths = {
        c.path
        for c in diff_properties(
            resource.logical_id, resource.type, resource.properties, resource.effective()
        )
    }
    if resource.type == "AWS::IAM::Role":
        template_side = {
            resource.logical_id: Resource(resource.logical_id, resource.type, resource.properties)
        }
        paths |= {
            c.path
            for c in diff_role_permissions(
                resource.logical_id,
                resource.type,
                role_policies(template_side, False).get(resource.logical_id, []),
                role_policies({resource.logical_id: resource}, True).get(resource.logical_id, []),
            )
        }
    return paths


def _which(path: str, drift_a: set[str], drift_b: set[str]) -> str | None:
    in_a, in_b = path in drift_a, path in drift_b
    return "both" if in_a and in_b else "a" if in_a else "b" if in_b else None


def _drift_only(resources: Mapping[str, Resource], label: str, covered: set[tuple[str, str]]) -> list[Change]:
    """Drift the comparison did not show (both sides drifted alike): still the classic cause."""
    found = []
    for resource in resources.values():
        if not resource.live:
            continue
        for item in diff_properties(
            resource.logical_id, resource.type, resource.properties, resource.effective()
        ):
            if (item.resource, item.path) in covered:
                continue
            item.drift = label
            item.summary = f"drift on side {label}: {item.summary} (live differs from its template)"
            found.append(item)
    return found
