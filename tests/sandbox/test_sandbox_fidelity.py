"""The sandbox behaves like AWS where drsdoctor reads it (issue 11, Fidelity): Lambda's init and handler
errors, asynchronous retries, one clock, regional DRS, log filter patterns, cron schedules, history paging,
the interpreter a function's Runtime names, AWS managed policies.

One world for the module, started as `sandbox serve` starts it (days behind the wall clock), its clock
moved by hand: nothing here sleeps.
"""

from __future__ import annotations

import datetime
import io
import json
import shutil
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest

from drsdoctor.commands.sandbox import SERVE_LEAD
from drsdoctor.sandbox.world import Sandbox

pytestmark = pytest.mark.slow

CODE = {
    "good.py": "import json\n\ndef handler(event, context):\n    print('handled', json.dumps(event))\n"
               "    if event.get('fail'):\n        raise RuntimeError('asked to fail')\n    return event\n",
    "broken.py": "def handler(event, context)\n    return 1\n",  # a syntax error
}


def package(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def world() -> Iterator[Sandbox]:
    with Sandbox.start(lead=SERVE_LEAD, run_clock=False) as running:
        trust = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}]}
        role = running.client("iam").create_role(RoleName="fidelity-role",
                                                 AssumeRolePolicyDocument=json.dumps(trust))
        for name, handler, runtime in (("good", "good.handler", "python3.11"),
                                       ("no-module", "missing.handler", "python3.11"),
                                       ("no-handler", "good.absent", "python3.11"),
                                       ("syntax", "broken.handler", "python3.11"),
                                       ("unknown-runtime", "good.handler", "python3.9")):
            running.client("lambda").create_function(
                FunctionName=name, Runtime=runtime, Handler=handler, Timeout=30, Role=role["Role"]["Arn"],
                Code={"ZipFile": package(CODE)})
        yield running


def invoke(world: Sandbox, name: str, payload: dict[str, Any] | None = None) -> tuple[dict[str, Any], Any]:
    answer = world.client("lambda").invoke(FunctionName=name, Payload=json.dumps(payload or {}).encode())
    return answer, json.loads(answer["Payload"].read())


def log_messages(world: Sandbox, name: str) -> list[str]:
    events = world.client("logs").filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    return [event["message"] for event in events]


def errors_counted(world: Sandbox, name: str) -> float:
    now = world.clock.now()
    stats = world.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/Lambda", MetricName="Errors", Dimensions=[{"Name": "FunctionName", "Value": name}],
        StartTime=now - datetime.timedelta(hours=1), EndTime=now + datetime.timedelta(minutes=1), Period=60,
        Statistics=["Sum"])
    return sum(point["Sum"] for point in stats["Datapoints"])


# -- Lambda's init and handler errors -------------------------------------------------------------------

@pytest.mark.parametrize(("name", "error_type", "message"), [
    ("no-module", "Runtime.ImportModuleError",
     "Unable to import module 'missing': No module named 'missing'"),
    ("no-handler", "Runtime.HandlerNotFound", "Handler 'absent' missing on module 'good'"),
    ("syntax", "Runtime.UserCodeSyntaxError", "Syntax error in module 'broken': "),
])
def test_init_errors_are_reported_as_lambda_reports_them(world: Sandbox, name: str, error_type: str,
                                                         message: str) -> None:
    answer, error = invoke(world, name)
    assert answer["FunctionError"] == "Unhandled"
    assert error["errorType"] == error_type and error["errorMessage"].startswith(message)
    messages = log_messages(world, name)
    # the runtime's error line (its traceback in the same event), then the platform's INIT_REPORT for the
    # init phase and again for the invoke phase, then START/END and a REPORT that names the error
    assert any(m.startswith(f"[ERROR] {error_type}: {message}") and "\rTraceback" in m for m in messages)
    for phase in ("init", "invoke"):
        assert any(m.startswith("INIT_REPORT Init Duration: ") and f"Phase: {phase}\tStatus: error\t"
                   f"Error Type: {error_type}" in m for m in messages)
    report = next(m for m in messages if m.startswith("REPORT RequestId:"))
    assert report.endswith(f"\tStatus: error\tError Type: {error_type}")
    assert messages.index(report) > max(i for i, m in enumerate(messages) if m.startswith("INIT_REPORT"))
    assert errors_counted(world, name) >= 1


def test_a_handler_exception_is_one_log_event_with_its_traceback(world: Sandbox) -> None:
    answer, error = invoke(world, "good", {"fail": True})
    assert answer["FunctionError"] == "Unhandled" and error["errorType"] == "RuntimeError"
    assert error["requestId"]
    failed = [m for m in log_messages(world, "good") if m.startswith("[ERROR] RuntimeError: asked to fail")]
    assert failed and "\rTraceback (most recent call last):\r" in failed[-1] and "good.py" in failed[-1]


def test_a_failed_async_invocation_is_retried_twice_then_sent_to_its_destination(world: Sandbox) -> None:
    sqs = world.client("sqs")
    queue = sqs.create_queue(QueueName="failed-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue,
                                         AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    lambda_ = world.client("lambda")
    lambda_.put_function_event_invoke_config(FunctionName="good", DestinationConfig={
        "OnFailure": {"Destination": queue_arn}})
    try:
        def attempts() -> int:
            return sum('"marker": "async-retry"' in m for m in log_messages(world, "good"))

        lambda_.invoke(FunctionName="good", InvocationType="Event",
                       Payload=json.dumps({"fail": True, "marker": "async-retry"}).encode())
        _wait(lambda: attempts() == 1)
        world.clock.advance(60)  # Lambda waits a minute before the first retry...
        _wait(lambda: attempts() == 2)
        world.clock.advance(120)  # ...and two more before the second
        _wait(lambda: attempts() == 3)
        world.clock.advance(600)
        _wait(lambda: bool(sqs.get_queue_attributes(
            QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"] != "0"))
        assert attempts() == 3  # twice retried, no more
        record = json.loads(sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"])
        assert record["requestContext"]["condition"] == "RetriesExhausted"
        assert record["requestContext"]["approximateInvokeCount"] == 3
        assert record["requestPayload"]["marker"] == "async-retry"
        assert record["responsePayload"]["errorType"] == "RuntimeError"
    finally:
        lambda_.delete_function_event_invoke_config(FunctionName="good")


def _wait(condition: Any, real_seconds: float = 20.0) -> None:
    """Poll a condition the world's background threads make true (real time: their work is real)."""
    import time

    deadline = time.monotonic() + real_seconds
    while not condition():
        assert time.monotonic() < deadline, "the world never got there"
        time.sleep(0.05)


# -- the interpreter a function's Runtime names -----------------------------------------------------------

def test_a_function_whose_interpreter_is_missing_runs_on_the_sandboxs_own_and_says_so(world: Sandbox) -> None:
    answer, result = invoke(world, "unknown-runtime", {"hello": 1})
    assert "FunctionError" not in answer and result == {"hello": 1}
    messages = log_messages(world, "unknown-runtime")
    assert any("python3.9 is not installed" in m and "python3.11" in m for m in messages)
    notice = next(i for i, m in enumerate(messages) if "is not installed" in m)
    assert notice < next(i for i, m in enumerate(messages) if m.startswith("START RequestId:"))


def test_the_runtime_picks_the_interpreter_its_runtime_names_when_installed() -> None:
    import sys

    from drsdoctor.sandbox.interpreter import interpreter_for, probe_installed

    own = f"python{sys.version_info.major}.{sys.version_info.minor}"
    installed = {"python3.12": "/opt/python3.12"}
    asked: list[str] = []

    def probe(command: str, version: str) -> str | None:
        asked.append(command)
        assert command == f"python{version}"
        return installed.get(command)

    assert interpreter_for("python3.12", probe) == ("/opt/python3.12", "")
    assert interpreter_for(own, probe) == (sys.executable, "")  # the sandbox's own: nothing to look for
    executable, notice = interpreter_for("python3.13", probe)
    assert executable == sys.executable and "python3.13 is not installed" in notice and own in notice
    assert interpreter_for("nodejs20.x", probe) == (sys.executable, "")
    assert asked == ["python3.12", "python3.13"]
    # the interpreter is asked its version: a command of another version (or a broken shim) is not taken
    assert probe_installed(own, "3.99") is None
    if shutil.which(own):
        assert probe_installed(own, own.removeprefix("python")) is not None


# -- one clock ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def stopped(world: Sandbox) -> str:
    """An execution of the reference state machine, stopped after its first steps."""
    sfn = world.client("stepfunctions")
    arn = world.start_recovery(name="one-clock")
    try:
        _wait(lambda: len(sfn.get_execution_history(executionArn=arn)["events"]) > 4)
    finally:
        sfn.stop_execution(executionArn=arn)
    _wait(lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING")
    return arn


def test_every_timestamp_the_world_writes_comes_from_its_clock(world: Sandbox, stopped: str) -> None:
    now = world.clock.now()
    assert datetime.datetime.now(datetime.timezone.utc) - now > datetime.timedelta(days=2)  # as serve starts

    def near(stamp: datetime.datetime, what: str) -> None:
        assert abs(stamp - world.clock.now()) < datetime.timedelta(minutes=5), f"{what}: {stamp} vs {now}"

    sfn, arn = world.client("stepfunctions"), stopped
    execution = sfn.describe_execution(executionArn=arn)
    near(execution["startDate"], "execution start")
    near(execution["stopDate"], "execution stop")
    for event in sfn.get_execution_history(executionArn=arn)["events"]:
        near(event["timestamp"], f"history event {event['type']}")
    _, _result = invoke(world, "good", {"clock": True})
    group = world.client("logs").describe_log_streams(logGroupName="/aws/lambda/good")["logStreams"][0]
    near(datetime.datetime.fromtimestamp(group["lastIngestionTime"] / 1000, datetime.timezone.utc),
         "log ingestion")
    events = world.client("logs").filter_log_events(logGroupName="/aws/lambda/good")["events"]
    near(datetime.datetime.fromtimestamp(events[-1]["timestamp"] / 1000, datetime.timezone.utc), "log event")
    world.client("cloudwatch").put_metric_data(Namespace="Fidelity", MetricData=[
        {"MetricName": "Unstamped", "Value": 1}])  # a metric the caller did not stamp: CloudWatch's now
    stats = world.client("cloudwatch").get_metric_statistics(
        Namespace="Fidelity", MetricName="Unstamped", StartTime=now - datetime.timedelta(hours=1),
        EndTime=now + datetime.timedelta(hours=1), Period=60, Statistics=["Sum"])
    assert stats["Datapoints"], "the metric landed at the wall clock's now, not the world's"


# -- DRS is regional; its recovery instances are EC2's ------------------------------------------------------

def regional(world: Sandbox, service: str, region: str) -> Any:
    return world.session().client(service, endpoint_url=world.endpoint_url, region_name=region)


def test_drs_answers_each_region_with_that_regions_world(world: Sandbox) -> None:
    home = world.client("drs").describe_source_servers(filters={})["items"]
    assert home and all(s["arn"].startswith(f"arn:aws:drs:{world.region}:") for s in home)
    elsewhere = regional(world, "drs", "ap-southeast-2")
    assert elsewhere.describe_source_servers(filters={})["items"] == []
    assert elsewhere.describe_jobs(filters={})["items"] == []
    assert elsewhere.describe_recovery_instances(filters={})["items"] == []
    # a server of us-east-1 is no server there: the job launches nothing, and only that region sees it
    job = elsewhere.start_recovery(sourceServers=[{"sourceServerID": home[0]["sourceServerID"]}])["job"]
    assert job["arn"].startswith("arn:aws:drs:ap-southeast-2:") and not job.get("participatingServers")
    assert [j["jobID"] for j in elsewhere.describe_jobs(filters={})["items"]] == [job["jobID"]]
    assert job["jobID"] not in [j["jobID"] for j in world.client("drs").describe_jobs(filters={})["items"]]
    assert world.client("drs").describe_source_servers(filters={})["items"] == home


def test_a_recovery_instance_is_an_instance_ec2_knows(world: Sandbox) -> None:
    drs, ec2 = world.client("drs"), world.client("ec2")
    server = world.plans[0].source_server_ids[-1]
    job = drs.start_recovery(sourceServers=[{"sourceServerID": server}], isDrill=True)["job"]
    world.clock.advance(600)
    assert drs.describe_jobs(filters={"jobIDs": [job["jobID"]]})["items"][0]["status"] == "COMPLETED"
    launched = drs.describe_recovery_instances(filters={"sourceServerIDs": [server]})["items"][0]
    found = ec2.describe_instances(InstanceIds=[launched["ec2InstanceID"]])["Reservations"]
    instance = found[0]["Instances"][0]
    assert instance["State"]["Name"] == "running"
    assert {"Key": "AWSElasticDisasterRecoverySourceServerID", "Value": server} in instance["Tags"]
    drs.terminate_recovery_instances(recoveryInstanceIDs=[launched["recoveryInstanceID"]])
    world.clock.advance(600)
    assert drs.describe_recovery_instances(filters={"sourceServerIDs": [server]})["items"] == []
    found = ec2.describe_instances(InstanceIds=[launched["ec2InstanceID"]])["Reservations"]
    assert found[0]["Instances"][0]["State"]["Name"] == "terminated"


# -- CloudWatch Logs filter patterns ------------------------------------------------------------------------

CHATTY = ["INFO starting", "polling job j-1", "[ERROR] ClientError: AccessDenied", "WARN slow answer",
          "task done: ok", '{"level": "ERROR", "msg": "boom", "latency": 1500, "ok": false}',
          '{"level": "INFO", "msg": "fine", "latency": 20, "ok": true, "job": {"id": "j-1"}}']


@pytest.fixture(scope="module")
def chatty(world: Sandbox) -> str:
    """A log group of a chatty function: one ERROR line among others, plain and JSON."""
    logs, group = world.client("logs"), "/fidelity/chatty"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    stamp = int(world.clock.timestamp() * 1000)
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[
        {"timestamp": stamp + i, "message": message} for i, message in enumerate(CHATTY)])
    return group


@pytest.mark.parametrize(("pattern", "expected"), [
    ("?ERROR ?WARN", [2, 3, 5]),
    ("ERROR AccessDenied", [2]),
    ('"task done"', [4]),
    ("polling -j-1", []),
    ('{ $.level = "ERROR" }', [5]),
    ("{ $.latency > 1000 || $.job.id = j-* }", [5, 6]),
    ("{ ($.ok IS FALSE) && $.msg != fine }", [5]),
    ("{ $.job.id NOT EXISTS }", [5]),
    ("%job j-[0-9]%", [1]),
    ("", [0, 1, 2, 3, 4, 5, 6]),
])
def test_filter_patterns_select_events_as_aws_does(chatty: str, world: Sandbox, pattern: str,
                                                   expected: list[int]) -> None:
    events = world.client("logs").filter_log_events(logGroupName=chatty, filterPattern=pattern)["events"]
    assert [e["message"] for e in events] == [CHATTY[i] for i in expected]


def test_a_malformed_json_pattern_is_refused_as_aws_refuses_it(chatty: str, world: Sandbox) -> None:
    logs = world.client("logs")
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.filter_log_events(logGroupName=chatty, filterPattern="{ $.level = }")


# -- GetExecutionHistory pages; cron schedules --------------------------------------------------------------

def test_execution_history_pages_as_step_functions_pages_it(world: Sandbox, stopped: str) -> None:
    sfn = world.client("stepfunctions")
    everything = [event["id"] for event in sfn.get_execution_history(executionArn=stopped)["events"]]
    assert len(everything) > 4 and everything == sorted(everything)
    pages, token = [], None
    while True:
        answer = sfn.get_execution_history(executionArn=stopped, maxResults=2,
                                           **({"nextToken": token} if token else {}))
        pages.append([event["id"] for event in answer["events"]])
        token = answer.get("nextToken")
        if token is None:
            break
    assert all(len(page) == 2 for page in pages[:-1])
    assert [event for page in pages for event in page] == everything
    newest = sfn.get_execution_history(executionArn=stopped, maxResults=3, reverseOrder=True)
    assert [event["id"] for event in newest["events"]] == everything[::-1][:3] and newest["nextToken"]
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.get_execution_history(executionArn=stopped, maxResults=3, nextToken=pages and "not-a-token")


def test_a_cron_schedule_fires_as_a_rate_schedule_does(world: Sandbox) -> None:
    events, lambda_ = world.client("events"), world.client("lambda")
    rule = events.put_rule(Name="every-five", ScheduleExpression="cron(0/5 * * * ? *)", State="ENABLED")
    function = lambda_.get_function(FunctionName="good")["Configuration"]["FunctionArn"]
    lambda_.add_permission(FunctionName="good", StatementId="cron", Action="lambda:InvokeFunction",
                           Principal="events.amazonaws.com", SourceArn=rule["RuleArn"])
    events.put_targets(Rule="every-five", Targets=[{"Id": "good", "Arn": function, "Input": '{"cron": 1}'}])
    scheduler = world.scheduler
    assert scheduler is not None
    try:
        before = scheduler.ticks_done
        for minute in range(1, 11):  # ten simulated minutes, one scheduler tick each
            world.clock.advance(60)
            _wait(lambda minute=minute: scheduler.ticks_done >= before + minute)
        fired = [target for name, target, delivered in scheduler.fired if name == "every-five" and delivered]
        assert fired == [function, function]  # minutes :x0 and :x5, nothing between
    finally:
        events.disable_rule(Name="every-five")


@pytest.mark.parametrize(("expression", "minute", "fires"), [
    ("cron(0/15 * * * ? *)", "2026-03-02T10:30", True),
    ("cron(0/15 * * * ? *)", "2026-03-02T10:31", False),
    ("cron(0 10 * * ? *)", "2026-03-02T10:00", True),
    ("cron(0 18 ? * MON-FRI *)", "2026-03-02T18:00", True),  # a Monday
    ("cron(0 18 ? * MON-FRI *)", "2026-03-01T18:00", False),  # a Sunday
    ("cron(0 8 1 * ? *)", "2026-03-01T08:00", True),
    ("cron(0 8 L * ? *)", "2026-02-28T08:00", True),
    ("cron(0 8 ? * 6#1 *)", "2026-03-06T08:00", True),  # the first Friday of March 2026
    ("cron(0 8 ? * 6L *)", "2026-03-27T08:00", True),  # its last Friday
    ("cron(0 8 15W * ? *)", "2026-03-16T08:00", True),  # the 15th is a Sunday: Monday the 16th
    ("cron(0 8 * JAN,MAR ? 2026)", "2026-03-09T08:00", True),
    ("cron(0 8 * JAN,MAR ? 2027)", "2026-03-09T08:00", False),
])
def test_cron_expressions_name_the_minutes_eventbridge_names(expression: str, minute: str,
                                                             fires: bool) -> None:
    from drsdoctor.sandbox.cron import fires_at

    at = datetime.datetime.fromisoformat(minute).replace(tzinfo=datetime.timezone.utc)
    assert fires_at(expression, at) is fires


# -- IAM as AWS's own managed policies need it ------------------------------------------------------------

CONSOLE_FULL_ACCESS = "arn:aws:iam::aws:policy/AWSElasticDisasterRecoveryConsoleFullAccess"


def as_role(world: Sandbox, name: str, managed: list[str]) -> Any:
    """A DRS client signing as a session of a new role that holds only `managed` policies."""
    iam = world.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"AWS": world.account_id}}]}
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    for arn in managed:
        iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    keys = world.client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="operator")["Credentials"]
    return world.session().client("drs", endpoint_url=world.endpoint_url,
                                  aws_access_key_id=keys["AccessKeyId"],
                                  aws_secret_access_key=keys["SecretAccessKey"],
                                  aws_session_token=keys["SessionToken"])


def test_aws_managed_policies_are_there_when_asked_for(world: Sandbox) -> None:
    policy = world.client("iam").get_policy(PolicyArn=CONSOLE_FULL_ACCESS)["Policy"]
    assert policy["PolicyName"] == "AWSElasticDisasterRecoveryConsoleFullAccess"


def test_drs_console_full_access_launches_servers_as_in_aws(world: Sandbox) -> None:
    drs = as_role(world, "drs-console-operator", [CONSOLE_FULL_ACCESS])
    server = world.plans[0].source_server_ids[0]
    job = drs.start_recovery(sourceServers=[{"sourceServerID": server}], isDrill=True)["job"]
    world.clock.advance(600)
    done = drs.describe_jobs(filters={"jobIDs": [job["jobID"]]})["items"][0]
    assert done["status"] == "COMPLETED"
    assert [s["launchStatus"] for s in done["participatingServers"]] == ["LAUNCHED"]


def test_access_denied_names_the_role_session_as_aws_does(world: Sandbox) -> None:
    drs = as_role(world, "drs-nothing", [])
    with pytest.raises(drs.exceptions.AccessDeniedException) as refused:
        drs.describe_jobs(filters={})
    assert refused.value.response["Error"]["Message"] == (
        f"User: arn:aws:sts::{world.account_id}:assumed-role/drs-nothing/operator is not authorized to "
        "perform: drs:DescribeJobs because no identity-based policy allows the drs:DescribeJobs action")


def test_cloudformation_attaches_a_roles_managed_policy_arns(world: Sandbox) -> None:
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}]}
    template = {"Resources": {"Operator": {"Type": "AWS::IAM::Role", "Properties": {
        "RoleName": "cfn-drs-operator", "ManagedPolicyArns": [CONSOLE_FULL_ACCESS],
        "AssumeRolePolicyDocument": trust}}}}
    cloudformation, iam = world.client("cloudformation"), world.client("iam")
    cloudformation.create_stack(StackName="managed-policy-arns", TemplateBody=json.dumps(template))
    attached = iam.list_attached_role_policies(RoleName="cfn-drs-operator")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [CONSOLE_FULL_ACCESS]
    cloudformation.delete_stack(StackName="managed-policy-arns")
    assert "cfn-drs-operator" not in [r["RoleName"] for r in iam.list_roles()["Roles"]]
