"""The sandbox world: an orchestrator deployed into moto, a DRS simulator, one loopback endpoint.

    from drsdoctor.sandbox.world import Sandbox

    with Sandbox.start(fault=None, port=0) as world:       # fault: a name from drsdoctor.sandbox.faults
        world.orchestrator, world.names                     # what is deployed (default: the reference;
                                                            # orchestrator="renamed:7" or an Orchestrator)
        world.endpoint_url, world.region                    # http://127.0.0.1:PORT, us-east-1
        world.state_machine_arn, world.plans, world.start_input
        sfn = world.client("stepfunctions")                 # boto3 against the sandbox (or world.session())
        arn = world.start_recovery()                        # the first plan; returns the execution ARN
        outcome = world.run_until_settled(arn)              # outcome.status: SUCCEEDED | FAILED | STUCK
        world.clock                                         # the virtual clock (world.clock.advance(60))

What runs: CloudFormation deploys the orchestrator's template (drsdoctor/reference/template.yaml for the
reference; `orchestrator="NAME"` picks another, see drsdoctor.sandbox.orchestrators), its code zips and
nested templates in S3 first, into moto; the Step
Functions engine really executes the definition; Lambda invocations run the functions' own code in worker
processes with their deployed environment and their role's credentials (runtime.py); the schedule rule fires
on the clock (scheduler.py); DRS calls go to the simulator, which enforces the caller's IAM (identity.py).
The clock runs `speed` times faster than real time (default 600: a simulated minute per 0.1 s while no
function runs), starts in the past (`lead`, default 6 h) and never runs past the wall clock, so every
timestamp the world writes (history, logs, metrics, DynamoDB, DRS) is one consistent, plausible time before
now; `world.clock.now()` (or GET {endpoint_url}/_sandbox/clock) is the world's present. One world per
process at a time (moto's state is process-wide).
"""

from __future__ import annotations

import datetime
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.loaders
import botocore.session

from drsdoctor.errors import DrsdoctorError
from drsdoctor.sandbox import motopatch, trust
from drsdoctor.sandbox.clock import Clock
from drsdoctor.sandbox.drs.ec2 import Ec2Instances
from drsdoctor.sandbox.drs.model import DrsModel, Phases
from drsdoctor.sandbox.drs.wire import DrsWireApp, is_drs_request
from drsdoctor.sandbox.ec2gate import Ec2Gate
from drsdoctor.sandbox.identity import SandboxIdentity
from drsdoctor.sandbox.orchestrators import DEFAULT, Names, Orchestrator
from drsdoctor.sandbox.orchestrators import get as get_orchestrator
from drsdoctor.sandbox.runtime import FunctionRuntime
from drsdoctor.sandbox.scheduler import Scheduler
from drsdoctor.sandbox.seed import Plan, PlanSize
from drsdoctor.sandbox.server import Dispatcher, LoopbackServer
from drsdoctor.sandbox.throttle import Throttler, check_share

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
# The world's own clients (deploy, seed, scheduler, runtime) and moto's Step Functions engine ("ak"):
# never throttled, so a throttled world still runs its recoveries as before.
OWN_ACCESS_KEYS = frozenset({"sandbox", "ak"})
ENVIRONMENT = "sandbox"
DEFAULT_SPEED = 600.0
DEFAULT_LEAD = datetime.timedelta(hours=6)
# Small servers: a launch job takes about a minute and a half, so a 3-wave plan takes minutes, not an hour.
DRS_PHASES = Phases(pending=5, cleanup=10, snapshot=20, conversion=40, launch=20, denied=5, terminate=10)
# A healthy wave changes something (job, server or wave status) at least every three simulated minutes.
STUCK_AFTER_SECONDS = 6 * 60
# ...while the execution's engine runs on (its events go on), or else for a few real seconds: a thread
# starved on a busy machine must not look like a stuck execution.
STUCK_AFTER_REAL_SECONDS = 2.0
FINISHED = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


def _orchestrator(orchestrator: str | Orchestrator) -> Orchestrator:
    """A registered orchestrator by name, or one described in place (a test's own)."""
    return get_orchestrator(orchestrator) if isinstance(orchestrator, str) else orchestrator


@dataclass
class Outcome:
    """How an execution ended (or that it stopped moving)."""

    execution_arn: str
    status: str  # SUCCEEDED | FAILED | TIMED_OUT | ABORTED | STUCK | RUNNING (gave up waiting)
    record: dict[str, Any] | None = None  # the execution-history item the functions wrote
    simulated_seconds: float = 0.0
    wall_seconds: float = 0.0
    wave_statuses: list[str] = field(default_factory=list)


class Sandbox:
    """A running world; see the module docstring. Create with `Sandbox.start(...)`, end with `close()`."""

    def __init__(self, *, port: int = 0, speed: float = DEFAULT_SPEED,
                 lead: datetime.timedelta = DEFAULT_LEAD, orchestrator: str | Orchestrator = DEFAULT) -> None:
        self.region, self.account_id, self.environment = REGION, ACCOUNT_ID, ENVIRONMENT
        self.orchestrator = _orchestrator(orchestrator)
        self.names = Names()  # the orchestrator's name map, once deployed
        self.clock = Clock(datetime.datetime.now(datetime.timezone.utc) - lead)
        self.speed = speed
        self.drs = DrsModel(region=self.region, account_id=self.account_id, now=self.clock.now,
                            phases=DRS_PHASES)
        self.drs.ec2 = Ec2Instances(self.account_id)  # recovery instances are instances EC2 knows
        self.recovery_drs = self.drs  # where the jobs run (another account's: orchestrators/xaccount.py)
        self.identity = SandboxIdentity(self.account_id, self.region)
        self.drs_app = DrsWireApp(self.drs, identify=self.identity.identify,
                                  authorize=self.identity.authorize,
                                  authorize_in_context=self.identity.authorize)
        self.throttler = Throttler(exempt=self._own_key)
        self.server = LoopbackServer(Dispatcher(self.drs_app, is_drs_request, self.clock.now, self.throttler,
                                                switch_fault=self.switch_fault,
                                                current_fault=lambda: self.fault,
                                                gate=Ec2Gate(self.identity).answer), port)
        self.endpoint_url = self.server.endpoint_url
        self.runtime = FunctionRuntime(self.clock, self.endpoint_url, self.region)
        self.scheduler: Scheduler | None = None
        self.outputs: dict[str, str] = {}
        self.plans: list[Plan] = []
        self.fault: str | None = None
        self.saved: dict[str, Any] = {}  # what faults replaced, so repair() can put it back
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        self._closed = False
        self._fault_lock = threading.Lock()
        self._loader = botocore.loaders.create_loader()

    # -- life cycle -----------------------------------------------------------------------------------------

    @classmethod
    def start(cls, fault: str | None = None, port: int = 0, speed: float = DEFAULT_SPEED,
              lead: datetime.timedelta = DEFAULT_LEAD, run_clock: bool = True, throttle: float = 0.0,
              throttle_seed: int = 0, authorize: bool = False, plan: PlanSize | None = None,
              orchestrator: str | Orchestrator = DEFAULT) -> Sandbox:
        """Serve, deploy the orchestrator (the reference by default; see drsdoctor.sandbox.orchestrators),
        seed the plan, inject `fault` (a name of the orchestrator's catalogue), and let the clock run;
        then answer `throttle` (a share, 0.3 is 30%) of outside clients' calls with ThrottlingException.
        `authorize`: moto's IAM authorisation judges outside clients' calls by their IAM user's policies
        (DRS calls are always judged, by identity.py); the world's own clients and functions are not.
        `plan`: the size of the seeded plan (None: the three-tier plan of 3 waves of 2 servers)."""
        check_share(throttle)
        if fault and fault != "none":
            _orchestrator(orchestrator).fault(fault)  # a mistyped name fails before anything starts
        world = cls(port=port, speed=speed, lead=lead, orchestrator=orchestrator)
        try:
            world.server.start()
            motopatch.install(world.clock, world.runtime)
            trust.install(world.identity, exempt=lambda key: key in OWN_ACCESS_KEYS)
            world._reset_moto()
            world.deploy()
            world._prewarm()
            world.plans = world.orchestrator.seed(world, plan)
            if fault and fault != "none":
                world.inject(fault)
            world.scheduler = Scheduler(world.clock, world.session(), world.endpoint_url).start()
            if run_clock:
                world.clock.run(speed)
            world.throttler.share, world.throttler.seed = throttle, throttle_seed
            if authorize:
                motopatch.require_authorization(world._own_key)
        except BaseException:
            world.close()
            raise
        return world

    def _own_key(self, access_key: str) -> bool:
        """Whether a call comes from inside the world: its own clients, or a function's role keys."""
        return access_key in OWN_ACCESS_KEYS or ":assumed-role/" in self.identity.identify(access_key)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the clock, the scheduler, every function worker and the server."""
        if self._closed:
            return
        self._closed = True
        self.clock.pause()
        if self.scheduler is not None:
            self.scheduler.stop()
        self.runtime.close()
        motopatch.uninstall()
        trust.uninstall()
        self.server.stop()

    def _reset_moto(self) -> None:
        """A fresh account: moto's state outlives a world in the same process."""
        import urllib.request

        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()

    def _prewarm(self) -> None:
        """Start each function's first container in the background while the world is seeded."""
        from moto.awslambda.utils import get_backend

        for function in get_backend(self.account_id, self.region).list_functions():
            threading.Thread(target=self.runtime.prewarm, args=(function,), daemon=True).start()

    def deploy(self) -> None:
        """The orchestrator's template through CloudFormation, its artifacts (code zips, nested templates)
        in S3 first; then its name map."""
        orchestrator = self.orchestrator
        s3 = self.client("s3")
        s3.create_bucket(Bucket=orchestrator.bucket)
        for key, body in orchestrator.artifacts().items():
            s3.put_object(Bucket=orchestrator.bucket, Key=key, Body=body)
        cloudformation = self.client("cloudformation")
        cloudformation.create_stack(
            StackName=orchestrator.stack_name, TemplateBody=orchestrator.template(),
            Capabilities=["CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in orchestrator.parameters.items()])
        stack = cloudformation.describe_stacks(StackName=orchestrator.stack_name)["Stacks"][0]
        if stack["StackStatus"] != "CREATE_COMPLETE":
            raise DrsdoctorError(f"the {orchestrator.name} stack did not deploy in the sandbox: "
                                 f"{stack['StackStatus']} {stack.get('StackStatusReason', '')}")
        self.outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        self.names = orchestrator.names(self)

    def template_url(self, key: str) -> str:
        """The S3 URL of an artifact (a nested stack's TemplateURL)."""
        return f"https://{self.orchestrator.bucket}.s3.amazonaws.com/{key}"

    def inject(self, fault: str) -> None:
        """Break the world the way drift breaks real accounts (drsdoctor.sandbox.faults)."""
        from drsdoctor.sandbox import faults

        faults.inject(fault, self)
        self.fault = fault

    def repair(self) -> None:
        """Undo the injected fault through the same APIs."""
        if self.fault:
            self.orchestrator.fault(self.fault).repair(self)
            self.fault = None

    def switch_fault(self, fault: str) -> str | None:
        """Repair the injected fault, then inject `fault` ("none": stay repaired); returns the one now in."""
        if fault != "none":
            self.orchestrator.fault(fault)  # a mistyped name changes nothing
        with self._fault_lock:
            self.repair()
            if fault != "none":
                self.inject(fault)
            return self.fault

    # -- clients --------------------------------------------------------------------------------------------

    def session(self) -> boto3.session.Session:
        """A boto3 session for the sandbox account (any credentials work against moto)."""
        from drsdoctor.aws.session import boto3_session

        # One loader a world: each new session would read the service models again (~0.2 s CPU a client).
        return boto3_session(self._loader, aws_access_key_id="sandbox", aws_secret_access_key="sandbox",
                             region_name=self.region)

    def client(self, service: str) -> Any:
        """A boto3 client against the sandbox (one per service, shared: boto3 clients are thread-safe)."""
        with self._clients_lock:
            client = self._clients.get(service)
            if client is None:
                client = self._clients[service] = self.session().client(
                    service, endpoint_url=self.endpoint_url)
            return client

    def resource(self, service: str) -> Any:
        return self.session().resource(service, endpoint_url=self.endpoint_url)

    @property
    def state_machine_arn(self) -> str:
        return f"arn:aws:states:{self.region}:{self.account_id}:stateMachine:{self.names['state-machine']}"

    @property
    def stack_name(self) -> str:
        return self.orchestrator.stack_name

    def function_name(self, role: str) -> str:
        """orchestration | execution-finder | execution-poller (or another key of the orchestrator's name
        map, function:ROLE) -> the deployed function's name."""
        return self.names[f"function:{role}"]

    @property
    def finder_rule_name(self) -> str:
        return self.names["rule:execution-finder"]

    @property
    def start_input(self) -> str:
        """The execution input (JSON text) that runs the first plan."""
        return json.dumps(self.orchestrator.start_input(self, self.plans[0].plan_id))

    def info(self) -> dict[str, Any]:
        """What `sandbox serve` prints: where the world is and how to start a recovery."""
        return {"endpoint_url": self.endpoint_url, "region": self.region,
                "state_machine_arn": self.state_machine_arn if "state-machine" in self.names else None,
                "plans": [p.plan_id for p in self.plans],
                "start_input": self.start_input, "drs_endpoint_url": self.endpoint_url,
                "stack_name": self.stack_name, "fault": self.fault, "orchestrator": self.orchestrator.name,
                "names": dict(self.names)}

    # -- running a recovery ---------------------------------------------------------------------------------

    def start_recovery(self, plan_id: str | None = None, name: str | None = None) -> str:
        """Start the state machine on a plan (the first by default); returns the execution ARN."""
        plan = plan_id or self.plans[0].plan_id
        if self.orchestrator.start is not None:  # not a state machine: DRS's own recovery plan
            return self.orchestrator.start(self, plan)
        kwargs = {"name": name} if name else {}
        execution_input = json.dumps(self.orchestrator.start_input(self, plan))
        started = self.client("stepfunctions").start_execution(
            stateMachineArn=self.state_machine_arn, input=execution_input, **kwargs)
        return str(started["executionArn"])

    def execution_record(self, execution_arn: str) -> dict[str, Any] | None:
        """What the orchestrator keeps about this execution (the reference: its execution-history item)."""
        return self.orchestrator.record(self, execution_arn)

    def progress(self, execution_arn: str) -> tuple[str, list[str], tuple[Any, ...]]:
        """(execution status, wave statuses, a signature that changes whenever anything moves)."""
        status = (self.orchestrator.status(self, execution_arn) if self.orchestrator.status is not None else
                  self.client("stepfunctions").describe_execution(executionArn=execution_arn)["status"])
        record = self.orchestrator.progress(self, execution_arn)
        waves = [str(w.get("status")) for w in record.get("waves", [])]
        jobs, _ = self.recovery_drs.describe_jobs()
        job_states = tuple(sorted((job.job_id, job.status,
                                   tuple(sorted((s.source_server_id, s.launch_status) for s in job.servers)))
                                  for job in jobs))
        signature = (status, record.get("status"), record.get("currentWave"), tuple(waves), job_states)
        return status, waves, signature

    def run_until_settled(self, execution_arn: str, stuck_after: float = STUCK_AFTER_SECONDS,
                          real_timeout: float = 120.0, on_progress: Any = None) -> Outcome:
        """Wait until the execution ends, or nothing has moved for `stuck_after` simulated seconds."""
        started_real, started_sim = time.monotonic(), self.clock.now()
        last_signature: tuple[Any, ...] | None = None
        last_change, last_change_real = self.clock.now(), time.monotonic()
        status, waves = "RUNNING", list[str]()
        while time.monotonic() - started_real < real_timeout:
            status, waves, signature = self.progress(execution_arn)
            now = self.clock.now()
            if signature != last_signature:
                last_signature, last_change, last_change_real = signature, now, time.monotonic()
                if on_progress is not None:
                    on_progress(status, waves)
            if status in FINISHED:
                break
            # No record yet: the execution has not begun (its engine starved on a busy machine): not stuck.
            if (signature[1] is not None and (now - last_change).total_seconds() >= stuck_after
                    and (self._engine_lived_through(execution_arn, last_change, stuck_after)
                         or time.monotonic() - last_change_real >= STUCK_AFTER_REAL_SECONDS)):
                status = "STUCK"
                break
            # Look again after a fifth of a real second: often enough to see each change, cheap for the world.
            self.clock.wait_until(now + datetime.timedelta(days=1), real_timeout=0.2)
        return Outcome(execution_arn, status, self.execution_record(execution_arn),
                       (self.clock.now() - started_sim).total_seconds(), time.monotonic() - started_real,
                       waves)

    def _engine_lived_through(self, execution_arn: str, since: datetime.datetime, seconds: float) -> bool:
        """Whether the execution's own newest event is `seconds` of simulated time past `since`: its engine
        kept running (looping) all that while, so a quiet world is stuck, not an engine thread starved on a
        busy machine. Without that proof, run_until_settled waits a few real seconds instead."""
        if not execution_arn.startswith("arn:aws:states:"):
            return False
        newest = self.client("stepfunctions").get_execution_history(
            executionArn=execution_arn, maxResults=1, reverseOrder=True)["events"]
        return bool(newest) and (newest[0]["timestamp"] - since).total_seconds() >= seconds

    def recovery_instances(self) -> list[dict[str, Any]]:
        """Recovery instances DRS launched, as DescribeRecoveryInstances reports them."""
        drs = self.client("drs")
        return list(drs.describe_recovery_instances(filters={})["items"])
