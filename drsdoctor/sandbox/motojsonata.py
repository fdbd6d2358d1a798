"""JSONata for moto's Step Functions engine: moto 5.2.5 parses `QueryLanguage: JSONata` definitions but ships
no evaluator (`moto.stepfunctions.parser.asl.jsonata.jsonata._eval_jsonata` stays None, so the first
`Arguments`, `Output`, `Assign` or Choice `Condition` fails the execution). jsonata-python (pure Python, a
port of the jsonata-java that LocalStack, where moto's engine comes from, runs) answers instead.

moto composes each expression itself, with `$states` and the execution's variables declared inline
(`($states := {...}; $count := 2; <expression>)`), and asks for it with no input document: one string in,
one JSON value out, which is exactly this evaluator's contract.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

Replace = Callable[[Any, str, Any], None]


def install(replace: Replace) -> None:
    """Give moto's engine the evaluator, through motopatch's `replace` (so uninstall puts None back)."""
    from moto.stepfunctions.parser.asl.jsonata import jsonata as moto_jsonata

    replace(moto_jsonata, "_eval_jsonata", evaluate)


def evaluate(expression: str) -> Any:
    """The expression's value as JSON (None for null or nothing); an error as moto's JSONataException."""
    from jsonata import Jsonata
    from moto.stepfunctions.parser.asl.jsonata.jsonata import JSONataException

    try:
        # A new Jsonata each time: an evaluation rebinds the instance's environment, so one shared between
        # evaluations (or threads: executions run at once) would carry one's frames into the next.
        value = Jsonata(expression).evaluate(None)
    except Exception as error:  # the library raises its own errors and Python's alike
        raise JSONataException("States.QueryEvaluationError", f"{expression}: {error}") from error
    # A round trip through JSON, as moto's JVM bridge does: the library's sequences and null marker become
    # plain lists and None, and nothing of the library's own types reaches the engine or the history.
    return json.loads(json.dumps(value, default=_plain))


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return list(value)
    if str(value) == "null":  # jsonata-python's null marker (Utils.NULL_VALUE)
        return None
    raise TypeError(f"a JSONata value of type {type(value).__name__} has no JSON form")
