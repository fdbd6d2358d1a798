"""The reference DRS wave orchestrator: its CloudFormation template and function code, as others use them.

- `template_text()` / `template()`: the template (YAML text / parsed with cfn-flip, short-form tags kept
  as `{"Fn::Sub": ...}` mappings).
- `DEFAULT_PARAMETERS`: parameter values for a deployment (CodeBucket/CodeKey point at the zip).
- `function_sources()`: module file name -> source, for the three handlers
  (`orchestration.handler`, `execution_finder.handler`, `execution_poller.handler`) and the
  `drs_calls` module the orchestration function and the poller share.
- `build_code_zip()`: the one zip every function's Code points at; the modules sit at its root, so Lambda
  (and the sandbox) import them with the zip root on sys.path. Deterministic: same bytes every build.
- `export(directory)`: template, functions, zip and DEPLOY.md for a real account.
"""

from __future__ import annotations

import io
import zipfile
from importlib import resources
from pathlib import Path
from typing import Any

TEMPLATE_FILE = "template.yaml"
CODE_ZIP_NAME = "functions.zip"
FUNCTION_MODULES = ("orchestration.py", "execution_finder.py", "execution_poller.py", "drs_calls.py")
HANDLERS = {
    "OrchestrationFunction": "orchestration.handler",
    "ExecutionFinderFunction": "execution_finder.handler",
    "ExecutionPollerFunction": "execution_poller.handler",
}
DEFAULT_PARAMETERS: dict[str, str] = {
    "EnvironmentName": "dev",
    "PollIntervalSeconds": "30",
    "MaxPollIntervalSeconds": "300",
    "WaveTimeoutMinutes": "120",
    "CodeBucket": "drs-orchestrator-code",
    "CodeKey": f"drs-orchestrator/{CODE_ZIP_NAME}",
    "DrsRegion": "",
}
# Zip entries carry this timestamp so the same sources always give the same bytes (and CodeSha256).
_ZIP_TIMESTAMP = (2024, 1, 1, 0, 0, 0)


def template_text() -> str:
    return (resources.files(__package__) / TEMPLATE_FILE).read_text(encoding="utf-8")


def template() -> dict[str, Any]:
    from drsdoctor.diff.cfnyaml import decode

    return dict(decode(template_text()))


def function_sources() -> dict[str, str]:
    folder = resources.files(__package__) / "functions"
    return {name: (folder / name).read_text(encoding="utf-8") for name in FUNCTION_MODULES}


def build_code_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, source in sorted(function_sources().items()):
            entry = zipfile.ZipInfo(name, date_time=_ZIP_TIMESTAMP)
            entry.external_attr = 0o644 << 16  # readable by Lambda's runtime user
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, source.encode("utf-8"))
    return buffer.getvalue()


def export(directory: str | Path, force: bool = False) -> list[Path]:
    """Write the deployable set into directory; see drsdoctor.reference.exporter."""
    from drsdoctor.reference.exporter import export as write_all

    return write_all(directory, force=force)
