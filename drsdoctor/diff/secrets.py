"""Values a diff must never print: the one rule of drsdoctor.secrets, applied to template properties."""

from __future__ import annotations

from typing import Any

from drsdoctor.secrets import REDACTED, entropy, looks_secret, shown, shown_variables

__all__ = ["REDACTED", "entropy", "looks_secret", "shown", "without_secrets"]


def without_secrets(properties: Any) -> Any:
    """A resource's properties with secret-looking environment variable values replaced."""
    if not isinstance(properties, dict):
        return properties
    environment = properties.get("Environment")
    if not isinstance(environment, dict) or not isinstance(environment.get("Variables"), dict):
        return properties
    cleaned = shown_variables(environment["Variables"])
    return {**properties, "Environment": {**environment, "Variables": cleaned}}
