"""Every change the sandbox makes to moto's behaviour, in one place (moto 5.2.5).

1. Configuration: Step Functions definitions really execute; Lambda runs without Docker.
2. State machines deployed by CloudFormation land in the executing Step Functions backend (moto's CloudFormation
   otherwise writes them to the non-executing one, where StartExecution cannot run them).
3. Lambda invocations (moto's `LambdaSimpleBackend.invoke`, the one seam without Docker) run the function's own
   code in the sandbox's FunctionRuntime.
4. StartExecution without a name gets a generated one, as in AWS (moto would put "None" in the ARN).
5. Inline role policies deployed by CloudFormation are stored as JSON text (moto keeps the template's mapping
   and GetRolePolicy would answer its Python repr).
6. Step Functions Wait states wait on the sandbox clock instead of the wall clock
   (`WaitFunction._wait_interval`), and history events are stamped with it.
These patches are process-wide: one sandbox world per process at a time.
"""

from __future__ import annotations

import datetime
import json
import logging
import threading
import uuid
from typing import Any

from drsdoctor.sandbox.clock import Clock
from drsdoctor.sandbox.runtime import FunctionRuntime

_lock = threading.Lock()
_state: dict[str, Any] = {"clock": None, "runtime": None, "installed": False}


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
        _state["installed"] = True


def uninstall() -> None:
    """Forget the world; invocations after this fail as if the runtime were gone."""
    with _lock:
        _state["clock"], _state["runtime"] = None, None


def _configure() -> None:
    from moto.core.config import default_user_config

    default_user_config["stepfunctions"] = {"execute_state_machine": True}
    default_user_config["lambda"] = {"use_docker": False}
    # moto logs every failed state (a normal part of a broken recovery) with a full repr: keep stderr readable.
    for name in ("moto", "werkzeug"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _patch_inline_policies() -> None:
    from moto.iam.models import Role

    original = Role.put_policy

    def put_policy(self: Any, policy_name: str, policy_json: Any) -> None:
        text = policy_json if isinstance(policy_json, str) else json.dumps(policy_json)
        original(self, policy_name, text)

    Role.put_policy = put_policy  # type: ignore[method-assign]


def _patch_execution_names() -> None:
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original = StepFunctionsParserBackend.start_execution

    def start_execution(self: Any, state_machine_arn: str, name: Any = None, *args: Any, **kwargs: Any) -> Any:
        return original(self, state_machine_arn, name or str(uuid.uuid4()), *args, **kwargs)

    StepFunctionsParserBackend.start_execution = start_execution  # type: ignore[method-assign]


def _patch_cloudformation_state_machines() -> None:
    import moto.stepfunctions.models as sfn_models
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    sfn_models.stepfunctions_backends = stepfunctions_parser_backends  # type: ignore[assignment]


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

    LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign]


def _patch_wait_states() -> None:
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

    WaitFunction._wait_interval = wait_interval  # type: ignore[method-assign]
    EventManager._get_current_timestamp = staticmethod(current_timestamp)  # type: ignore[method-assign]
