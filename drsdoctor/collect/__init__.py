"""Gathers every fact about one execution into a Snapshot: in parallel, each distinct call once."""

from drsdoctor.collect.run import DEFAULT_HISTORY_LIMIT, collect
from drsdoctor.collect.stepfunctions import ExecutionNotFound
from drsdoctor.collect.target import ExecutionTarget, parse_execution_arn

# Read beyond the Snapshot's facts, for `drsdoctor permissions`: `diagnose --state-machine ARN --running`
# lists the machine's executions (collect/fleet.py).
READ_ACTIONS = ("states:ListExecutions",)

__all__ = ["DEFAULT_HISTORY_LIMIT", "READ_ACTIONS", "ExecutionNotFound", "ExecutionTarget", "collect",
           "parse_execution_arn"]
