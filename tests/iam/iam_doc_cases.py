# ruff: noqa: E501  (a table reads best one case per row)
"""Cases taken from the AWS IAM documentation: each row cites the page its example or rule comes from.

Run through the public API (test_iam_doc_cases.py) and through the CLI (same file, CliRunner).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

IAM = "https://docs.aws.amazon.com/IAM/latest/UserGuide/"
EVAL = IAM + "reference_policies_evaluation-logic.html"
BOUNDARY = IAM + "access_policies_boundaries.html"
SCP = "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html"
SESSION = IAM + "access_policies.html#policies_session"
OPS = IAM + "reference_policies_elements_condition_operators.html"
MULTI = IAM + "reference_policies_condition-single-vs-multi-valued-context-keys.html"
LOGIC = IAM + "reference_policies_condition-logic-multiple-context-keys-or-values.html"
NOTACTION = IAM + "reference_policies_elements_notaction.html"
NOTRESOURCE = IAM + "reference_policies_elements_notresource.html"
NOTPRINCIPAL = IAM + "reference_policies_elements_notprincipal.html"
PRINCIPAL = IAM + "reference_policies_elements_principal.html"
VARIABLES = IAM + "reference_policies_variables.html"
ACTION = IAM + "reference_policies_elements_action.html"
RESOURCE = IAM + "reference_policies_elements_resource.html"
VERSION = IAM + "reference_policies_elements_version.html"
CROSS = IAM + "reference_policies_evaluation-logic-cross-account.html"

ROLE = "arn:aws:iam::111122223333:role/drs-orchestration"
OTHER = "arn:aws:iam::444455556666:role/someone-else"
BUCKET = "arn:aws:s3:::amzn-s3-demo-bucket"


@dataclass
class Case:
    name: str
    url: str
    action: str
    expected: str
    identity: list[dict[str, Any]] = field(default_factory=list)
    resource_policies: list[dict[str, Any]] = field(default_factory=list)
    boundary: dict[str, Any] | None = None
    scps: list[dict[str, Any]] = field(default_factory=list)
    session: dict[str, Any] | None = None
    resource: str = "*"
    context: dict[str, str | list[str]] = field(default_factory=dict)
    principal: str | None = ROLE
    by_boundary: bool | None = None  # expected AllowedByPermissionsBoundary, when a boundary is given
    by_organizations: bool | None = None
    missing: list[str] | None = None  # expected MissingContextValues


def doc(*statements: dict[str, Any], version: str = "2012-10-17") -> dict[str, Any]:
    return {"Version": version, "Statement": list(statements)}


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def when(operator: str, key: str, values: Any) -> dict[str, Any]:
    return {"Condition": {operator: {key: values}}}


ALL = doc(allow("*"))
# allowed, explicit deny, no allow (implicit deny)
A, E, N = "allowed", "explicitDeny", "implicitDeny"

CASES: list[Case] = [
    # --- evaluation logic -----------------------------------------------------------------
    Case("no policy applies: implicit deny", EVAL, "drs:StartRecovery", N, identity=[doc(allow("drs:DescribeJobs"))]),
    Case("an identity Allow allows", EVAL, "drs:StartRecovery", A, identity=[doc(allow("drs:StartRecovery"))]),
    Case("explicit deny beats an allow in another policy", EVAL, "drs:StartRecovery", E,
         identity=[ALL, doc(deny("drs:StartRecovery"))]),
    Case("explicit deny beats an allow in the same policy", EVAL, "ec2:RunInstances", E,
         identity=[doc(allow("ec2:*"), deny("ec2:RunInstances"))]),
    Case("statement given as an object, not a list", IAM + "reference_policies_elements_statement.html",
         "drs:DescribeJobs", A, identity=[{"Version": "2012-10-17", "Statement": allow("drs:DescribeJobs")}]),
    Case("an Allow whose condition fails does not allow", EVAL, "drs:StartRecovery", N,
         identity=[doc(allow("drs:*", **when("StringEquals", "aws:RequestedRegion", "us-east-1")))],
         context={"aws:RequestedRegion": "eu-west-1"}),
    Case("a Deny whose condition fails does not deny", EVAL, "drs:StartRecovery", A,
         identity=[ALL, doc(deny("drs:*", **when("StringEquals", "aws:RequestedRegion", "us-east-1")))],
         context={"aws:RequestedRegion": "eu-west-1"}),
    # --- permissions boundaries -----------------------------------------------------------
    Case("identity allows, boundary does not: implicit deny", BOUNDARY, "iam:CreateUser", N,
         identity=[doc(allow("iam:CreateUser"))], boundary=doc(allow(["s3:*", "cloudwatch:*", "ec2:*"])),
         by_boundary=False),
    Case("boundary allows, identity does not: implicit deny", BOUNDARY, "ec2:RunInstances", N,
         identity=[doc(allow("s3:GetObject"))], boundary=doc(allow("ec2:*")), by_boundary=True),
    Case("identity and boundary both allow: allowed", BOUNDARY, "ec2:RunInstances", A,
         identity=[doc(allow("ec2:RunInstances"))], boundary=doc(allow("ec2:*")), by_boundary=True),
    Case("a Deny in the boundary denies", BOUNDARY, "ec2:TerminateInstances", E,
         identity=[ALL], boundary=doc(allow("*"), deny("ec2:TerminateInstances")), by_boundary=False),
    # --- service control policies ---------------------------------------------------------
    Case("SCP without an Allow for the action: implicit deny", SCP, "drs:StartRecovery", N,
         identity=[ALL], scps=[doc(allow(["ec2:*", "s3:*"]))], by_organizations=False),
    Case("SCP FullAWSAccess and identity allow: allowed", SCP, "drs:StartRecovery", A,
         identity=[doc(allow("drs:StartRecovery"))], scps=[doc(allow("*"))], by_organizations=True),
    Case("SCP Deny list denies even an administrator", SCP, "drs:DeleteSourceServer", E,
         identity=[ALL], scps=[doc(allow("*")), doc(deny("drs:DeleteSourceServer"))], by_organizations=False),
    Case("SCP allows but identity does not: implicit deny", SCP, "drs:StartRecovery", N,
         identity=[doc(allow("ec2:*"))], scps=[doc(allow("*"))], by_organizations=True),
    Case("SCP region guard with StringNotEquals denies other regions", SCP, "drs:StartRecovery", E,
         identity=[ALL], scps=[doc(allow("*"), {"Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "Resource": "*",
                                                **when("StringNotEquals", "aws:RequestedRegion", ["us-east-1"])})],
         context={"aws:RequestedRegion": "eu-central-1"}, by_organizations=False),
    Case("SCP region guard lets the approved region through", SCP, "drs:StartRecovery", A,
         identity=[ALL], scps=[doc(allow("*"), {"Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "Resource": "*",
                                                **when("StringNotEquals", "aws:RequestedRegion", ["us-east-1"])})],
         context={"aws:RequestedRegion": "us-east-1"}, by_organizations=True),
    # --- session policies -----------------------------------------------------------------
    Case("session policy without the action: implicit deny", SESSION, "drs:StartRecovery", N,
         identity=[ALL], session=doc(allow("drs:Describe*"))),
    Case("session policy and identity both allow: allowed", SESSION, "drs:DescribeJobs", A,
         identity=[ALL], session=doc(allow("drs:Describe*"))),
    # --- resource-based policies ----------------------------------------------------------
    Case("same account: a resource policy naming the role allows alone", EVAL, "lambda:InvokeFunction", A,
         resource_policies=[doc({"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "lambda:InvokeFunction",
                                 "Resource": "*"})]),
    Case("a resource policy naming another principal does not allow", PRINCIPAL, "lambda:InvokeFunction", N,
         resource_policies=[doc({"Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "lambda:InvokeFunction",
                                 "Resource": "*"})]),
    Case("an account principal stands for every principal of the account", PRINCIPAL, "sqs:SendMessage", A,
         resource_policies=[doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                                 "Action": "sqs:SendMessage", "Resource": "*"})]),
    Case("an account id principal stands for the account too", PRINCIPAL, "sqs:SendMessage", A,
         resource_policies=[doc({"Effect": "Allow", "Principal": {"AWS": "111122223333"},
                                 "Action": "sqs:SendMessage", "Resource": "*"})]),
    Case("a resource policy Deny beats an identity Allow", EVAL, "s3:GetObject", E, identity=[ALL],
         resource_policies=[doc({"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"})]),
    Case("NotPrincipal Deny spares the named role", NOTPRINCIPAL, "s3:GetObject", A, identity=[ALL],
         resource_policies=[doc({"Effect": "Deny", "NotPrincipal": {"AWS": ROLE}, "Action": "s3:*",
                                 "Resource": "*"})]),
    Case("NotPrincipal Deny hits every other principal", NOTPRINCIPAL, "s3:GetObject", E, identity=[ALL],
         principal=OTHER, resource_policies=[doc({"Effect": "Deny", "NotPrincipal": {"AWS": ROLE},
                                                  "Action": "s3:*", "Resource": "*"})]),
    # --- Action, NotAction ----------------------------------------------------------------
    Case("action names are case-insensitive", ACTION, "drs:DescribeJobs", A, identity=[doc(allow("DRS:describe*"))]),
    Case("a wildcard in the middle of an action", ACTION, "iam:CreateAccessKey", A,
         identity=[doc(allow("iam:*AccessKey*"))]),
    Case("? matches exactly one character", ACTION, "ec2:StopInstances", A, identity=[doc(allow("ec2:St?pInstances"))]),
    Case("? does not match two characters", ACTION, "ec2:StoopInstances", N, identity=[doc(allow("ec2:St?pInstances"))]),
    Case("Allow NotAction allows everything else", NOTACTION, "s3:ListBucket", A,
         identity=[doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})]),
    Case("Allow NotAction does not allow the listed service", NOTACTION, "iam:CreateUser", N,
         identity=[doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})]),
    Case("Deny NotAction with BoolIfExists MFA denies without MFA", NOTACTION, "ec2:RunInstances", E,
         identity=[ALL, doc({"Effect": "Deny", "NotAction": "iam:*", "Resource": "*",
                             **when("BoolIfExists", "aws:MultiFactorAuthPresent", "false")})],
         context={"aws:MultiFactorAuthPresent": "false"}),
    Case("Deny NotAction with BoolIfExists MFA: absent key counts as a match", NOTACTION, "ec2:RunInstances", E,
         identity=[ALL, doc({"Effect": "Deny", "NotAction": "iam:*", "Resource": "*",
                             **when("BoolIfExists", "aws:MultiFactorAuthPresent", "false")})]),
    Case("Deny NotAction spares the listed actions", NOTACTION, "iam:ListUsers", A,
         identity=[ALL, doc({"Effect": "Deny", "NotAction": "iam:*", "Resource": "*",
                             **when("BoolIfExists", "aws:MultiFactorAuthPresent", "false")})],
         context={"aws:MultiFactorAuthPresent": "false"}),
    # --- Resource, NotResource ------------------------------------------------------------
    Case("resource ARNs are case-sensitive", RESOURCE, "s3:GetObject", N,
         identity=[doc(allow("s3:GetObject", "arn:aws:s3:::Amzn-S3-Demo-Bucket/*"))], resource=BUCKET + "/a.txt"),
    Case("a wildcard in the region and account segments", RESOURCE, "dynamodb:GetItem", A,
         identity=[doc(allow("dynamodb:GetItem", "arn:aws:dynamodb:*:*:table/plans"))],
         resource="arn:aws:dynamodb:us-east-1:111122223333:table/plans"),
    Case("a segment wildcard does not cross into the next segment", RESOURCE, "sns:Publish", N,
         identity=[doc(allow("sns:Publish", "arn:aws:sns:*:111122223333:topic"))],
         resource="arn:aws:sns:us-east-1:444455556666:111122223333:topic"),
    Case("several resources are ORed", RESOURCE, "dynamodb:PutItem", A,
         identity=[doc(allow("dynamodb:PutItem", ["arn:aws:dynamodb:us-east-1:111122223333:table/a",
                                                  "arn:aws:dynamodb:us-east-1:111122223333:table/b"]))],
         resource="arn:aws:dynamodb:us-east-1:111122223333:table/b"),
    Case("a specific resource does not cover a request for *", RESOURCE, "dynamodb:PutItem", N,
         identity=[doc(allow("dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:111122223333:table/a"))]),
    Case("Allow NotResource allows other resources", NOTRESOURCE, "s3:GetObject", A,
         identity=[doc({"Effect": "Allow", "Action": "s3:*", "NotResource": [BUCKET + "/Payroll/*"]})],
         resource=BUCKET + "/Public/report.txt"),
    Case("Allow NotResource does not allow the listed resource", NOTRESOURCE, "s3:GetObject", N,
         identity=[doc({"Effect": "Allow", "Action": "s3:*", "NotResource": [BUCKET + "/Payroll/*"]})],
         resource=BUCKET + "/Payroll/june.csv"),
    # --- policy variables -----------------------------------------------------------------
    Case("${aws:username} in a resource", VARIABLES, "s3:GetObject", A,
         identity=[doc(allow("s3:GetObject", BUCKET + "/home/${aws:username}/*"))],
         resource=BUCKET + "/home/maria/notes.txt", context={"aws:username": "maria"}),
    Case("${aws:username} of another user does not match", VARIABLES, "s3:GetObject", N,
         identity=[doc(allow("s3:GetObject", BUCKET + "/home/${aws:username}/*"))],
         resource=BUCKET + "/home/maria/notes.txt", context={"aws:username": "carlos"}),
    Case("a variable without a context value does not match", VARIABLES, "s3:GetObject", N,
         identity=[doc(allow("s3:GetObject", BUCKET + "/home/${aws:username}/*"))],
         resource=BUCKET + "/home/maria/notes.txt", missing=["aws:username"]),
    Case("${aws:PrincipalTag/team} in a resource", VARIABLES, "dynamodb:GetItem", A,
         identity=[doc(allow("dynamodb:GetItem", "arn:aws:dynamodb:*:*:table/${aws:PrincipalTag/team}-*"))],
         resource="arn:aws:dynamodb:us-east-1:111122223333:table/dr-plans", context={"aws:PrincipalTag/team": "dr"}),
    Case("${aws:userid} in a resource", VARIABLES, "s3:PutObject", A,
         identity=[doc(allow("s3:PutObject", BUCKET + "/${aws:userid}/*"))],
         resource=BUCKET + "/AROAEXAMPLE:session/x", context={"aws:userid": "AROAEXAMPLE:session"}),
    Case("a variable's default value applies when the key is absent", VARIABLES, "s3:GetObject", A,
         identity=[doc(allow("s3:GetObject", BUCKET + "/${aws:PrincipalTag/team, 'company-wide'}/*"))],
         resource=BUCKET + "/company-wide/handbook.pdf"),
    Case("${*} is a literal star, not a wildcard", VARIABLES, "s3:GetObject", N,
         identity=[doc(allow("s3:GetObject", BUCKET + "/${*}literal"))], resource=BUCKET + "/xliteral"),
    Case("${*} matches a literal star", VARIABLES, "s3:GetObject", A,
         identity=[doc(allow("s3:GetObject", BUCKET + "/${*}literal"))], resource=BUCKET + "/*literal"),
    Case("Version 2008-10-17 keeps ${...} literal", VERSION, "s3:GetObject", N,
         identity=[doc(allow("s3:GetObject", BUCKET + "/home/${aws:username}/*"), version="2008-10-17")],
         resource=BUCKET + "/home/maria/notes.txt", context={"aws:username": "maria"}),
    Case("a variable in a condition value", VARIABLES, "iam:ChangePassword", A,
         identity=[doc(allow("iam:ChangePassword", **when("StringEquals", "aws:PrincipalTag/owner", "${aws:username}")))],
         context={"aws:username": "maria", "aws:PrincipalTag/owner": "maria"}),
    # --- condition operators --------------------------------------------------------------
    Case("StringEquals matches", OPS, "iam:CreateUser", A,
         identity=[doc(allow("iam:*", **when("StringEquals", "aws:PrincipalTag/job-category", "iamuser-admin")))],
         context={"aws:PrincipalTag/job-category": "iamuser-admin"}),
    Case("StringEquals is case-sensitive", OPS, "iam:CreateUser", N,
         identity=[doc(allow("iam:*", **when("StringEquals", "aws:PrincipalTag/job-category", "iamuser-admin")))],
         context={"aws:PrincipalTag/job-category": "IAMUser-Admin"}),
    Case("StringEqualsIgnoreCase ignores case", OPS, "iam:CreateUser", A,
         identity=[doc(allow("iam:*", **when("StringEqualsIgnoreCase", "aws:PrincipalTag/job-category",
                                             "iamuser-admin")))],
         context={"aws:PrincipalTag/job-category": "IAMUser-Admin"}),
    Case("StringLike with a wildcard", OPS, "s3:ListBucket", A,
         identity=[doc(allow("s3:ListBucket", **when("StringLike", "s3:prefix", ["home/*"])))],
         context={"s3:prefix": "home/maria/"}),
    Case("StringLike with ?", OPS, "s3:ListBucket", N,
         identity=[doc(allow("s3:ListBucket", **when("StringLike", "s3:prefix", ["home/?"])))],
         context={"s3:prefix": "home/ab"}),
    Case("StringNotEquals on an absent key is true", OPS, "ec2:RunInstances", E,
         identity=[ALL, doc(deny("ec2:RunInstances", **when("StringNotEquals", "aws:RequestTag/team", "dr")))]),
    Case("StringNotLike: none of the values may match", OPS, "s3:GetObject", A,
         identity=[ALL, doc(deny("s3:GetObject", **when("StringNotLike", "s3:prefix", ["home/*", "public/*"])))],
         context={"s3:prefix": "public/x"}),
    Case("NumericLessThanEquals within the limit", OPS, "s3:ListBucket", A,
         identity=[doc(allow("s3:ListBucket", **when("NumericLessThanEquals", "s3:max-keys", "10")))],
         context={"s3:max-keys": "10"}),
    Case("NumericLessThanEquals over the limit", OPS, "s3:ListBucket", N,
         identity=[doc(allow("s3:ListBucket", **when("NumericLessThanEquals", "s3:max-keys", "10")))],
         context={"s3:max-keys": "11"}),
    Case("NumericGreaterThan with a non-number context value is false", OPS, "s3:ListBucket", N,
         identity=[doc(allow("s3:ListBucket", **when("NumericGreaterThan", "s3:max-keys", 1)))],
         context={"s3:max-keys": "many"}),
    Case("DateGreaterThan on aws:CurrentTime (ISO 8601)", OPS, "drs:StartRecovery", A,
         identity=[doc(allow("drs:*", **when("DateGreaterThan", "aws:CurrentTime", "2020-04-01T00:00:00Z")))],
         context={"aws:CurrentTime": "2026-11-27T10:00:00Z"}),
    Case("DateLessThan on aws:EpochTime (epoch seconds)", OPS, "drs:StartRecovery", N,
         identity=[doc(allow("drs:*", **when("DateLessThan", "aws:EpochTime", "1585699200")))],
         context={"aws:EpochTime": "1795000000"}),
    Case("DateEquals across formats", OPS, "drs:StartRecovery", A,
         identity=[doc(allow("drs:*", **when("DateEquals", "aws:CurrentTime", "2020-04-01T00:00:00Z")))],
         context={"aws:CurrentTime": "1585699200"}),
    Case("Bool aws:SecureTransport false denies", OPS, "s3:GetObject", E,
         identity=[ALL, doc(deny("s3:*", **when("Bool", "aws:SecureTransport", False)))],
         context={"aws:SecureTransport": "false"}),
    Case("Bool with an absent key does not match", OPS, "s3:GetObject", A,
         identity=[ALL, doc(deny("s3:*", **when("Bool", "aws:SecureTransport", "false")))]),
    Case("BinaryEquals compares base64 values", OPS, "s3:GetObject", A,
         identity=[doc(allow("s3:GetObject", **when("BinaryEquals", "key", "QmluYXJ5VmFsdWVJbkJhc2U2NA==")))],
         context={"key": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}),
    Case("IpAddress inside the CIDR", OPS, "ec2:DescribeInstances", A,
         identity=[doc(allow("ec2:*", **when("IpAddress", "aws:SourceIp", "203.0.113.0/24")))],
         context={"aws:SourceIp": "203.0.113.7"}),
    Case("IpAddress with IPv6", OPS, "ec2:DescribeInstances", A,
         identity=[doc(allow("ec2:*", **when("IpAddress", "aws:SourceIp", ["203.0.113.0/24", "2001:DB8:1234:5678::/64"])))],
         context={"aws:SourceIp": "2001:db8:1234:5678::10"}),
    Case("NotIpAddress denies outside the CIDR", OPS, "ec2:DescribeInstances", E,
         identity=[ALL, doc(deny("*", **when("NotIpAddress", "aws:SourceIp", ["192.0.2.0/24", "203.0.113.0/24"])))],
         context={"aws:SourceIp": "198.51.100.1"}),
    Case("ArnEquals on aws:SourceArn", OPS, "lambda:InvokeFunction", A,
         identity=[doc(allow("lambda:InvokeFunction", **when("ArnEquals", "aws:SourceArn",
                                                             "arn:aws:events:us-east-1:111122223333:rule/finder")))],
         context={"aws:SourceArn": "arn:aws:events:us-east-1:111122223333:rule/finder"}),
    Case("ArnLike with a wildcard account", OPS, "sqs:SendMessage", A,
         identity=[doc(allow("sqs:SendMessage", **when("ArnLike", "aws:SourceArn", "arn:aws:sns:us-east-1:*:topic-*")))],
         context={"aws:SourceArn": "arn:aws:sns:us-east-1:111122223333:topic-a"}),
    Case("ArnNotEquals denies another source", OPS, "lambda:InvokeFunction", E,
         identity=[ALL, doc(deny("lambda:InvokeFunction", **when("ArnNotEquals", "aws:SourceArn",
                                                                 "arn:aws:events:us-east-1:111122223333:rule/finder")))],
         context={"aws:SourceArn": "arn:aws:events:us-east-1:111122223333:rule/other"}),
    Case("Null true: the key is absent", OPS, "ec2:RunInstances", E,
         identity=[ALL, doc(deny("ec2:RunInstances", **when("Null", "aws:RequestTag/CostCenter", "true")))]),
    Case("Null true: the key is present", OPS, "ec2:RunInstances", A,
         identity=[ALL, doc(deny("ec2:RunInstances", **when("Null", "aws:RequestTag/CostCenter", "true")))],
         context={"aws:RequestTag/CostCenter": "42"}),
    Case("...IfExists: an absent key is true", OPS, "ec2:RunInstances", A,
         identity=[doc(allow("ec2:RunInstances", **when("StringLikeIfExists", "ec2:InstanceType", ["t3.*"])))]),
    Case("...IfExists: a present key is compared", OPS, "ec2:RunInstances", N,
         identity=[doc(allow("ec2:RunInstances", **when("StringLikeIfExists", "ec2:InstanceType", ["t3.*"])))],
         context={"ec2:InstanceType": "m5.large"}),
    Case("condition key names are case-insensitive", OPS, "ec2:DescribeInstances", A,
         identity=[doc(allow("ec2:*", **when("IpAddress", "AWS:SOURCEIP", "203.0.113.0/24")))],
         context={"aws:SourceIp": "203.0.113.7"}),
    # --- several keys, several values, multivalued keys -----------------------------------
    Case("several keys in one operator are ANDed (one fails)", LOGIC, "s3:PutObject", N,
         identity=[doc(allow("s3:PutObject", Condition={"StringEquals": {"aws:PrincipalTag/team": "dr",
                                                                          "aws:RequestedRegion": "us-east-1"}}))],
         context={"aws:PrincipalTag/team": "dr", "aws:RequestedRegion": "us-west-2"}),
    Case("several operators are ANDed (all hold)", LOGIC, "s3:PutObject", A,
         identity=[doc(allow("s3:PutObject", Condition={"StringEquals": {"aws:PrincipalTag/team": "dr"},
                                                         "IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}))],
         context={"aws:PrincipalTag/team": "dr", "aws:SourceIp": "203.0.113.9"}),
    Case("several values for one key are ORed", LOGIC, "drs:StartRecovery", A,
         identity=[doc(allow("drs:*", **when("StringEquals", "aws:RequestedRegion", ["us-east-1", "us-west-2"])))],
         context={"aws:RequestedRegion": "us-west-2"}),
    Case("ForAnyValue: one request tag key is enough", MULTI, "ec2:CreateTags", A,
         identity=[doc(allow("ec2:CreateTags", **when("ForAnyValue:StringEquals", "aws:TagKeys", ["team", "env"])))],
         context={"aws:TagKeys": ["team", "other"]}),
    Case("ForAnyValue with an absent key is false", MULTI, "ec2:CreateTags", N,
         identity=[doc(allow("ec2:CreateTags", **when("ForAnyValue:StringEquals", "aws:TagKeys", ["team", "env"])))]),
    Case("ForAllValues: every request tag key must be listed", MULTI, "ec2:CreateTags", N,
         identity=[doc(allow("ec2:CreateTags", **when("ForAllValues:StringEquals", "aws:TagKeys", ["team", "env"])))],
         context={"aws:TagKeys": ["team", "other"]}),
    Case("ForAllValues: a subset of the listed keys matches", MULTI, "ec2:CreateTags", A,
         identity=[doc(allow("ec2:CreateTags", **when("ForAllValues:StringEquals", "aws:TagKeys", ["team", "env"])))],
         context={"aws:TagKeys": ["env"]}),
    Case("ForAllValues with an absent key is true", MULTI, "ec2:CreateTags", A,
         identity=[doc(allow("ec2:CreateTags", **when("ForAllValues:StringEquals", "aws:TagKeys", ["team", "env"])))]),
    Case("ForAllValues:StringLike with wildcards", MULTI, "ec2:CreateTags", A,
         identity=[doc(allow("ec2:CreateTags", **when("ForAllValues:StringLike", "aws:TagKeys", ["dr-*"])))],
         context={"aws:TagKeys": ["dr-wave", "dr-plan"]}),
    Case("ForAnyValue:StringNotLike: one key outside the list is enough", MULTI, "ec2:CreateTags", E,
         identity=[ALL, doc(deny("ec2:CreateTags", **when("ForAnyValue:StringNotLike", "aws:TagKeys", ["dr-*"])))],
         context={"aws:TagKeys": ["dr-wave", "owner"]}),
    Case("missing context values are reported", OPS, "ec2:RunInstances", N,
         identity=[doc(allow("ec2:RunInstances", **when("StringEquals", "ec2:InstanceType", "t3.micro")))],
         missing=["ec2:InstanceType"]),
]
