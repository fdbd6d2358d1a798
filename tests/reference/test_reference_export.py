"""`drsdoctor reference export DIR`: a deployable set of files, and clear refusals."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from cfn_tools import load_yaml

from drsdoctor import reference

EXPECTED = ["DEPLOY.md", "functions.zip", "functions/drs_calls.py", "functions/execution_finder.py",
            "functions/execution_poller.py", "functions/orchestration.py", "template.yaml"]


def drsdoctor(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "drsdoctor", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=60, env={**os.environ, "DRSDOCTOR_DEBUG": ""})


def written(directory: Path) -> list[str]:
    return sorted(str(path.relative_to(directory)) for path in directory.rglob("*") if path.is_file())


def test_export_writes_a_deployable_set(tmp_path):
    result = drsdoctor("reference", "export", str(tmp_path / "out"))

    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    assert written(out) == EXPECTED
    assert sorted(Path(line).relative_to(out).as_posix() for line in result.stdout.split()) == EXPECTED
    template = load_yaml((out / "template.yaml").read_text())
    assert template["Resources"]["OrchestrationFunction"]["Properties"]["Handler"] == "orchestration.handler"
    assert (out / "functions.zip").read_bytes() == reference.build_code_zip()
    for name, source in reference.function_sources().items():
        assert (out / "functions" / name).read_text() == source


def test_the_deploy_guide_gives_the_exact_commands(tmp_path):
    reference.export(tmp_path)
    guide = (tmp_path / "DEPLOY.md").read_text()

    assert 'aws s3 cp functions.zip "s3://$BUCKET/$KEY"' in guide
    assert "aws cloudformation deploy --template-file template.yaml --stack-name" in guide
    assert "--capabilities CAPABILITY_NAMED_IAM" in guide
    assert 'CodeBucket="$BUCKET" CodeKey="$KEY" EnvironmentName="$ENVIRONMENT"' in guide


def test_the_code_zip_is_deterministic_and_holds_every_handler_at_its_root():
    first, second = reference.build_code_zip(), reference.build_code_zip()
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert archive.namelist() == sorted(reference.FUNCTION_MODULES)
        assert {info.date_time for info in archive.infolist()} == {(2024, 1, 1, 0, 0, 0)}
    handlers = {handler.split(".")[0] + ".py" for handler in reference.HANDLERS.values()}
    assert handlers < set(reference.FUNCTION_MODULES)  # plus the DRS calls they share


def test_the_handlers_import_from_the_zip_alone(tmp_path):
    """Lambda has boto3 but not drsdoctor: the modules must stand on their own."""
    code = tmp_path / "functions.zip"
    code.write_bytes(reference.build_code_zip())
    probe = ("import sys, orchestration, execution_finder, execution_poller\n"
             "assert all(callable(m.handler) for m in (orchestration, execution_finder, execution_poller))\n"
             "assert orchestration.__file__.startswith(sys.argv[1])\n"
             "print(sorted(name for name in sys.modules if name.startswith('drsdoctor')))\n")
    result = subprocess.run([sys.executable, "-c", probe, str(code)], capture_output=True, text=True,
                            cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(code)}, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_export_refuses_to_overwrite_then_does_with_force(tmp_path):
    reference.export(tmp_path)
    (tmp_path / "template.yaml").write_text("# my edits\n")

    refused = drsdoctor("reference", "export", str(tmp_path))
    assert refused.returncode == 2
    assert len(refused.stderr.strip().splitlines()) == 1 and "--force" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert (tmp_path / "template.yaml").read_text() == "# my edits\n"

    forced = drsdoctor("reference", "export", "--force", str(tmp_path))
    assert forced.returncode == 0, forced.stderr
    assert (tmp_path / "template.yaml").read_text() == reference.template_text()


def test_export_fills_empty_files_without_force(tmp_path):
    (tmp_path / "template.yaml").write_text("")

    assert drsdoctor("reference", "export", str(tmp_path)).returncode == 0
    assert (tmp_path / "template.yaml").read_text() == reference.template_text()


@pytest.mark.parametrize("target", ["a-file", "a-file/below"])
def test_a_directory_that_cannot_be_one_is_refused_in_one_line(tmp_path, target):
    (tmp_path / "a-file").write_text("not a directory")

    result = drsdoctor("reference", "export", str(tmp_path / target))

    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr and result.stdout == ""
