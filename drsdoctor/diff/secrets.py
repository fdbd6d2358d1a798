"""Values that must never be printed: secret-looking names, credentials in strings, long random values."""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

SECRET_NAME = re.compile(
    r"pass(word|wd)?|secret|token|api[_-]?key|private[_-]?key|access[_-]?key|credential"
    r"|auth|(^|_)key$|conn(ection)?[_-]?str",
    re.IGNORECASE,
)
CREDENTIAL_IN_VALUE = re.compile(
    r"://[^/\s:@]+:[^/\s@]+@|password=|pwd=|AKIA[0-9A-Z]{16}|-----BEGIN", re.IGNORECASE
)
REDACTED = "<redacted>"


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    if not text:
        return 0.0
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def looks_secret(name: str, value: Any) -> bool:
    """A variable whose name or value looks like a credential: its value is shown as <redacted>."""
    if SECRET_NAME.search(name):
        return True
    if not isinstance(value, str):
        return False
    if CREDENTIAL_IN_VALUE.search(value):
        return True
    # 32+ characters with no separators a name would have and near-random spread: a key, not a table name
    return len(value) >= 32 and " " not in value and "${" not in value and entropy(value) > 4.2


def without_secrets(properties: Any) -> Any:
    """A resource's properties with secret-looking environment variable values replaced."""
    if not isinstance(properties, dict):
        return properties
    environment = properties.get("Environment")
    if not isinstance(environment, dict) or not isinstance(environment.get("Variables"), dict):
        return properties
    variables = environment["Variables"]
    cleaned = {name: shown(name, value) for name, value in variables.items()}
    return {**properties, "Environment": {**environment, "Variables": cleaned}}


def shown(name: str, value: Any) -> Any:
    return REDACTED if value is not None and looks_secret(name, value) else value
