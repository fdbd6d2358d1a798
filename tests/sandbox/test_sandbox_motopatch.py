"""What the sandbox changes in moto is undone when the world closes, whatever moto imported meanwhile."""

from __future__ import annotations

import subprocess
import sys

# In a fresh interpreter, so that moto's Step Functions responses are first imported while the world's changes
# are in place: afterwards, a plain moto mock must get moto's own (non-executing) backend again.
AFTER_A_WORLD = """
from drsdoctor.sandbox import motopatch
motopatch.install(clock=None, runtime=None)
import moto.stepfunctions.responses as responses
motopatch.uninstall()
print(type(responses.get_backend("123456789012", "us-east-1")).__name__)
"""


def test_a_plain_moto_mock_after_a_world_gets_moto_s_own_step_functions_backend() -> None:
    done = subprocess.run([sys.executable, "-c", AFTER_A_WORLD], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    # the executing backend would run every execution a later test starts, Lambda tasks and all
    assert done.stdout.strip() == "StepFunctionBackend"
