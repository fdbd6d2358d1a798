"""`renamed:SEED`: the reference deployed with every name replaced by names drawn from SEED (renaming.py).

It runs as the reference does and takes every fault of the reference's catalogue: the faults find what they
break through its name map, and their texts name its parts. Diagnosing it proves drsdoctor knows no name.
"""

from __future__ import annotations

import dataclasses
import functools

from drsdoctor.errors import InputError
from drsdoctor.sandbox.orchestrators.base import Orchestrator
from drsdoctor.sandbox.orchestrators.reference import PARAMETERS, reference_like
from drsdoctor.sandbox.orchestrators.renaming import Renaming

EXAMPLE = "1"  # the seed `demo --list-orchestrators` shows


@functools.cache
def renaming(seed: int) -> Renaming:
    return Renaming(seed)


def orchestrator(argument: str) -> Orchestrator:
    from drsdoctor.sandbox.faults import FAULTS

    try:
        seed = int(argument)
    except ValueError:
        raise InputError(f"renamed:SEED takes an integer seed, not {argument!r}") from None
    names = renaming(seed)
    parameters = {**PARAMETERS, "EnvironmentName": names.environment, "CodeBucket": names.bucket,
                  "CodeKey": names.code_key}
    faults = {name: dataclasses.replace(fault, summary=names.translate(fault.summary),
                                        root_cause=names.translate(fault.root_cause))
              for name, fault in FAULTS.items()}
    return reference_like(
        f"renamed:{seed}", f"the reference with every name drawn from seed {seed}",
        stack_name=names.stack_name, bucket=names.bucket, template=names.template,
        artifacts=lambda: {names.code_key: names.code_zip()},
        parameters={names.logical[key]: value for key, value in parameters.items()}, names=names.names(),
        faults=faults)
