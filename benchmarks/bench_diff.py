"""diff-stacks on two 500-resource templates: the diff's cost next to the cost of only loading both.

    .venv/bin/python benchmarks/bench_diff.py [--resources 500] [--repeat 3]
    .venv/bin/python benchmarks/bench_diff.py --nested 6 --resources 100 [--repeat 3]

Prints, side by side from one run: load (decode both files with short-form tags), diff (resolve,
normalise, match and compare, IAM effective permissions included) and the total of diff-stacks.
With --nested N each side is a root template of N nested stacks (found from their S3 TemplateURL)
of --resources resources each; "load both" decodes both whole trees, and the diff is the total of
diff-stacks (which finds and decodes the children itself) less that.
The aim: the diff costs no more than the loading.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from drsdoctor.diff.engine import diff_sources
from drsdoctor.diff.loader import load_template_file
from drsdoctor.diff.sides import source_from_template
from drsdoctor.diff.sources import load_sources

KINDS = ("table", "role", "function", "rule", "machine")


def resource(kind: str, index: int, variant: int) -> str:
    """One resource in YAML; `variant` 1 changes some of them the way drift does."""
    name = f"{kind.title()}{index}"
    changed = variant == 1 and index % 25 < len(KINDS)  # one of each kind in every 25
    if kind == "table":
        index_block = (
            ""
            if changed
            else (
                "      GlobalSecondaryIndexes:\n        - IndexName: StatusIndex\n          KeySchema:\n"
                "            - {AttributeName: status, KeyType: HASH}\n"
                "          Projection: {ProjectionType: KEYS_ONLY}\n"
            )
        )
        return (
            f"  {name}:\n    Type: AWS::DynamoDB::Table\n    Properties:\n"
            f"      TableName: !Sub drs-${{EnvironmentName}}-{name.lower()}\n"
            "      BillingMode: PAY_PER_REQUEST\n"
            "      AttributeDefinitions:\n        - {AttributeName: id, AttributeType: S}\n"
            "        - {AttributeName: status, AttributeType: S}\n"
            "      KeySchema:\n        - {AttributeName: id, KeyType: HASH}\n" + index_block
        )
    if kind == "role":
        actions = "[drs:DescribeJobLogItems]" if changed else "[drs:DescribeJobs, drs:DescribeJobLogItems]"
        return (
            f"  {name}:\n    Type: AWS::IAM::Role\n    Properties:\n"
            f"      RoleName: !Sub drs-${{EnvironmentName}}-{name.lower()}\n"
            "      AssumeRolePolicyDocument:\n        Version: '2012-10-17'\n        Statement:\n"
            "          - {Effect: Allow, Principal: {Service: lambda.amazonaws.com},"
            " Action: sts:AssumeRole}\n"
            "      Policies:\n        - PolicyName: main\n          PolicyDocument:\n"
            "            Version: '2012-10-17'\n            Statement:\n"
            f"              - {{Effect: Allow, Action: {actions}, Resource: '*'}}\n"
            "              - Effect: Allow\n"
            "                Action: [dynamodb:GetItem, dynamodb:UpdateItem]\n"
            f"                Resource: !GetAtt Table{index - 1}.Arn\n"
            "              - {Effect: Allow, Action: 'ec2:Describe*', Resource: '*'}\n"
        )
    if kind == "function":
        table = "drs-archive-table0" if changed else f"!Ref Table{index - 2}"
        return (
            f"  {name}:\n    Type: AWS::Lambda::Function\n    Properties:\n"
            f"      FunctionName: !Sub drs-${{EnvironmentName}}-{name.lower()}\n      Runtime: python3.12\n"
            f"      Handler: app.handler\n      Role: !GetAtt Role{index - 1}.Arn\n"
            f"      Timeout: {3 if changed else 60}\n      MemorySize: 128\n"
            "      Code: {S3Bucket: code, S3Key: app.zip}\n"
            f"      Environment:\n        Variables:\n          TABLE: {table}\n"
            "          ENVIRONMENT: !Ref EnvironmentName\n"
        )
    if kind == "rule":
        return (
            f"  {name}:\n    Type: AWS::Events::Rule\n    Properties:\n"
            f"      ScheduleExpression: rate(1 minute)\n      State: {'DISABLED' if changed else 'ENABLED'}\n"
            f"      Targets:\n        - Id: finder\n          Arn: !GetAtt Function{index - 1}.Arn\n"
        )
    status = "Completed" if changed else "COMPLETED"
    return (
        f"  {name}:\n    Type: AWS::StepFunctions::StateMachine\n    Properties:\n"
        f"      RoleArn: !GetAtt Role{index - 3}.Arn\n      DefinitionString: !Sub |\n"
        '        {"StartAt": "Check", "States": {\n'
        f'          "Check": {{"Type": "Task", "Resource": "${{Function{index - 2}.Arn}}",'
        ' "Next": "Done?"},\n'
        '          "Done?": {"Type": "Choice", "Choices": [{"Variable": "$.status", '
        f'"StringEquals": "{status}", "Next": "End"}}], "Default": "Wait"}},\n'
        '          "Wait": {"Type": "Wait", "Seconds": 30, "Next": "Check"},\n'
        '          "End": {"Type": "Succeed"}}}\n'
    )


def template(count: int, environment: str, variant: int) -> str:
    lines = [
        "AWSTemplateFormatVersion: '2010-09-09'",
        "Parameters:",
        f"  EnvironmentName: {{Type: String, Default: {environment}}}",
        "Resources:",
    ]
    for index in range(count):
        lines.append(resource(KINDS[index % len(KINDS)], index, variant).rstrip("\n"))
    return "\n".join(lines) + "\n"


def root(children: int, environment: str) -> str:
    """A root template whose children are nested stacks, each named by an S3 URL built with !Sub."""
    lines = [
        "AWSTemplateFormatVersion: '2010-09-09'",
        "Parameters:",
        f"  EnvironmentName: {{Type: String, Default: {environment}}}",
        "  TemplateBucket: {Type: String, Default: drs-templates}",
        "Resources:",
    ]
    for index in range(children):
        lines += [
            f"  Child{index}:",
            "    Type: AWS::CloudFormation::Stack",
            "    Properties:",
            f"      TemplateURL: !Sub https://s3.amazonaws.com/${{TemplateBucket}}/cfn/child{index}.yaml",
            "      Parameters: {EnvironmentName: !Ref EnvironmentName}",
        ]
    return "\n".join(lines) + "\n"


def write_trees(folder: str, children: int, resources: int) -> tuple[Path, Path, list[Path]]:
    files: list[Path] = []
    roots = []
    for side, variant in (("archive", 0), ("current", 1)):
        cfn = Path(folder, side, "cfn")
        cfn.mkdir(parents=True)
        top = cfn / "master-template.yaml"
        top.write_text(root(children, side))
        files.append(top)
        for index in range(children):
            child = cfn / f"child{index}.yaml"
            child.write_text(template(resources, side, variant))
            files.append(child)
        roots.append(top)
    return roots[0], roots[1], files


def nested(children: int, resources: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        archive, current, files = write_trees(folder, children, resources)
        load_template_file(archive)  # import the decoder once, outside the timings
        loads, totals = [], []
        changes = 0
        for _ in range(repeat):
            started = time.perf_counter()
            for path in files:
                load_template_file(path)
            loaded = time.perf_counter()
            result = diff_sources(*load_sources(str(archive), str(current), {}, {}, None))
            done = time.perf_counter()
            loads.append(loaded - started)
            totals.append(done - loaded)
            changes = len(result.changes)
            if result.a.unread or result.b.unread:
                raise SystemExit(f"nested stacks not followed: {result.a.unread + result.b.unread}")
    load, total = statistics.median(loads), statistics.median(totals)
    diff = max(total - load, 0.0)
    print(f"resources per template: {resources}; nested stacks per root: {children}; "
          f"changes found: {changes}; runs: {repeat} (median)")
    print(f"load both : {load * 1000:8.0f} ms  (both trees: {len(files)} files)")
    print(f"diff      : {diff * 1000:8.0f} ms  ({diff / load:.2f} x load)")
    print(f"total     : {total * 1000:8.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--nested", type=int, default=0, help="nested stacks per root (0: one flat template)")
    args = parser.parse_args()
    if args.nested:
        nested(args.nested, args.resources, args.repeat)
        return
    with tempfile.TemporaryDirectory() as folder:
        archive, current = Path(folder, "archive.yaml"), Path(folder, "current.yaml")
        archive.write_text(template(args.resources, "archive", 0))
        current.write_text(template(args.resources, "current", 1))
        load_template_file(archive)  # import the decoder once, outside the timings
        loads, diffs = [], []
        changes = 0
        for _ in range(args.repeat):
            started = time.perf_counter()
            a_template, b_template = load_template_file(archive), load_template_file(current)
            loaded = time.perf_counter()
            result = diff_sources(
                source_from_template(a_template, str(archive), "file", {}),
                source_from_template(b_template, str(current), "file", {}),
            )
            done = time.perf_counter()
            loads.append(loaded - started)
            diffs.append(done - loaded)
            changes = len(result.changes)
    load, diff = statistics.median(loads), statistics.median(diffs)
    print(f"resources per template: {args.resources}; changes found: {changes}; runs: {args.repeat} (median)")
    print(f"load both : {load * 1000:8.0f} ms")
    print(f"diff      : {diff * 1000:8.0f} ms  ({diff / load:.2f} x load)")
    print(f"total     : {(load + diff) * 1000:8.0f} ms")


if __name__ == "__main__":
    main()
