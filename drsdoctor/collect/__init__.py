"""Gathers every fact about one execution into a Snapshot: in parallel, each distinct call once."""

from drsdoctor.collect.run import DEFAULT_HISTORY_LIMIT, collect
from drsdoctor.collect.stepfunctions import ExecutionNotFound
from drsdoctor.collect.target import ExecutionTarget, parse_execution_arn

__all__ = ["DEFAULT_HISTORY_LIMIT", "ExecutionNotFound", "ExecutionTarget", "collect", "parse_execution_arn"]
