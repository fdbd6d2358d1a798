"""The values code_calls.py follows through a package's code: what boto3 made (clients, resources,
paginators, sessions), what names a resource (an environment value, a literal, a part of the event), and the
calls it records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

IDENTIFIER = "@identifier"  # the argument a resource object (dynamodb Table) was made with


# ---- the values the interpreter follows ----------------------------------------------------------------

@dataclass(frozen=True)
class Env:
    """A value read from the function's environment: os.environ["NAME"], os.getenv("NAME")."""
    name: str


@dataclass(frozen=True)
class Text:
    value: str


@dataclass(frozen=True)
class Input:
    """A value taken from the invocation's event: event["roleArn"] is Input(("roleArn",))."""
    path: tuple[str, ...] = ()


@dataclass(frozen=True)
class Assumed:
    """Credentials (or any part of them) that sts.assume_role returned for the role its RoleArn named."""
    role: Any  # Env | Text | Input | None


@dataclass(frozen=True)
class Session:
    role: Assumed | None = None
    region: Any = None


@dataclass(frozen=True)
class Client:
    service: str
    role: Assumed | None = None
    region: Any = None  # region_name, where the code gives one (Env, Text)


@dataclass(frozen=True)
class Resource:
    """A boto3 service resource (`kind` empty) or one of its objects: dynamodb Table(name)."""
    service: str
    kind: str = ""
    name: Any = None  # the identifier the object was made with (Env, Text, ...)
    role: Assumed | None = None
    region: Any = None


@dataclass(frozen=True)
class Paginator:
    client: Client
    method: str  # the client method it pages: describe_jobs
    kind: str = "paginator"  # or "waiter"


@dataclass(frozen=True)
class Module:
    name: str


@dataclass(frozen=True)
class Func:
    module: str
    name: str
    cls: str = ""


@dataclass(frozen=True)
class Choice:
    """Functions picked at run time: the values of a dispatch table."""
    funcs: tuple[Func, ...]


@dataclass(frozen=True)
class Boto3:
    """The boto3 module, boto3.session, or boto3.Session (`part`)."""
    part: str = ""


@dataclass(frozen=True)
class OsEnviron:
    pass


@dataclass(frozen=True)
class Call:
    """One method called on a client or resource: `method` is boto3's name (get_item, describe_jobs)."""

    service: str
    method: str
    file: str
    line: int
    on: str = ""  # the resource kind the method belongs to ("Table"), empty for a client
    arguments: tuple[tuple[str, Any], ...] = ()  # keyword -> Env | Text | Input, where one could be told
    keywords: tuple[str, ...] = ()  # every keyword the call passes (told or not)
    role: Assumed | None = None  # made with credentials of an assumed role
    region: Any = None  # the client's region_name (Env, Text), where the code gives one

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Bound:  # a method of a value, not yet called
    owner: Any
    method: str
