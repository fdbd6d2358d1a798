"""DrsWireApp: DRS's rest-json wire protocol as a WSGI app over a DrsModel, with the caller's IAM enforced.

Routes, status codes and error shapes come from botocore's drs service model, so an unmodified
boto3.client("drs", endpoint_url=...) or `aws drs` talks to it. Signatures are not verified (the
sandbox has no secrets); the access key id in the credential scope names the caller.
"""

from __future__ import annotations

import json
import random
import re
import threading
import uuid
from collections.abc import Callable
from typing import Any

import botocore.session
from werkzeug.wrappers import Request, Response

from drsdoctor.sandbox.drs import plans_wire, serialize
from drsdoctor.sandbox.drs.entities import DrsServiceError, parse_iso, validation_error
from drsdoctor.sandbox.drs.follow_on import follow_on_requests
from drsdoctor.sandbox.drs.model import DrsModel
from drsdoctor.sandbox.drs.validate import problems

Identify = Callable[[str], "str | None"]
# True/False, or a decision as the IAM evaluator names it: allowed, explicitDeny, implicitDeny.
Authorize = Callable[[str, str, str], "bool | str"]
# The same, with the request context a request carries besides the caller's (DRS acting for its caller).
AuthorizeInContext = Callable[[str, str, str, "dict[str, str | list[str]]"], "bool | str"]
Throttle = Callable[[str], bool]

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")
_SERVICE_MODEL = None


def service_model() -> Any:
    """botocore's drs model, loaded once: the contract every response here keeps."""
    global _SERVICE_MODEL
    if _SERVICE_MODEL is None:
        _SERVICE_MODEL = botocore.session.get_session().get_service_model("drs")
    return _SERVICE_MODEL


def credential_scope(environ: dict[str, Any]) -> tuple[str, str, str] | None:
    """(access key id, region, service) from a SigV4 Authorization header or presigned query."""
    header = environ.get("HTTP_AUTHORIZATION", "")
    match = _CREDENTIAL.search(header)
    if match is None:
        query = environ.get("QUERY_STRING", "").replace("%2F", "/").replace("%2f", "/")
        match = re.search(r"X-Amz-Credential=([^/&]+)/(\d{8})/([^/&]+)/([^/&]+)/aws4_request", query)
    return (match.group(1), match.group(3), match.group(4)) if match else None


def is_drs_request(environ: dict[str, Any]) -> bool:
    """Whether a request on a shared port is signed for DRS (credential scope .../drs/aws4_request)."""
    scope = credential_scope(environ)
    return scope is not None and scope[2] == "drs"


def _account_of(principal: str | None) -> str:
    """The account of a caller's ARN (arn:aws:sts::ACCOUNT:assumed-role/...; arn:aws:iam::ACCOUNT:root)."""
    return "".join((principal or "").split(":")[4:5])


def allow_all(_principal: str, _action: str, _resource: str) -> bool:
    return True


def throttle_share(share: float, seed: int = 0) -> Throttle:
    """Throttle about `share` of calls, the same calls for the same seed (for backoff tests)."""
    rng = random.Random(seed)
    return lambda _operation: rng.random() < share


class DrsWireApp:
    """WSGI callable: one request in, DRS's JSON (or DRS's error) out."""

    def __init__(self, model: DrsModel, *, identify: Identify | None = None,
                 authorize: Authorize | None = None, throttle: Throttle | None = None,
                 authorize_in_context: AuthorizeInContext | None = None) -> None:
        self.model = model
        self.identify: Identify = identify or (lambda _key: f"arn:aws:iam::{model.account_id}:user/sandbox")
        self.authorize: Authorize = authorize or allow_all
        self.throttle: Throttle = throttle or (lambda _operation: False)
        # DRS's follow-on actions are judged with their request context when the judge can read it.
        self.authorize_in_context: AuthorizeInContext = authorize_in_context or (
            lambda principal, action, resource, _context: self.authorize(principal, action, resource))
        self._routes = {(op.http["method"], op.http["requestUri"]): op
                        for op in map(service_model().operation_model, service_model().operation_names)}
        self._regions: dict[str, DrsWireApp] = {model.region: self}
        self._regions_lock = threading.Lock()
        self._accounts: dict[str, DrsWireApp] = {model.account_id: self}  # shared by every app of the world

    def regional(self, region: str) -> DrsWireApp:
        """DRS in another region of the account: its own (at first empty) world, on the same clock, behind
        the same IAM. DRS is regional: a client signing for another region never sees this one's."""
        with self._regions_lock:
            app = self._regions.get(region)
            if app is None:
                model = DrsModel(region=region, account_id=self.model.account_id, now=self.model.now,
                                 phases=self.model.phases, quotas=self.model.quotas)
                model.ec2 = self.model.ec2
                app = DrsWireApp(model, identify=self.identify, authorize=self.authorize,
                                 throttle=self.throttle, authorize_in_context=self.authorize_in_context)
                app._regions, app._regions_lock = self._regions, self._regions_lock
                app._accounts = self._accounts
                self._regions[region] = app
            return app

    def account(self, account_id: str) -> DrsWireApp:
        """DRS in another account: its own world (every region of it), on the same clock, behind the same
        IAM. DRS is per account: a caller with that account's credentials sees only that account's."""
        with self._regions_lock:
            home = self._accounts.get(account_id)
            if home is None:
                from drsdoctor.sandbox.drs.ec2 import Ec2Instances

                model = DrsModel(region=self.model.region, account_id=account_id, now=self.model.now,
                                 phases=self.model.phases, quotas=self.model.quotas)
                model.ec2 = Ec2Instances(account_id)
                home = DrsWireApp(model, identify=self.identify, authorize=self.authorize,
                                  throttle=self.throttle, authorize_in_context=self.authorize_in_context)
                home._accounts = self._accounts
                self._accounts[account_id] = home
            return home

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        scope = credential_scope(environ)
        caller_account = _account_of(self.identify(scope[0])) if scope is not None else None
        if caller_account and caller_account != self.model.account_id:
            return self.account(caller_account)(environ, start_response)
        if scope is not None and scope[1] != self.model.region:
            return self.regional(scope[1])(environ, start_response)
        request = Request(environ)
        try:
            status, body, headers = self._handle(request)
        except DrsServiceError as error:
            status, body, headers = _error(error)
        except Exception as error:  # a simulator bug still answers as DRS would, not with an HTML page
            status, body, headers = _error(DrsServiceError("InternalServerException",
                                                           f"{type(error).__name__}: {error}"))
        headers = {"Content-Type": "application/json", "x-amzn-RequestId": str(uuid.uuid4()), **headers}
        response = Response(json.dumps(body) if body is not None else "", status=status, headers=headers)
        return response(environ, start_response)

    # -- one request ------------------------------------------------------------------------------
    def _handle(self, request: Request) -> tuple[int, dict[str, Any] | None, dict[str, str]]:
        operation, labels = self._route(request.method, request.path)
        principal = self._caller(request.environ)
        if self.throttle(operation.name):
            raise DrsServiceError("ThrottlingException", "Rate exceeded", serviceCode="drs",
                                  retryAfterSeconds="1")
        params = self._params(request, operation, labels)
        handler = getattr(self, "_" + _snake(operation.name), None)
        handler = handler or plans_wire.handler(self, operation.name)  # recovery plans: plans_wire.py
        if handler is None:
            raise DrsServiceError("ValidationException", f"{operation.name} is not simulated",
                                  reason="unknownOperation")
        with self.model.lock:  # objects are read out whole, never while a step changes them
            body = handler(principal, params)
        return operation.http.get("responseCode", 200), body, {}

    def _route(self, method: str, path: str) -> tuple[Any, dict[str, str]]:
        operation = self._routes.get((method, path))
        if operation is not None:
            return operation, {}
        if path.startswith("/tags/"):
            tagged = self._routes.get((method, "/tags/{resourceArn}"))
            if tagged is not None:
                return tagged, {"resourceArn": path[len("/tags/"):]}
        raise DrsServiceError("ValidationException", f"No operation at {method} {path}",
                              reason="unknownOperation")

    def _caller(self, environ: dict[str, Any]) -> str:
        scope = credential_scope(environ)
        if scope is None:
            raise DrsServiceError("MissingAuthenticationTokenException", "Missing Authentication Token")
        principal = self.identify(scope[0])
        if principal is None:
            raise DrsServiceError("UnrecognizedClientException",
                                  "The security token included in the request is invalid.")
        return principal

    def _params(self, request: Request, operation: Any, labels: dict[str, str]) -> dict[str, Any]:
        raw = request.get_data(as_text=True)
        try:
            params = json.loads(raw) if raw.strip() else {}
        except ValueError:
            raise DrsServiceError("ValidationException", "Request body is not valid JSON",
                                  reason="cannotParse") from None
        if not isinstance(params, dict):
            raise DrsServiceError("ValidationException", "Request body must be a JSON object",
                                  reason="cannotParse")
        params.update(labels)
        shape = operation.input_shape
        if shape is not None:
            for name, member in shape.members.items():
                if member.serialization.get("location") == "querystring":
                    values = request.args.getlist(member.serialization.get("name", name))
                    if values:
                        params[name] = values
            found = problems(shape, params)
            if found:
                raise DrsServiceError(
                    "ValidationException", found[0][1], reason="fieldValidationFailed",
                    fieldList=[{"name": path, "message": message} for path, message in found])
        return params

    def _require(self, principal: str, action: str, resource: str) -> None:
        decision = self.authorize(principal, action, resource)
        if decision is True or decision == "allowed":
            return
        where = "" if resource == "*" else f" on resource: {resource}"
        why = ("with an explicit deny in an identity-based policy" if decision == "explicitDeny"
               else f"because no identity-based policy allows the {action} action")
        raise DrsServiceError("AccessDeniedException",
                              f"User: {principal} is not authorized to perform: {action}{where} {why}")

    # -- operations (named after DRS's, snake_case) -----------------------------------------------
    def _start_recovery(self, principal: str, params: dict[str, Any]) -> dict[str, Any]:
        ids = [entry["sourceServerID"] for entry in params["sourceServers"]]
        arns = [self.model.arn("source-server", sid) for sid in dict.fromkeys(ids)]
        for arn in arns:
            self._require(principal, "drs:StartRecovery", arn)
        denied = [action for action, resource, context
                  in follow_on_requests(arns, self.model.account_id, self.model.region)
                  if self.authorize_in_context(principal, action, resource, context) not in (True, "allowed")]
        job = self.model.start_recovery(ids, is_drill=bool(params.get("isDrill", False)),
                                        tags=params.get("tags"), denied_actions=dict.fromkeys(denied))
        return {"job": serialize.job(job)}

    def _terminate_recovery_instances(self, principal: str, params: dict[str, Any]) -> dict[str, Any]:
        ids = params["recoveryInstanceIDs"]
        for iid in dict.fromkeys(ids):
            self._require(principal, "drs:TerminateRecoveryInstances",
                          self.model.arn("recovery-instance", iid))
        return {"job": serialize.job(self.model.terminate_recovery_instances(ids))}

    def _describe_jobs(self, principal: str, params: dict[str, Any]) -> dict[str, Any]:
        self._require(principal, "drs:DescribeJobs", "*")
        filters = params.get("filters") or {}
        jobs, token = self.model.describe_jobs(
            job_ids=filters.get("jobIDs"), from_date=_date(filters, "fromDate"),
            to_date=_date(filters, "toDate"), max_results=params.get("maxResults"),
            next_token=params.get("nextToken"))
        return _listing([serialize.job(job) for job in jobs], token)

    def _describe_job_log_items(self, principal: str, params: dict[str, Any]) -> dict[str, Any]:
        self._require(principal, "drs:DescribeJobLogItems", self.model.arn("job", params["jobID"]))
        items, token = self.model.describe_job_log_items(
            params["jobID"], max_results=params.get("maxResults"), next_token=params.get("nextToken"))
        return _listing([serialize.job_log_item(item) for item in items], token)

    def _describe_source_servers(self, principal: str, params: dict[str, Any]) -> dict[str, Any]:
        self._require(principal, "drs:DescribeSourceServers", "*")
        filters = params.get("filters") or {}
        servers, token = self.model.describe_source_servers(
            source_server_ids=filters.get("sourceServerIDs"), hardware_id=filters.get("hardwareId"),
            staging_account_ids=filters.get("stagingAccountIDs"), max_results=params.get("maxResults"),
            next_token=params.get("nextToken"))
        now, az = self.model.now(), f"{self.model.region}a"
        return _listing([serialize.source_server(server, now, az) for server in servers], token)

    def _describe_recovery_instances(self, principal: str, params: dict[str, Any]) -> dict[str, Any]:
        self._require(principal, "drs:DescribeRecoveryInstances", "*")
        filters = params.get("filters") or {}
        instances, token = self.model.describe_recovery_instances(
            recovery_instance_ids=filters.get("recoveryInstanceIDs"),
            source_server_ids=filters.get("sourceServerIDs"), max_results=params.get("maxResults"),
            next_token=params.get("nextToken"))
        az = f"{self.model.region}a"
        return _listing([serialize.recovery_instance(i, self.model.find_source_server(i.source_server_id), az)
                         for i in instances], token)

    def _list_tags_for_resource(self, principal: str, params: dict[str, Any]) -> dict[str, Any]:
        self._require(principal, "drs:ListTagsForResource", params["resourceArn"])
        return {"tags": self.model.list_tags(params["resourceArn"])}

    def _tag_resource(self, principal: str, params: dict[str, Any]) -> None:
        self._require(principal, "drs:TagResource", params["resourceArn"])
        self.model.tag_resource(params["resourceArn"], params.get("tags") or {})

    def _untag_resource(self, principal: str, params: dict[str, Any]) -> None:
        self._require(principal, "drs:UntagResource", params["resourceArn"])
        self.model.untag_resource(params["resourceArn"], params.get("tagKeys") or [])


def _date(filters: dict[str, Any], name: str) -> Any:
    text = filters.get(name)
    if text is None:
        return None
    try:
        return parse_iso(text)
    except ValueError:
        raise validation_error(f"filters.{name} is not an ISO-8601 date", f"filters.{name}") from None


def _listing(items: list[dict[str, Any]], token: str | None) -> dict[str, Any]:
    return {"items": items, **({"nextToken": token} if token else {})}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _error(error: DrsServiceError) -> tuple[int, dict[str, Any], dict[str, str]]:
    """DRS's error: the name in x-amzn-ErrorType, the error shape's members in the body."""
    status, members = _error_contract(error.code)
    body: dict[str, Any] = {"message": error.message}
    if "code" in members or not members:
        body["code"] = error.code
    headers = {"x-amzn-ErrorType": error.code}
    for name, value in error.fields.items():
        member = members.get(name)
        if member is not None and member.serialization.get("location") == "header":
            headers[member.serialization["name"]] = str(value)
        elif member is not None or not members:
            body[name] = value
    return status, body, headers


# Errors every AWS service answers that DRS's model does not define (authentication).
_COMMON_ERRORS = {"MissingAuthenticationTokenException": 403, "UnrecognizedClientException": 403}


def _error_contract(code: str) -> tuple[int, dict[str, Any]]:
    if code in _COMMON_ERRORS:
        return _COMMON_ERRORS[code], {}
    shape = service_model().shape_for(code)
    return shape.metadata["error"]["httpStatusCode"], dict(shape.members)
