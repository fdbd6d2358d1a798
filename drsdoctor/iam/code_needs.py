"""What a function's code needs IAM to allow: its boto3 calls (code_calls.py) turned into IAM actions through
botocore's and boto3's own models, with the resources the calls name where the environment tells them.

- a client method is its operation (botocore.xform_name of the model's operation names); a paginator or
  waiter is the operation it pages or waits on; a resource object's method is the operation boto3's
  resource model gives it (dynamodb Table.get_item -> GetItem, with TableName from the Table's name);
- the IAM prefix is the model's signingName (stepfunctions -> states), else its endpointPrefix;
- a call that passes tags to a service with TagResource also needs TagResource (tag-on-create);
- drs:StartRecovery brings DRS's follow-on actions (drs_needs.yaml), performed with the caller's role;
- a call made with credentials from sts.assume_role belongs to that role; the function's own role needs the
  sts:AssumeRole call itself.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from drsdoctor.errors import InputError
from drsdoctor.iam.code_calls import IDENTIFIER, Call, Env, Input, Text, calls_in

MAX_SOURCE_BYTES = 5 * 1024 * 1024  # Python text read from one package: Lambda code is rarely more
# DRS authorises these on the source server they act on (Service Authorization Reference, resource types).
SOURCE_SERVER_ACTIONS = {"drs:StartRecovery", "drs:CreateRecoveryInstanceForDrs", "drs:ListTagsForResource"}
JOB_ACTIONS = {"drs:DescribeJobLogItems", "drs:TagResource"}  # on the job (TagResource: the job it starts)
RECOVERY_ROLE = "AWSElasticDisasterRecoveryRecoveryInstanceRole"
RESOURCE_NAMES = {"TableName", "IndexName", "FunctionName"}  # and any parameter ending in Arn


@dataclass(frozen=True)
class CodeNeed:
    """One IAM action the code needs, where it is called, and what it acts on (as the code names it)."""

    action: str
    where: tuple[str, ...]  # file:line of each call that needs it
    resource: tuple[tuple[str, Any], ...] = ()  # parameter -> Env | Text | Input
    role: Any = None  # Env | Text | Input naming the assumed role; None: the function's own role
    region: Any = None  # the client's region_name (Env | Text), where the code gives one
    follow_on: bool = False  # performed by DRS with these credentials after StartRecovery

    @property
    def assumed(self) -> bool:
        return self.role is not None

    def describe(self) -> str:
        return f"{self.action} at {', '.join(self.where)}"


@dataclass
class CodeReading:
    """What one package's code needs; `problems` names what could not be read."""

    needs: list[CodeNeed] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    files: int = 0

    def actions(self, assumed: bool | None = None) -> list[str]:
        return sorted({n.action for n in self.needs if assumed is None or n.assumed == assumed})


# ---- reading a package ---------------------------------------------------------------------------------

def sources_of(package: str | Path | bytes) -> dict[str, str]:
    """The Python files of a directory, a zip file or zip bytes (path -> text), without the libraries it
    bundles (every file a *.dist-info/RECORD lists). InputError when it is neither."""
    if isinstance(package, bytes):
        return _from_zip(package)
    path = Path(package)
    if path.is_dir():
        files = {str(p.relative_to(path)).replace(os.sep, "/"): p.read_bytes() for p in path.rglob("*")
                 if p.is_file() and (p.suffix == ".py" or p.name == "RECORD")}
        return _python(files)
    if path.is_file():
        return _from_zip(path.read_bytes(), str(path))
    raise InputError(f"{package}: no such directory or zip file")


def _from_zip(data: bytes, name: str = "the package") -> dict[str, str]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [info for info in archive.infolist()
                       if info.filename.endswith(".py") or info.filename.endswith(".dist-info/RECORD")]
            if sum(info.file_size for info in members) > MAX_SOURCE_BYTES * 4:
                raise InputError(f"{name}: more Python than a function's code should hold")
            return _python({info.filename: archive.read(info) for info in members})
    except zipfile.BadZipFile:
        raise InputError(f"{name} is not a zip file") from None


def _python(files: Mapping[str, bytes]) -> dict[str, str]:
    bundled: set[str] = set()
    for path, data in files.items():
        if path.endswith(".dist-info/RECORD"):
            prefix = path.rsplit("/", 2)[0] + "/" if path.count("/") > 1 else ""
            lines = data.decode("utf-8", "replace").splitlines()
            bundled.update(prefix + line.split(",", 1)[0] for line in lines)
    sources, total = {}, 0
    for path, data in sorted(files.items()):
        if not path.endswith(".py") or path in bundled:
            continue
        total += len(data)
        if total > MAX_SOURCE_BYTES:
            break
        sources[path] = data.decode("utf-8", "replace")
    return sources


def read_code(package: str | Path | bytes, handler: str = "") -> CodeReading:
    """The needs of a package (directory, zip file, zip bytes), read from its handler (module.function)."""
    return needs_of(sources_of(package), handler)


def needs_of(sources: dict[str, str], handler: str = "") -> CodeReading:
    calls, problems = calls_in(sources, handler)
    grouped: dict[tuple[Any, ...], list[str]] = {}
    for call in calls:
        for need in _needs_of_call(call, problems):
            key = (need.action, need.resource, need.role, need.region, need.follow_on)
            grouped.setdefault(key, []).append(call.where)
    needs = [CodeNeed(action, tuple(dict.fromkeys(where)), resource, role, region, follow_on)
             for (action, resource, role, region, follow_on), where in grouped.items()]
    return CodeReading(sorted(needs, key=lambda n: (n.role is not None, n.action, n.where)),
                       list(dict.fromkeys(problems)), len(sources))


def _needs_of_call(call: Call, problems: list[str]) -> list[CodeNeed]:
    try:
        model = _model(call.service)
    except Exception:  # a service botocore does not know (a typo, or too new): say so, guess nothing
        problems.append(f"{call.where}: boto3 service {call.service!r} is not in botocore's models")
        return []
    operation, arguments = _operation(call, model)
    if operation is None:
        return []
    prefix = model["metadata"].get("signingName") or model["metadata"]["endpointPrefix"]
    from drsdoctor.iam.actions import _RENAMED

    action = f"{prefix}:{_RENAMED.get(prefix, {}).get(operation, operation)}"
    resource = tuple(sorted((k, v) for k, v in arguments.items() if _names_resource(k, v)))
    found = [CodeNeed(action, (call.where,), resource, _role(call), call.region)]
    if _tags_on_create(model, operation, call) and "TagResource" in model["operations"]:
        found.append(CodeNeed(f"{prefix}:TagResource", (call.where,), (), _role(call), call.region))
    if action == "drs:StartRecovery":
        from drsdoctor.iam.drs_needs import follow_on_needs

        found += [CodeNeed(need.action, (call.where,), (), _role(call), call.region, True)
                  for need in follow_on_needs()]
    if action == "sts:AssumeRole":  # the function's own credentials call it, whoever's the client's
        found = [CodeNeed(action, (call.where,), resource, None, call.region)]
    return found


def _names_resource(parameter: str, value: Any) -> bool:
    """An argument that names what the call acts on (resource_arn turns these into ARNs)."""
    return parameter in RESOURCE_NAMES or parameter.endswith(("Arn", "ARN"))


def _role(call: Call) -> Any:
    if call.role is None:
        return None
    return call.role.role if call.role.role is not None else Input(("?",))


def _tags_on_create(model: dict[str, Any], operation: str, call: Call) -> bool:
    shape = model["operations"][operation].get("input", {}).get("shape")
    members = model["shapes"].get(shape, {}).get("members", {}) if shape else {}
    return operation != "TagResource" and any(k in members and k.lower() == "tags" for k in call.keywords)


def _operation(call: Call, model: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """The API operation a method calls and the arguments that name its resources."""
    arguments = {k: v for k, v in call.arguments if k != IDENTIFIER}
    if not call.on:
        return _methods(call.service).get(call.method) or _waiters(call.service).get(call.method), arguments
    resources = _resources(call.service)
    if resources is None:
        return None, arguments
    described = resources["service"] if call.on == "service" else resources["resources"].get(call.on, {})
    identifier = dict(call.arguments).get(IDENTIFIER)
    if call.method == "batch_writer":  # boto3 adds it to dynamodb tables: BatchWriteItem on this table
        table = {"TableName": identifier} if identifier is not None else {}
        return "BatchWriteItem", {**arguments, **table}
    if call.method in ("load", "reload") and "load" in described:
        request = described["load"]["request"]
    else:
        request = next((a["request"] for name, a in described.get("actions", {}).items()
                        if _xform(name) == call.method), None)
    if request is None:
        return None, arguments
    for param in request.get("params", []):
        if param.get("source") == "identifier" and identifier is not None:
            arguments[param["target"]] = identifier
    return request["operation"], arguments


def _xform(name: str) -> str:
    from botocore import xform_name

    return str(xform_name(name))


@cache
def _loader() -> Any:
    import boto3
    from botocore.loaders import Loader

    return Loader(extra_search_paths=[os.path.join(os.path.dirname(boto3.__file__), "data")])


@cache
def _model(service: str) -> dict[str, Any]:
    return dict(_loader().load_service_model(service, "service-2"))


@cache
def _methods(service: str) -> dict[str, str]:
    return {_xform(operation): operation for operation in _model(service)["operations"]}


@cache
def _waiters(service: str) -> dict[str, str]:
    try:
        waiters = _loader().load_service_model(service, "waiters-2")["waiters"]
    except Exception:  # most services have no waiters
        return {}
    return {_xform(name): waiter["operation"] for name, waiter in waiters.items()}


@cache
def _resources(service: str) -> dict[str, Any] | None:
    try:
        return dict(_loader().load_service_model(service, "resources-1"))
    except Exception:  # only a few services have boto3 resources
        return None


# ---- the resources a need acts on ------------------------------------------------------------------------

@dataclass(frozen=True)
class Place:
    """Where ARNs are made: the partition, region and account of the function."""

    partition: str
    region: str
    account: str


def told(value: Any, environment: Mapping[str, str], event: Callable[[tuple[str, ...]], str | None]
         | None = None) -> str | None:
    """The text a value stands for: an environment value as deployed, a literal, a part of the input."""
    if isinstance(value, Env):
        return environment.get(value.name) or None
    if isinstance(value, Text):
        return value.value
    if isinstance(value, Input) and event is not None:
        return event(value.path)
    return None


def resource_arn(need: CodeNeed, environment: Mapping[str, str], place: Place,
                 event: Callable[[tuple[str, ...]], str | None] | None = None) -> str | None:
    """The ARN the need's action is authorised on, from the arguments the code passes; None when the code
    does not tell (the caller decides then: a service-wide resource, or `*`)."""
    args = {name: told(value, environment, event) for name, value in need.resource}
    service = need.action.split(":", 1)[0]
    region = told(need.region, environment) or place.region
    if service == "dynamodb" and args.get("TableName"):
        table = _table_arn(args["TableName"] or "", place, region)
        return f"{table}/index/{args['IndexName']}" if args.get("IndexName") else table
    if service == "lambda" and args.get("FunctionName"):
        name = args["FunctionName"] or ""
        if name.startswith("arn:"):
            return ":".join(name.split(":")[:7])
        return f"arn:{place.partition}:lambda:{region}:{place.account}:function:{name.split(':')[0]}"
    for name, value in sorted(args.items()):
        if value and value.startswith("arn:") and name.lower().endswith("arn"):
            return value
    return None


def _table_arn(name: str, place: Place, region: str) -> str:
    if name.startswith("arn:"):
        return name
    return f"arn:{place.partition}:dynamodb:{region}:{place.account}:table/{name}"


def drs_region(reading: CodeReading, environment: Mapping[str, str]) -> str | None:
    """The region the code's DRS client is made for, where it says (region_name from the environment)."""
    for need in reading.needs:
        if need.action.startswith("drs:") and (region := told(need.region, environment)):
            return region
    return None


def authorised_on(action: str, names: Mapping[str, str]) -> str:
    """The resource AWS authorises an action on when the code does not name one (not `*` where the service
    names one): a DRS source server or job, the function's log group, the recovery instance role. `names`:
    partition, region, account, and where known drs_region, source_server, job, function."""
    drs = f"arn:{names['partition']}:drs:{names.get('drs_region') or names['region']}:{names['account']}"
    if action in SOURCE_SERVER_ACTIONS:
        return f"{drs}:source-server/{names.get('source_server') or '*'}"
    if action in JOB_ACTIONS:
        return f"{drs}:job/{names.get('job') or '*'}"
    if action.startswith("logs:") and names.get("function"):
        return (f"arn:{names['partition']}:logs:{names['region']}:{names['account']}:log-group:/aws/lambda/"
                f"{names['function']}:*")
    if action == "iam:PassRole":  # DRS passes its recovery instance role to EC2
        return f"arn:{names['partition']}:iam::{names['account']}:role/service-role/{RECOVERY_ROLE}"
    return "*"
