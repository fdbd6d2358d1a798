"""`selfpoll-xaccount`: selfpoll with DRS in a second account (see xaccount.py)."""

from drsdoctor.sandbox.orchestrators.xaccount import selfpoll_orchestrator as orchestrator

__all__ = ["orchestrator"]
