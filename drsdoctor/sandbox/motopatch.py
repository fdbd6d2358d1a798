"""Every change the sandbox makes to moto's behaviour, in one place (moto 5.2.5).

1. Configuration: Step Functions definitions really execute; Lambda runs without Docker.
2. State machines deployed by CloudFormation land in the executing Step Functions backend (moto's
   CloudFormation otherwise writes them to the non-executing one, where StartExecution cannot run them).
3. Lambda invocations (moto's `LambdaSimpleBackend.invoke`, the one seam without Docker) run the
   function's own code in the sandbox's FunctionRuntime.
4. StartExecution without a name gets a generated one, as in AWS (moto would put "None" in the ARN).
5. Inline role policies deployed by CloudFormation are stored as JSON text (moto keeps the template's
   mapping and GetRolePolicy would answer its Python repr).
6. Step Functions Wait states and Retry intervals wait on the sandbox clock instead of the wall clock
   (`WaitFunction._wait_interval`, the `time` module of `retrier_decl`), and history events are stamped
   with it.
7. Optionally (`require_authorization`), moto's own IAM authorisation judges callers from outside the world;
   the world's own keys and the functions' role keys stay unjudged, as with authorisation off.
8. JSON-protocol answers are serialized faster, alike: moto's model-driven serializer asked an attribute
   picker for every member of every structure (a 50-execution `diagnose --running` spent most of the
   sandbox's time there, and 0.4 s went on one 2,000-server execution record where DynamoDB takes
   milliseconds). A dict whose keys are all the model's own member names is read key by key, and a DynamoDB
   attribute value goes out as moto holds it, already in wire form; binary values and anything else take
   moto's own path.
9. CloudFormation as templates use it (nested stacks' outputs, Definition objects, Fn::If/AWS::NoValue in
   lists, conditional outputs): drsdoctor.sandbox.cfnpatch.
10. JSONata definitions (`QueryLanguage: JSONata`) evaluate: moto has no evaluator; motojsonata.py gives one.
11. GetFunction's Code.Location, served (MOTO_PORT set), is a presigned URL of the package in the sandbox's
   own S3, as AWS gives one (moto names a bucket that does not exist); in-process it stays moto's.
12. One clock (motoclock.py): moto's own timestamps (execution start and stop, log ingestion, metrics, every
   `utcnow` moto's services import) read the sandbox clock.
13. CloudWatch Logs filter patterns as AWS evaluates them (logfilter.py): `?A ?B`, quoted and excluded
   terms, JSON patterns; moto returned every event for all but plain words.
14. GetExecutionHistory pages (`maxResults`, `nextToken`, `reverseOrder`) as Step Functions does
   (historypages.py).
15. AWS managed policies load when a call names one, and CloudFormation honours a role's `ManagedPolicyArns`
   (awspolicies.py).

These patches are process-wide: one sandbox world per process at a time. `uninstall()` (when the world
closes) puts every original back, so moto-based tests that run later in the same process see plain moto.
"""

from __future__ import annotations

import datetime
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from drsdoctor.sandbox import cfnpatch, motojsonata
from drsdoctor.sandbox.clock import Clock
from drsdoctor.sandbox.runtime import FunctionRuntime

_lock = threading.Lock()
_state: dict[str, Any] = {"clock": None, "runtime": None, "installed": False, "exempt": None}
_undo: list[Callable[[], None]] = []  # how to put each original back, in patch order

_MISSING = object()


def _replace(owner: Any, attribute: str, value: Any) -> None:
    """Set an attribute and remember how to restore it (a class attribute it only inherited is deleted)."""
    inherited_only = isinstance(owner, type) and attribute not in owner.__dict__
    original = _MISSING if inherited_only else owner.__dict__.get(attribute, getattr(owner, attribute))

    def undo() -> None:
        if original is _MISSING:
            delattr(owner, attribute)
        else:
            setattr(owner, attribute, original)

    setattr(owner, attribute, value)
    _undo.append(undo)


def install(clock: Clock, runtime: FunctionRuntime) -> None:
    """Point moto at this world's clock and runtime (idempotent; a later world replaces an earlier one)."""
    with _lock:
        _state["clock"], _state["runtime"] = clock, runtime
        if _state["installed"]:
            return
        _configure()
        _patch_cloudformation_state_machines()
        _patch_lambda_invoke()
        _patch_wait_states()
        _patch_execution_names()
        _patch_inline_policies()
        _patch_json_structures()
        cfnpatch.install(_replace)
        motojsonata.install(_replace)
        _patch_code_location()
        _patch_clock()
        _patch_log_filters()
        _patch_history_pages()
        _patch_aws_policies()
        _state["installed"] = True


def uninstall() -> None:
    """Forget the world and give moto back its own behaviour."""
    with _lock:
        _state["clock"], _state["runtime"], _state["exempt"] = None, None, None
        while _undo:
            _undo.pop()()
        _state["installed"] = False


def _configure() -> None:
    from moto.core.config import default_user_config

    saved = {key: default_user_config.get(key) for key in ("stepfunctions", "lambda")}
    default_user_config["stepfunctions"] = {"execute_state_machine": True}
    default_user_config["lambda"] = {"use_docker": False}
    _undo.append(lambda: default_user_config.update(saved))  # type: ignore[typeddict-item]
    # moto logs each failed state (normal in a broken recovery) with a full repr: keep stderr readable.
    for name in ("moto", "werkzeug"):
        logger = logging.getLogger(name)
        _undo.append(lambda logger=logger, level=logger.level: logger.setLevel(level))  # type: ignore[misc]
        logger.setLevel(logging.CRITICAL)


def _patch_inline_policies() -> None:
    from moto.iam.models import Role

    original = Role.put_policy

    def put_policy(self: Any, policy_name: str, policy_json: Any) -> None:
        text = policy_json if isinstance(policy_json, str) else json.dumps(policy_json)
        original(self, policy_name, text)

    _replace(Role, "put_policy", put_policy)


def _patch_execution_names() -> None:
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original = StepFunctionsParserBackend.start_execution

    def start_execution(self: Any, state_machine_arn: str, name: Any = None, *args: Any,
                        **kwargs: Any) -> Any:
        return original(self, state_machine_arn, name or str(uuid.uuid4()), *args, **kwargs)

    _replace(StepFunctionsParserBackend, "start_execution", start_execution)


def _patch_cloudformation_state_machines() -> None:
    # responses is imported before the swap: it binds `stepfunctions_backends` at import, and a first import
    # during a world would keep the executing backends for every moto mock in this process after it closes.
    import moto.stepfunctions.models as sfn_models
    import moto.stepfunctions.responses  # noqa: F401
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    _replace(sfn_models, "stepfunctions_backends", stepfunctions_parser_backends)


def _patch_lambda_invoke() -> None:
    from moto.awslambda_simple.models import LambdaSimpleBackend

    def invoke(self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any,
               response_headers: Any) -> bytes:
        runtime: FunctionRuntime | None = _state["runtime"]
        function = self.get_function(function_name, qualifier)
        if runtime is None:
            raise RuntimeError("the sandbox function runtime is not running")
        invocation_type = headers.get("X-Amz-Invocation-Type") or headers.get("x-amz-invocation-type")
        payload = runtime.invoke(function, body, invocation_type or "RequestResponse", response_headers)
        response_headers["Content-Length"] = str(len(payload))
        return payload

    _replace(LambdaSimpleBackend, "invoke", invoke)


def _patch_code_location() -> None:
    import os

    import boto3
    from moto.awslambda.models import LambdaFunction

    original = LambdaFunction.get_code

    def get_code(self: Any) -> dict[str, Any]:
        answer: dict[str, Any] = original(self)
        port = os.environ.get("MOTO_PORT")
        if port and "S3Bucket" in self.code and "S3Key" in self.code and "Code" in answer:
            s3 = boto3.client("s3", region_name=self.region, endpoint_url=f"http://localhost:{port}",
                              aws_access_key_id="sandbox", aws_secret_access_key="sandbox")
            package = {"Bucket": self.code["S3Bucket"], "Key": self.code["S3Key"]}
            location = s3.generate_presigned_url("get_object", Params=package, ExpiresIn=600)
            answer["Code"]["Location"] = location
        return answer

    _replace(LambdaFunction, "get_code", get_code)


def _patch_json_structures() -> None:
    # JSONSerializer alone: the rest-json serializers place some members in headers, member by member
    from moto.core.serialize import JSONSerializer

    original = JSONSerializer._serialize_type_structure

    def serialize_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if key and shape.name == "AttributeValue" and in_wire_form(value):
            serialized[key] = value
        elif (isinstance(value, dict) and not shape.is_document_type and value.keys() <= shape.members.keys()
              and not getattr(self._value_picker, "response_transformers", None)):
            wrapper = self.MAP_TYPE() if key else serialized
            for name, item in value.items():
                if item is not None:  # as moto's picker: a member with no value is left out
                    self._serialize(wrapper, item, shape.members[name], name)
            if key:
                self._default_serialize(serialized, wrapper, shape, key)
        else:
            original(self, serialized, value, shape, key)

    _replace(JSONSerializer, "_serialize_type_structure", serialize_structure)


_SCALAR_TYPES = {"S": str, "N": str, "BOOL": bool, "NULL": bool}


def in_wire_form(value: Any) -> bool:
    """Whether a DynamoDB attribute value, as moto's backend answers it, is already what the wire carries:
    one type key over strings, booleans, string sets and nested values; anything else (binary) is not."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    kind, inner = next(iter(value.items()))
    if kind in _SCALAR_TYPES:
        return isinstance(inner, _SCALAR_TYPES[kind])
    if kind in ("SS", "NS"):
        return isinstance(inner, list) and all(isinstance(item, str) for item in inner)
    if kind == "L":
        return isinstance(inner, list) and all(in_wire_form(item) for item in inner)
    if kind == "M":
        return isinstance(inner, dict) and all(isinstance(name, str) and in_wire_form(item)
                                               for name, item in inner.items())
    return False


class _ClockTime:
    """The `time` module as a Retry sees it: its sleep passes on the sandbox clock."""

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        clock: Clock | None = _state["clock"]
        if clock is None:
            time.sleep(seconds)
        else:
            clock.sleep(seconds)


def _patch_wait_states() -> None:
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager

    def wait_interval(self: Any, env: Any, wait_seconds: int) -> None:
        clock: Clock | None = _state["clock"]
        if clock is None or wait_seconds <= 0:
            return
        clock.sleep(wait_seconds, cancelled=lambda: not env.is_running())

    def current_timestamp() -> datetime.datetime:
        clock: Clock | None = _state["clock"]
        return clock.now() if clock is not None else datetime.datetime.now(tz=datetime.timezone.utc)

    _replace(WaitFunction, "_wait_interval", wait_interval)
    _replace(retrier_decl, "time", _ClockTime())
    _replace(EventManager, "_get_current_timestamp", staticmethod(current_timestamp))


def _clock_now() -> datetime.datetime:
    clock: Clock | None = _state["clock"]
    return clock.now() if clock is not None else datetime.datetime.now(tz=datetime.timezone.utc)


def _patch_clock() -> None:
    from drsdoctor.sandbox import motoclock

    motoclock.patch(_replace, _clock_now)


def _patch_log_filters() -> None:
    from drsdoctor.sandbox import logfilter

    logfilter.patch(_replace)


def _patch_history_pages() -> None:
    from drsdoctor.sandbox import historypages

    historypages.patch(_replace)


def _patch_aws_policies() -> None:
    from drsdoctor.sandbox import awspolicies

    awspolicies.patch(_replace)


def require_authorization(exempt: Callable[[str], bool]) -> None:
    """moto's IAM authorisation (signature, then the caller's policies) for every call whose access key is
    not `exempt`; installed after `install()` and undone by `uninstall()` with the rest."""
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.core.exceptions import _RESTError

    with _lock:
        if _state["exempt"] is None:
            original = ActionAuthenticatorMixin._authenticate_and_authorize_action

            def authenticate(self: Any, iam_request_cls: type, resource: str = "*") -> None:
                judge: Callable[[str], bool] | None = _state["exempt"]
                if judge is None:
                    return
                key = access_key_of(self.headers) or _presigned_key(getattr(self, "querystring", {}))
                if key is None:  # moto would fail on the missing header; AWS rejects an unsigned call
                    unsigned = _RESTError("MissingAuthenticationToken", "Missing Authentication Token")
                    unsigned.code = 403
                    raise _in_protocol(self, unsigned)
                if judge(key):
                    return
                try:
                    original(self, iam_request_cls, resource)
                except _RESTError as refused:
                    raise _in_protocol(self, refused) from None

            _replace(ActionAuthenticatorMixin, "_authenticate_and_authorize_action", authenticate)
            _patch_signed_payload()
            # moto judges a call only once its count of unjudged calls reaches this: from the first one.
            _replace(settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)
        _state["exempt"] = exempt


def access_key_of(headers: Any) -> str | None:
    """The access key id in a request's SigV4 Authorization header (None for an unsigned request)."""
    authorization = headers.get("Authorization") or headers.get("authorization") or ""
    marker = "Credential="
    if marker not in authorization:
        return None
    return str(authorization.split(marker, 1)[1].split("/", 1)[0]) or None


def _presigned_key(query: Any) -> str | None:
    """The access key of a presigned URL (SigV4's X-Amz-Credential, SigV2's AWSAccessKeyId)."""
    for name in ("X-Amz-Credential", "AWSAccessKeyId"):
        values = query.get(name) if hasattr(query, "get") else None
        if values:
            value = values[0] if isinstance(values, list) else values
            return str(value).split("/", 1)[0] or None
    return None


def _patch_signed_payload() -> None:
    """moto re-signs a body-less request (a REST GET: Lambda's GetFunction) over its parsed query or its
    headers instead of the empty body the client signed: every such call failed SignatureDoesNotMatch."""
    from moto.iam.access_control import IAMRequestBase

    original = IAMRequestBase._create_aws_request

    def create_aws_request(self: Any) -> Any:
        request = original(self)
        if self._method in ("GET", "HEAD", "DELETE") and not self._body:  # a form POST's body is _data
            request.data = b""
        return request

    _replace(IAMRequestBase, "_create_aws_request", create_aws_request)


# moto answers every refusal as query-protocol XML; JSON services answer with these error types.
_JSON_ERROR_TYPES = {"AccessDenied": "AccessDeniedException",
                     "SignatureDoesNotMatch": "InvalidSignatureException",
                     "InvalidClientTokenId": "UnrecognizedClientException",
                     "MissingAuthenticationToken": "MissingAuthenticationTokenException"}


def _in_protocol(response: Any, refused: Any) -> Any:
    """The refusal as the service would word it: JSON for json/rest-json services (botocore could not
    read moto's XML there: the code came out as a bare 403), unchanged for query and XML services."""
    from moto.core.exceptions import JsonRESTError
    from moto.core.utils import get_service_model

    if get_service_model(response.boto3_service_name).protocol not in ("json", "rest-json"):
        return refused
    error = JsonRESTError(_JSON_ERROR_TYPES.get(refused.error_type, refused.error_type), refused.message)
    error.code = refused.code
    return error
