"""sts:AssumeRole as AWS decides it (moto 5.2.5 lets any caller assume any role, existing or not).

A caller from outside the world's own keys assumes a role only when the role exists, its trust policy names
the caller (its role, its account or its root) and, unless the trust policy names the caller's own role in
the same account, the caller's identity policies allow sts:AssumeRole on the role. A refusal is AWS's
AccessDenied, named as AWS names it. The world's own clients (deploy, runtime) are exempt: the runtime
assumes each function's role as Lambda would.

Installed by the world next to motopatch (`install`), undone when it closes (`uninstall`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from drsdoctor.iam.trust import trust_allows
from drsdoctor.sandbox.identity import SandboxIdentity, _document, role_arn_of

_lock = threading.Lock()
_state: dict[str, Any] = {"original": None}


def refusal(identity: SandboxIdentity, caller: str, role_arn: str) -> str | None:
    """Why `caller` (an ARN as identify() names it) may not assume `role_arn` (AWS's words after "User:
    CALLER is not authorized to perform: "); None when it may."""
    from moto.iam.models import iam_backends

    denied = f"sts:AssumeRole on resource: {role_arn}"
    account = "".join(role_arn.split(":")[4:5])
    try:
        role = iam_backends[account][identity.partition].get_role(role_arn.rsplit("/", 1)[-1])
    except Exception:  # moto raises its own not-found types: AWS says only "not authorized"
        return denied
    principal = role_arn_of(caller)
    decided = trust_allows(json.loads(_document(role.assume_role_policy_document)), role_arn, principal)
    if not decided.allowed:
        return denied
    same_account = "".join(principal.split(":")[4:5]) == account
    if caller.endswith(":root") or (same_account and decided.names_principal):
        return None
    if identity.authorize(caller, "sts:AssumeRole", role_arn) != "allowed":
        return denied
    return None


def install(identity: SandboxIdentity, exempt: Callable[[str], bool]) -> None:
    """Judge AssumeRole calls whose access key is not `exempt` (the world's own keys)."""
    from moto.core.exceptions import AccessDeniedError
    from moto.sts.responses import TokenResponse

    from drsdoctor.sandbox.motopatch import access_key_of

    with _lock:
        original = _state["original"] or TokenResponse.assume_role

        def assume_role(self: Any) -> Any:
            key = access_key_of(self.headers)
            if key is not None and not exempt(key):
                caller = identity.identify(key)
                why = refusal(identity, caller, str(self._get_param("RoleArn")))
                if why is not None:  # AWS's AccessDenied, as its query protocol writes it (HTTP 403)
                    raise AccessDeniedError(caller, why)
            return original(self)

        _state["original"] = original
        TokenResponse.assume_role = assume_role  # type: ignore[method-assign]


def uninstall() -> None:
    from moto.sts.responses import TokenResponse

    with _lock:
        if _state["original"] is not None:
            TokenResponse.assume_role = _state["original"]  # type: ignore[method-assign]
            _state["original"] = None
