"""Environment normalisation: each side's own names become tokens, so `archive` and `current` compare equal.

A deployed side's physical ids and ARNs become `<LogicalId>` and `<LogicalId.Arn>`; its stack
name, account, region and identity parameter values become `${AWS::StackName}`, `${AWS::AccountId}`,
`${AWS::Region}`, `${EnvironmentName}`. Then names built from those tokens (a table named
`drs-${EnvironmentName}-history`) and ARNs built from names become the resource's own token.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

# the ARN a resource of each type has, from its name; matched after names became tokens
ARN_FORMATS = {
    "AWS::DynamoDB::Table": "arn:aws:dynamodb:${{AWS::Region}}:${{AWS::AccountId}}:table/{name}",
    "AWS::Lambda::Function": "arn:aws:lambda:${{AWS::Region}}:${{AWS::AccountId}}:function:{name}",
    "AWS::IAM::Role": "arn:aws:iam::${{AWS::AccountId}}:role/{name}",
    "AWS::Events::Rule": "arn:aws:events:${{AWS::Region}}:${{AWS::AccountId}}:rule/{name}",
    "AWS::StepFunctions::StateMachine": (
        "arn:aws:states:${{AWS::Region}}:${{AWS::AccountId}}:stateMachine:{name}"
    ),
    "AWS::Logs::LogGroup": "arn:aws:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:{name}",
    "AWS::SQS::Queue": "arn:aws:sqs:${{AWS::Region}}:${{AWS::AccountId}}:{name}",
    "AWS::SNS::Topic": "arn:aws:sns:${{AWS::Region}}:${{AWS::AccountId}}:{name}",
}
NAME_PROPERTIES = {
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Events::Rule": "Name",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
}
PROSE_KEYS = frozenset({"Description", "Comment", "Cause", "ConstraintDescription"})
_TOKEN = re.compile(r"\$\{[^}]*\}|<[^<>]*>")


def _trie(words: Iterable[str]) -> str:
    """One pattern for many words, sharing prefixes: hundreds of names compile fast, longest match wins."""
    root: dict[str, Any] = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body  # greedy: the longer word is tried first

    return build(root)


def _alternation(words: Mapping[str, str], bounded: bool) -> re.Pattern[str] | None:
    if not words:
        return None
    body = _trie(words)
    if bounded:  # "archive" is a token in drs-archive-table, not in archived
        return re.compile(rf"(?<![A-Za-z0-9])(?:{body})(?![A-Za-z0-9])")
    return re.compile(body)


class Tokeniser:
    """Rewrites every string of one side into its environment-free form."""

    def __init__(self, concrete: Mapping[str, str]) -> None:
        # short values (a "1" parameter) would replace digits everywhere
        self.concrete = {value: token for value, token in concrete.items() if len(value) >= 3}
        self._concrete = _alternation(self.concrete, bounded=True)
        self.symbolic: dict[str, str] = {}
        self._symbolic: re.Pattern[str] | None = None

    def add_names(self, names: Mapping[str, tuple[str, Any]], real: Mapping[str, Any] | None = None) -> None:
        """Resource names (logical id -> (type, resolved name)) and their ARNs become `<LogicalId>` tokens;
        `real` gives each name as resolved with the real parameter values: that text is the resource too."""
        symbolic: dict[str, str] = {}
        for logical_id, name in (real or {}).items():
            if isinstance(name, str) and len(name) >= 3:
                symbolic[name] = f"<{logical_id}>"
        for logical_id, (_type, name) in names.items():
            if not isinstance(name, str):
                continue
            name = self.text(name)
            if len(_TOKEN.sub("", name)) >= 3:
                symbolic[name] = f"<{logical_id}>"
        for logical_id, (resource_type, _name) in names.items():
            if resource_type in ARN_FORMATS:
                symbolic[ARN_FORMATS[resource_type].format(name=f"<{logical_id}>")] = f"<{logical_id}.Arn>"
        self.symbolic = symbolic
        self._symbolic = _alternation(symbolic, bounded=False)

    def concrete_text(self, value: str) -> str:
        """Only this side's own values replaced: for a resource's own name, compared as a name."""
        if self._concrete is not None:
            value = self._concrete.sub(lambda m: self.concrete[m.group(0)], value)
        return value

    def text(self, value: str) -> str:
        if self._concrete is not None:
            value = self._concrete.sub(lambda m: self.concrete[m.group(0)], value)
        if self._symbolic is not None:
            value = self._symbolic.sub(lambda m: self.symbolic[m.group(0)], value)
            # a name became a token inside an ARN: the ARN itself may now be known
            value = self._symbolic.sub(lambda m: self.symbolic[m.group(0)], value)
        return value

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            # prose is left alone: "the current wave" is not the environment named current
            return {self.text(str(k)): v if k in PROSE_KEYS else self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value


def side_concrete_values(
    parameters: Mapping[str, Any],
    identity: set[str],
    stack_name: str | None = None,
    account: str | None = None,
    region: str | None = None,
) -> dict[str, str]:
    """The values that name this deployment, each mapped to its token.

    A value two parameters share is nobody's: `drs` as both ProjectName and SourceBucket cannot be told
    apart by looking at it, so it stays as it is rather than become the wrong placeholder.
    """
    owners: dict[str, set[str]] = {}
    for key, value in parameters.items():
        if isinstance(value, str):
            owners.setdefault(value, set()).add(str(key))
    concrete: dict[str, str] = {}
    for key in sorted(identity):
        value = parameters.get(key)
        if isinstance(value, str) and len(owners.get(value, ())) == 1:
            concrete[value] = f"${{{key}}}"
    if region:
        concrete[region] = "${AWS::Region}"
    if account:
        concrete[account] = "${AWS::AccountId}"
    if stack_name:
        concrete[stack_name] = "${AWS::StackName}"
    return concrete


def traced(live: Any, plain: Any, normal: Any, fallback: Tokeniser) -> Any:
    """A live value normalised by where it came from: where it still equals its template's value
    (resolved with the real parameter values, `plain`), it takes that value's normal form (`normal`,
    in which each parameter's token stands exactly where the template used it); only what drifted from
    the template is normalised by looking at it (`fallback`)."""
    if live == plain:
        return normal
    if isinstance(live, Mapping) and isinstance(plain, Mapping) and isinstance(normal, Mapping):
        return {
            fallback.text(str(k)): traced(v, plain[k], normal.get(k), fallback)
            if k in plain and k in normal
            else fallback.value(v)
            for k, v in live.items()
        }
    if isinstance(live, list) and isinstance(plain, list) and isinstance(normal, list):
        if len(live) == len(plain) == len(normal):
            return [traced(x, y, z, fallback) for x, y, z in zip(live, plain, normal, strict=True)]
        # items added or removed live: each unchanged item is found by equality
        return [normal[plain.index(item)] if item in plain and len(plain) == len(normal)
                else fallback.value(item) for item in live]
    return fallback.value(live)
