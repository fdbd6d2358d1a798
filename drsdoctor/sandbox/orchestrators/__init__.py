"""The orchestrators the sandbox deploys: `get(NAME)` -> an Orchestrator (base.py says what one holds).

    reference      drsdoctor's own (drsdoctor/reference/), the default
    renamed:SEED   the reference with every name replaced by names drawn from SEED (an integer)
    selfpoll       a second design: a JSONata machine that polls DRS itself, nested stacks (selfpoll/)
    drs-recovery-plan  DRS's own recovery plan, no state machine (recoveryplan/)
    reference-xaccount, selfpoll-xaccount   the same with DRS in a second account (xaccount.py)

Registering an orchestrator is one module and one line:
1. write drsdoctor/sandbox/orchestrators/NAME.py with `def orchestrator() -> Orchestrator` (see
   reference.py; base.py's docstring lists the name map's keys the sandbox's faults use);
2. add `"NAME": f"{__name__}.NAME"` to REGISTERED below.
Then `drsdoctor sandbox serve --orchestrator NAME`, `drsdoctor demo --orchestrator NAME [--fault F]`,
`demo --list-faults --orchestrator NAME` and `Sandbox.start(orchestrator="NAME")` deploy it. A family of
orchestrators built from an argument (`renamed:SEED`) registers in FAMILIES instead: its module's
`orchestrator(argument)` builds one, `EXAMPLE` is the argument `demo --list-orchestrators` shows.
"""

from __future__ import annotations

import functools
import importlib

from drsdoctor.errors import InputError
from drsdoctor.sandbox.orchestrators.base import Names, Orchestrator

DEFAULT = "reference"
REGISTERED: dict[str, str] = {
    "reference": f"{__name__}.reference",
    "selfpoll": f"{__name__}.selfpoll",
    "drs-recovery-plan": f"{__name__}.recoveryplan",
    "reference-xaccount": f"{__name__}.xaccount",
    "selfpoll-xaccount": f"{__name__}.xaccount_selfpoll",
}
FAMILIES: dict[str, str] = {
    "renamed": f"{__name__}.renamed",
}

__all__ = ["DEFAULT", "FAMILIES", "REGISTERED", "Names", "Orchestrator", "get", "listing"]


@functools.cache
def get(name: str) -> Orchestrator:
    """The orchestrator of that name; a bad name is the user's input error (one line, exit 2)."""
    if name in REGISTERED:
        return importlib.import_module(REGISTERED[name]).orchestrator()
    family, _, argument = name.partition(":")
    if family in FAMILIES and argument:
        return importlib.import_module(FAMILIES[family]).orchestrator(argument)
    raise InputError(f"no orchestrator named {name!r}; `drsdoctor demo --list-orchestrators` lists them: "
                     + ", ".join(listing()))


def listing() -> list[str]:
    """One name an orchestrator, for `demo --list-orchestrators`: a family shows with its example argument."""
    examples = [f"{family}:{importlib.import_module(module).EXAMPLE}" for family, module in FAMILIES.items()]
    return [*REGISTERED, *examples]
