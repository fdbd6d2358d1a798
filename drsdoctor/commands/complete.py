"""Shell completion of values: check ids, fault names and orchestrator names (click's shell_complete).

Each runs on a TAB press, so it imports only what it lists and never fails: a catalogue that cannot be
read completes nothing rather than printing a traceback into the user's prompt. Enable completion with
`eval "$(_DRSDOCTOR_COMPLETE=bash_source drsdoctor)"` (zsh_source, fish_source; see the README).
"""

from __future__ import annotations

import click
from click.shell_completion import CompletionItem


def check_ids(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """The built-in checks' ids and the installed plugins' (a --checks-dir's code is not run on a TAB)."""
    try:
        from drsdoctor.engine import load_checks

        specs = load_checks(entry_points=True).checks
    except Exception:  # a broken plugin: complete nothing rather than fail the prompt
        return []
    wanted = incomplete.upper()
    return [CompletionItem(spec.id, help=spec.title) for spec in sorted(specs, key=lambda spec: spec.id)
            if spec.id.upper().startswith(wanted)]


def orchestrator_names(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    try:
        from drsdoctor.sandbox import orchestrators

        names = orchestrators.listing()
    except Exception:
        return []
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]


def fault_names(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """The fault catalogue of the --orchestrator given before --fault (the reference's otherwise)."""
    try:
        from drsdoctor.sandbox import orchestrators

        chosen = ctx.params.get("orchestrator") or orchestrators.DEFAULT
        faults = orchestrators.get(str(chosen)).faults
    except Exception:  # an orchestrator name that does not exist (yet: it may still be being typed)
        return []
    items = [CompletionItem("none", help="no fault: a healthy run")]
    items += [CompletionItem(name, help=fault.summary) for name, fault in faults.items()]
    return [item for item in items if str(item.value).startswith(incomplete)]
