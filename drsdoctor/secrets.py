"""What must never be shown: one rule for diagnose reports, bundles and diffs alike.

An environment variable or parameter whose name or value looks secret is replaced by ``<redacted>``
wherever it would be shown; a Scrubber also removes those values (and credential-shaped text) from
free text such as check details, error messages and log lines, where a value can travel by quoting.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import functools
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from drsdoctor.cache import computed_once

if TYPE_CHECKING:
    from drsdoctor.snapshot import Snapshot

REDACTED = "<redacted>"

SECRET_NAME = re.compile(
    r"passw(or)?d|passphrase|(^|[_-])pwd($|[_-])|secret|token|api[_-]?key|private[_-]?key|access[_-]?key"
    r"|signing[_-]?key|encryption[_-]?key|session[_-]?key|credential|(^|[_-])auth($|[_-])|authorization"
    r"|(^|[_-])dsn$|conn(ection)?[_-]?str(ing)?|webhook|cookie|(^|[_-])key$",
    re.IGNORECASE,
)
# a name that says its value points at a resource (DB_SECRET_ARN, TOKEN_TABLE): the pointer is no secret,
# and operators need table names; the value rules below still apply to it
POINTER_NAME = re.compile(r"(table|table[_-]?name|arn|index|index[_-]?name|region)$", re.IGNORECASE)

# the names a credential goes by in free text (JSON, YAML, key=value, key: value), and in a URL's query
_WORDS = r"(?i:password|passwd|passphrase|pwd|pw|secret|token|api[_-]?key|sig|signature)"
_QUERY_WORDS = (r"(?i:sig|signature|token|key|api[_-]?key|access[_-]?token|code|password|secret"
                r"|x-amz-signature|x-amz-security-token|x-amz-credential)")
_VALUE = r"""(?:\\"[^"\\\n]+\\"|"[^"\n]+"|'[^'\n]+'|[^\s,;&"'<>}\]\\)]+)"""
# credential-shaped text, wherever it stands; "label", "pair", "query" and "hook" keep what names the
# credential (password=, "token": , ?sig=, hooks.slack.com/services/) so the reader knows what went
_SHAPES = {
    "key_id": r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b",  # an AWS access key id
    "pem": r"-----BEGIN [A-Z ]*PRIVATE KEY-----(?s:.*?-----END [A-Z ]*PRIVATE KEY-----)?",
    "url": r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)",  # user:password inside a URL
    # webhook URLs carry their token in the path: Slack, Microsoft Teams / Office 365, Discord
    "hook": r"(?P<hook_kept>(?i:hooks\.slack(?:-gov)?\.com/(?:services|workflows|triggers)/"
            r"|(?<![a-z0-9-])[a-z0-9-]+\.webhook\.office\.com/webhookb2/|outlook\.office(?:365)?\.com/webhook/"
            r"|(?:ptb\.|canary\.)?discord(?:app)?\.com/api/(?:v\d+/)?webhooks/))[^\s\"'<>]+",
    # a signed or keyed URL: ?sig=..., &X-Amz-Signature=..., ?key=...
    "query": rf"(?P<query_kept>[?&]{_QUERY_WORDS}=)[^&;\s#\"'<>]+",
    # "password": "...", 'db_pwd': '...', \"apiToken\": \"...\" (JSON, also escaped in a JSON string)
    "pair": rf"(?<![:/]){_WORDS}\\?[\"'][ \t]*:[ \t]*{_VALUE}",
    # password: ..., db_pw: ... (YAML, log text): a whole word, so "ExpiredToken: ..." is no credential
    "colon": rf"(?:(?<=[_.-])|(?<![A-Za-z0-9:/])){_WORDS}[ \t]*:[ \t]+{_VALUE}",
    # password=..., apiToken=..., Pwd=... (key=value, connection strings)
    "label": rf"(?<![:/]){_WORDS}[ \t]*=[ \t]*{_VALUE}",
    "jwt": r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*",
    "vendor": r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|xox[abprs]-[A-Za-z0-9-]{10,}|sk_live_[A-Za-z0-9]{10,})",
    # the shape of an AWS secret access key; it must mix cases and digits (a sha1 is lowercase hex)
    "key_shape": r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])",
}
SECRET_TEXT = re.compile("|".join(f"(?P<{name}>{shape})" for name, shape in _SHAPES.items()))
# the shapes found by a name (a word, a webhook's host) cost most to look for: only where a name stands
_NAMED = ("hook", "pair", "colon", "label")
_UNNAMED_TEXT = re.compile("|".join(f"(?P<{name}>{shape})" for name, shape in _SHAPES.items()
                                    if name not in _NAMED))
_NAME_HINTS = ("pass", "pw", "secret", "token", "key", "sig", "hook", "discord")
IDENTIFIER = re.compile(r"^(arn:aws[a-z-]*:|https?://[^@\s]*$)")  # ARNs and plain URLs: long, never keys


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    if not text:
        return 0.0
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def looks_secret_value(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    if value == REDACTED:  # already hidden (a saved bundle): still a secret, never a value to reuse
        return True
    if any(_replacement(match) != match.group(0) for match in SECRET_TEXT.finditer(value)):
        return True
    if IDENTIFIER.match(value) or len(value) < 32 or " " in value or "${" in value:
        return False
    # 32+ characters with a near-random spread of letters and digits: a key, not a table name
    has_digit, has_letter = any(c.isdigit() for c in value), any(c.isalpha() for c in value)
    return has_digit and has_letter and entropy(value) > 4.2


def looks_secret(name: str, value: Any) -> bool:
    """A variable or parameter whose name or value looks like a credential: never shown."""
    if SECRET_NAME.search(str(name)) and not POINTER_NAME.search(str(name)):
        return True
    return looks_secret_value(value)


def shown(name: str, value: Any) -> Any:
    """The value as it may be shown: <redacted> when it looks secret (nothing stays nothing)."""
    return REDACTED if value is not None and looks_secret(name, value) else value


def shown_variables(variables: Mapping[str, Any]) -> dict[str, Any]:
    return {name: shown(name, value) for name, value in variables.items()}


def _worth_scrubbing(value: str) -> bool:
    # a short or plain-word value (TOKEN_TTL=30, AUTH_MODE=enabled) would blank unrelated text
    return len(value) >= 12 or (len(value) >= 6 and not value.isalpha() and not value.isdigit())


class Scrubber:
    """Removes known secret values and credential-shaped text from any string, list, dict or dataclass."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values = {str(value) for value in secrets if value and value != REDACTED}
        self.secrets = sorted((v for v in values if _worth_scrubbing(v)), key=len, reverse=True)
        self._done: dict[str, str] = {}

    @classmethod
    def of_variables(cls, *groups: Mapping[str, Any]) -> Scrubber:
        """The Scrubber of these variables' secret values. The same variables give the same Scrubber, so
        the executions of one machine diagnosed together (`--running`) scrub each repeated text once."""
        return _scrubber_of(tuple((str(name), value) for group in groups for name, value in group.items()
                                  if isinstance(value, str)))

    @classmethod
    def of_snapshot(cls, snap: Snapshot) -> Scrubber:
        """The secret values of a Snapshot: its functions' environments and its stack's parameters."""
        groups = [function.environment for function in snap.functions]
        if snap.stack:
            groups.append(snap.stack.parameters)
        return cls.of_variables(*groups)

    def text(self, text: str) -> str:
        done = self._done.get(text)
        if done is None:  # a bundle repeats the same strings (state names, payloads) thousands of times
            done = text
            for secret in self.secrets:
                done = done.replace(secret, REDACTED)
            if len(done) >= 40 or _HINTS.search(done):  # no shape fits otherwise: skip the costly regex
                lowered = done.lower()
                named = any(hint in lowered for hint in _NAME_HINTS)
                done = (SECRET_TEXT if named else _UNNAMED_TEXT).sub(_replacement, done)
            self._done[text] = done
        return done

    def deep(self, value: Any) -> Any:
        """A copy of ``value`` with every string in it scrubbed (dict keys too)."""
        kind = type(value)  # the common kinds by identity first: a report holds thousands of values
        if kind is str:
            return self.text(value)
        if kind in _ATOMS:
            return value
        if kind is dict:
            return {self.deep(key): self.deep(item) for key, item in value.items()}
        if kind is list:
            return [self.deep(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, (int, float, bool)) or value is None:
            return value
        if isinstance(value, Mapping):
            return {self.deep(key): self.deep(item) for key, item in value.items()}
        if isinstance(value, (list, tuple, set)):
            return type(value)(self.deep(item) for item in value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            clean = copy.copy(value)
            for name in _field_names(type(value)):
                # object.__setattr__: frozen dataclasses are scrubbed too, on the copy
                object.__setattr__(clean, name, self.deep(getattr(value, name)))
            return clean
        return value


@computed_once(maxsize=8)
def _scrubber_of(variables: tuple[tuple[str, str], ...]) -> Scrubber:
    return Scrubber(value for name, value in variables if looks_secret(name, value))


_ATOMS = frozenset({int, float, bool, type(None), datetime.datetime, datetime.date, datetime.timedelta})

# every shape contains one of these, or is 40 characters long
_HINTS = re.compile(r"AKIA|ASIA|-----|://|=|eyJ|_|xox|(?i:pass|pw|secret|token|sig|hook|key)")


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(item.name for item in dataclasses.fields(cls))


def _replacement(match: re.Match[str]) -> str:
    text = match.group(0)
    if match.lastgroup == "key_shape" and not _mixed(text):
        return text
    kind = match.lastgroup
    if kind in ("hook", "query"):  # hooks.slack.com/services/<redacted>, ?sig=<redacted>
        return match.group(f"{kind}_kept") + REDACTED
    if kind in ("label", "pair", "colon"):  # "password=hunter2" keeps its label, and the value its quotes
        separator = _SEPARATOR.search(text)
        assert separator is not None
        label, value = text[: separator.end()], text[separator.end():]
        quote = next((q for q in ('\\"', '"', "'") if value.startswith(q)), "")
        return label + quote + REDACTED + quote
    return REDACTED


_SEPARATOR = re.compile(r"\\?[\"']?[ \t]*[:=][ \t]*")


def _mixed(text: str) -> bool:
    return all(any(test(c) for c in text) for test in (str.isupper, str.islower, str.isdigit))
