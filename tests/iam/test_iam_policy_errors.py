"""A malformed policy is reported as one clear line naming the policy, statement, field and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drsdoctor.errors import InputError
from drsdoctor.iam.policy import PolicyError, load_policy_file, parse_policy


def _one(statement: object, version: str = "2012-10-17") -> dict:
    return {"Version": version, "Statement": [statement]}


GOOD = {"Effect": "Allow", "Action": "drs:StartRecovery", "Resource": "*"}

MALFORMED = [
    ("effect misspelt", _one({**GOOD, "Effect": "allow"}), "statement [0], field Effect"),
    (
        "action and notaction",
        _one({**GOOD, "NotAction": "ec2:*"}),
        "field NotAction: use Action or NotAction",
    ),
    ("no action", _one({"Effect": "Allow", "Resource": "*"}), "needs Action or NotAction"),
    ("no resource", _one({"Effect": "Allow", "Action": "drs:*"}), "needs Resource or NotResource"),
    ("action without service", _one({**GOOD, "Action": "StartRecovery"}), "'StartRecovery' is not an action"),
    ("empty action list", _one({**GOOD, "Action": []}), "field Action: must be a non-empty string"),
    ("number as resource", _one({**GOOD, "Resource": 7}), "field Resource"),
    ("unknown element", _one({**GOOD, "Actions": "drs:*"}), "unknown element 'Actions'"),
    ("principal in identity policy", _one({**GOOD, "Principal": "*"}), "cannot name a principal"),
    (
        "unknown operator",
        _one({**GOOD, "Condition": {"StringEqual": {"a:b": "c"}}}),
        "field Condition: unknown condition operator 'StringEqual'",
    ),
    (
        "unknown set operator",
        _one({**GOOD, "Condition": {"ForSomeValues:StringEquals": {"a:b": "c"}}}),
        "unknown set operator",
    ),
    (
        "Null has no IfExists",
        _one({**GOOD, "Condition": {"NullIfExists": {"a:b": "true"}}}),
        "unknown condition operator",
    ),
    (
        "bad CIDR",
        _one({**GOOD, "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.300/8"}}}),
        "'10.0.0.300/8' is not a valid value",
    ),
    (
        "bad number",
        _one({**GOOD, "Condition": {"NumericEquals": {"s3:max-keys": "ten"}}}),
        "is not a valid value",
    ),
    (
        "bad date",
        _one({**GOOD, "Condition": {"DateLessThan": {"aws:CurrentTime": "yesterday"}}}),
        "is not a valid value",
    ),
    ("condition not an object", _one({**GOOD, "Condition": ["StringEquals"]}), "must be an object"),
    (
        "condition value object",
        _one({**GOOD, "Condition": {"StringEquals": {"a:b": {"c": 1}}}}),
        "must be a string, number or boolean",
    ),
    (
        "sid names the statement",
        _one({**GOOD, "Sid": "Starter", "Effect": "Maybe"}),
        "statement Starter, field Effect",
    ),
    ("bad version", {"Version": "2024-01-01", "Statement": [GOOD]}, "field Version"),
    ("no statement", {"Version": "2012-10-17"}, "has no Statement"),
    ("statement is a string", {"Version": "2012-10-17", "Statement": ["Allow"]}, "must be a JSON object"),
    ("not an object", ["Statement"], "must be a JSON object"),
]


@pytest.mark.parametrize(("name", "document", "expected"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_policy_names_what_is_wrong(name: str, document: object, expected: str) -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy(json.dumps(document), name="starter.json")
    message = str(raised.value)
    assert message.startswith("starter.json")
    assert expected in message
    assert "\n" not in message


def test_policy_error_is_an_input_error_so_the_cli_exits_2() -> None:
    assert issubclass(PolicyError, InputError)
    assert PolicyError.exit_code == 2


def test_file_errors_carry_the_line_of_the_field(tmp_path: Path) -> None:
    path = tmp_path / "starter.json"
    path.write_text(
        '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {"Sid": "Ok", "Effect": "Allow",'
        ' "Action": "drs:*", "Resource": "*"},\n    {\n      "Sid": "Broken",\n'
        '      "Effect": "Allow",\n      "Action": "drs:*",\n      "Resource": "*",\n'
        '      "Condition": {"StringEquals": "x"}\n    }\n  ]\n}\n'
    )
    with pytest.raises(PolicyError) as raised:
        load_policy_file(path)
    assert raised.value.line == 10
    assert raised.value.statement == "Broken"
    assert raised.value.field == "Condition"
    assert f"{path} line 10: statement Broken, field Condition" in str(raised.value)


def test_invalid_json_reports_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "Version": "2012-10-17",\n  "Statement": [\n    {"Effect": "Allow",}\n  ]\n}\n')
    with pytest.raises(PolicyError, match=r"broken.json line 4: not valid JSON: .*column"):
        load_policy_file(path)


def test_unreadable_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read policy"):
        load_policy_file(tmp_path / "missing.json")


def test_statement_positions_point_at_the_opening_brace() -> None:
    policy = parse_policy(
        '{"Version": "2012-10-17",\n "Statement": [\n   {"Effect": "Allow", "Action": "drs:*",'
        ' "Resource": "*"}]}'
    )
    statement = policy.statements[0]
    assert (statement.line, statement.column) == (3, 4)
    assert statement.label == "[0]"
