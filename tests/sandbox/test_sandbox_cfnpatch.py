"""moto's CloudFormation as real templates use it: each scenario deployed on plain moto (which gets it
wrong, as measured) and on moto with the sandbox's patches (which gets it as CloudFormation does)."""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from typing import Any

import boto3
import botocore.exceptions
from moto import mock_aws

from drsdoctor.sandbox import cfnpatch, motopatch

REGION = {"region_name": "us-east-1"}
TRUST = ('{Version: "2012-10-17", Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, '
         'Action: "sts:AssumeRole"}]}')


def plain_and_patched(scenario: Callable[[], Any]) -> tuple[Any, Any]:
    """What a scenario reads from plain moto, then from moto with the sandbox's CloudFormation patches; a
    stack that does not deploy reads as ("error", its message)."""

    def run() -> Any:
        with mock_aws():
            try:
                return scenario()
            except (botocore.exceptions.ClientError, AttributeError, TypeError, KeyError) as error:
                return ("error", str(error))

    plain = run()
    cfnpatch.install(motopatch._replace)
    try:
        return plain, run()
    finally:
        motopatch.uninstall()


def policy_document(role: str, name: str) -> Any:
    """A role's inline policy as a mapping: moto's CloudFormation stores it as the template's mapping, whose
    Python repr GetRolePolicy answers (the sandbox's motopatch fixes that; these tests run without it)."""
    document = boto3.client("iam", **REGION).get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    return ast.literal_eval(document) if isinstance(document, str) else document


def deploy(template: str, name: str = "root", **parameters: str) -> Any:
    cloudformation = boto3.client("cloudformation", **REGION)
    cloudformation.create_stack(StackName=name, TemplateBody=template, Capabilities=["CAPABILITY_NAMED_IAM"],
                                Parameters=[{"ParameterKey": k, "ParameterValue": v}
                                            for k, v in parameters.items()])
    return cloudformation


CHILD = """
Parameters:
  Prefix: {Type: String}
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub ${Prefix}-records
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
Outputs:
  TableName: {Value: !Ref Table}
  TableArn: {Value: !GetAtt Table.Arn}
"""
PARENT = f"""
Parameters:
  ChildUrl: {{Type: String}}
Resources:
  Tables:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: !Ref ChildUrl
      Parameters: {{Prefix: nested}}
  Reader:
    Type: AWS::IAM::Role
    Properties:
      RoleName: reader
      AssumeRolePolicyDocument: {TRUST}
      Policies:
        - PolicyName: read
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - {{Effect: Allow, Action: dynamodb:GetItem, Resource: !GetAtt Tables.Outputs.TableArn}}
Outputs:
  TableName: {{Value: !GetAtt Tables.Outputs.TableName}}
  Joined: {{Value: !Sub "table ${{Tables.Outputs.TableName}}"}}
"""


def test_a_nested_stack_s_outputs_are_read_with_getatt_outputs() -> None:
    def scenario() -> Any:
        s3 = boto3.client("s3", **REGION)
        s3.create_bucket(Bucket="templates")
        s3.put_object(Bucket="templates", Key="tables.yaml", Body=CHILD.encode())
        cloudformation = deploy(PARENT, ChildUrl="https://templates.s3.amazonaws.com/tables.yaml")
        stacks = {stack["StackName"]: stack for stack in cloudformation.describe_stacks()["Stacks"]}
        root = stacks.pop("root")
        [child] = stacks.values()
        policy = policy_document("reader", "read")
        resource = cloudformation.describe_stack_resources(StackName="root", LogicalResourceId="Tables")
        return {"outputs": {o["OutputKey"]: o["OutputValue"] for o in root["Outputs"]},
                "child": child["StackName"].startswith("root-Tables-"),
                "parent": (child.get("ParentId"), child.get("RootId")) == (root["StackId"],) * 2,
                "physical id": resource["StackResources"][0]["PhysicalResourceId"] == child["StackId"],
                "policy": policy["Statement"][0]["Resource"]}

    plain, patched = plain_and_patched(scenario)
    assert plain[0] == "error"  # moto's Stack has no attributes: the parent cannot deploy
    assert patched == {"outputs": {"TableName": "nested-records", "Joined": "table nested-records"},
                       "child": True, "parent": True, "physical id": True,
                       "policy": "arn:aws:dynamodb:us-east-1:123456789012:table/nested-records"}


DEFINITION_OBJECT = f"""
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties: {{RoleName: machine, AssumeRolePolicyDocument: {TRUST}}}
  Machine:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      StateMachineName: machine
      RoleArn: !GetAtt Role.Arn
      DefinitionSubstitutions: {{Seconds: 5, Role: !GetAtt Role.Arn}}
      Definition:
        QueryLanguage: JSONata
        StartAt: Pause
        States:
          Pause: {{Type: Wait, Seconds: 5, Comment: "waits ${{Seconds}} seconds", Next: Done}}
          Done: {{Type: Pass, Output: {{role: "${{Role}}"}}, End: true}}
"""


def test_a_state_machine_s_definition_given_as_an_object_is_deployed() -> None:
    def scenario() -> Any:
        deploy(DEFINITION_OBJECT)
        sfn = boto3.client("stepfunctions", **REGION)
        [machine] = sfn.list_state_machines()["stateMachines"]
        return sfn.describe_state_machine(stateMachineArn=machine["stateMachineArn"])["definition"]

    plain, patched = plain_and_patched(scenario)
    assert not plain.strip("{} ")  # moto read only DefinitionString: an empty definition
    definition = json.loads(patched)
    assert definition["StartAt"] == "Pause" and definition["QueryLanguage"] == "JSONata"
    assert definition["States"]["Pause"]["Comment"] == "waits 5 seconds"  # DefinitionSubstitutions
    assert definition["States"]["Done"]["Output"] == {"role": "arn:aws:iam::123456789012:role/machine"}


NO_VALUE = f"""
Parameters:
  Audit: {{Type: String, Default: "no"}}
Conditions:
  Auditing: !Equals [!Ref Audit, "yes"]
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: worker
      AssumeRolePolicyDocument: {TRUST}
      Policies:
        - PolicyName: work
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: [dynamodb:GetItem, !If [Auditing, dynamodb:Scan, !Ref AWS::NoValue]]
                Resource: "*"
        - !If
          - Auditing
          - PolicyName: audit
            PolicyDocument:
              Version: "2012-10-17"
              Statement: [{{Effect: Allow, Action: "s3:*", Resource: "*"}}]
          - !Ref AWS::NoValue
"""


def test_fn_if_choosing_no_value_leaves_a_list_item_out() -> None:
    def scenario(audit: str) -> Callable[[], Any]:
        def read() -> Any:
            deploy(NO_VALUE, Audit=audit)
            iam = boto3.client("iam", **REGION)
            names = iam.list_role_policies(RoleName="worker")["PolicyNames"]
            document = policy_document("worker", "work")
            return sorted(names), document["Statement"][0]["Action"]
        return read

    plain, patched = plain_and_patched(scenario("no"))
    assert plain[0] == "error"  # a null policy in the role's list
    assert patched == (["work"], ["dynamodb:GetItem"])
    _, auditing = plain_and_patched(scenario("yes"))
    assert auditing == (["audit", "work"], ["dynamodb:GetItem", "dynamodb:Scan"])


CONDITIONAL_OUTPUT = """
Conditions:
  Never: !Equals [a, b]
Resources:
  Queue: {Type: AWS::SQS::Queue}
Outputs:
  QueueArn: {Value: !GetAtt Queue.Arn}
  Shared: {Condition: Never, Value: !GetAtt Queue.Arn, Export: {Name: shared-queue}}
"""


def test_an_output_with_a_false_condition_is_neither_shown_nor_exported() -> None:
    def scenario() -> Any:
        cloudformation = deploy(CONDITIONAL_OUTPUT, name="queues")
        [stack] = cloudformation.describe_stacks(StackName="queues")["Stacks"]
        return ([sorted(output) for output in stack["Outputs"]],
                [export["Name"] for export in cloudformation.list_exports()["Exports"]])

    plain, patched = plain_and_patched(scenario)
    assert plain[1] == ["shared-queue"]  # moto exported it, and named the shown output after the export
    assert patched == ([["OutputKey", "OutputValue"]], [])
