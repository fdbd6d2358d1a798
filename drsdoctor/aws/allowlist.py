"""The one table of AWS actions drsdoctor may call: the read-only guard allows these and nothing else, and
`drsdoctor permissions` prints the same table as a policy.

The table is what the code declares, never a name pattern: each Snapshot fact's actions (snapshot.py,
required and optional) and, for what commands call outside the facts, the READ_ACTIONS of the modules below.
A new read is added by declaring it in one of those places (a new command's module joins
DECLARING_MODULES); anything else is refused before it is sent, whatever it is called.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

from drsdoctor import pyast

# Modules that declare the read-only actions their commands call, as READ_ACTIONS.
DECLARING_MODULES = ("drsdoctor.diff", "drsdoctor.iam", "drsdoctor.collect")
# Calls AWS answers whatever the caller's policies say, so no policy grants them: allowed, never printed.
NEEDS_NO_PERMISSION = {"sts:GetCallerIdentity": "who the credentials belong to"}


def optional_actions() -> dict[str, str]:
    """Each optional action -> what it adds (the facts' declarations; an action optional for one fact is
    optional everywhere: the commands that list it, like `iam simulate --role-arn`, also do without it)."""
    from drsdoctor.snapshot import optional_fact_actions

    return {action: why for actions in optional_fact_actions().values() for action, why in actions.items()}


def required_actions() -> dict[str, list[str]]:
    """Each action drsdoctor cannot do without -> the facts or modules that need it."""
    from drsdoctor.snapshot import fact_actions

    optional = optional_actions()
    needed: dict[str, list[str]] = defaultdict(list)
    for fact, actions in fact_actions().items():
        for action in actions:
            if action not in optional:
                needed[action].append(f"snapshot.{fact}")
    for name in DECLARING_MODULES:
        for action in declared(name):
            if action not in optional:
                needed[action].append(name)
    return dict(needed)


def declared(module: str) -> tuple[str, ...]:
    """A module's READ_ACTIONS, read from its source when it is a literal: the guard needs the table at the
    first call of every command, and importing drsdoctor.collect for it costs `iam simulate` half a second."""
    spec = importlib.util.find_spec(module)
    if spec is not None and spec.origin and spec.origin.endswith(".py"):
        for node in pyast.parse(Path(spec.origin).read_text()).body:
            if (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "READ_ACTIONS"):
                try:
                    return tuple(ast.literal_eval(node.value))
                except ValueError:
                    break  # not a literal: the module computes it, so ask the module
    return tuple(getattr(importlib.import_module(module), "READ_ACTIONS", ()))


@lru_cache(maxsize=1)
def allowed_actions() -> frozenset[str]:
    """Every action the guard lets through: required, optional, and those that need no permission."""
    return frozenset(required_actions()) | frozenset(optional_actions()) | frozenset(NEEDS_NO_PERMISSION)
