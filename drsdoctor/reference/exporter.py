"""`drsdoctor reference export DIR`: the reference orchestrator as files one deploys to a real account."""

from __future__ import annotations

from pathlib import Path

from drsdoctor.errors import InputError
from drsdoctor.reference import (
    CODE_ZIP_NAME,
    DEFAULT_PARAMETERS,
    build_code_zip,
    function_sources,
    template_text,
)

DEPLOY_GUIDE = """\
# Deploying the drsdoctor reference DRS wave orchestrator

Files: `template.yaml` (CloudFormation), `functions/` (the three handlers' source, for review),
`{zip}` (the code every function runs; upload it as is).

Pick a bucket in the stack's region, an environment name and a stack name:

```sh
BUCKET=my-code-bucket          # an existing S3 bucket in the deployment region
ENVIRONMENT={environment}                # dev, prod, ... (part of every resource name)
STACK=drs-orchestrator-$ENVIRONMENT
KEY=drs-orchestrator/$ENVIRONMENT/{zip}

aws s3 cp {zip} "s3://$BUCKET/$KEY" && \\
aws cloudformation deploy --template-file template.yaml --stack-name "$STACK" \\
  --capabilities CAPABILITY_NAMED_IAM \\
  --parameter-overrides CodeBucket="$BUCKET" CodeKey="$KEY" EnvironmentName="$ENVIRONMENT"
```

Optional parameter overrides: `PollIntervalSeconds` ({poll}), `MaxPollIntervalSeconds` ({max_poll}),
`WaveTimeoutMinutes` ({timeout}), `DrsRegion` (empty: the stack's region).

CloudFormation updates the functions' code only when `CodeBucket` or `CodeKey` changes: upload a
changed zip under a new key and deploy with that `CodeKey`.

The three tables are kept when the stack is deleted (plans and recovery history are data): delete
them yourself before creating a stack with the same `EnvironmentName` again.

Prerequisites: DRS is initialised in the region (so the role
`service-role/AWSElasticDisasterRecoveryRecoveryInstanceRole` exists) and your source servers replicate.

Load your protection groups and recovery plans into
`drs-orchestrator-$ENVIRONMENT-protection-groups` and `drs-orchestrator-$ENVIRONMENT-recovery-plans`
(examples in drsdoctor's `examples/plans/`), then start a recovery:

```sh
aws stepfunctions start-execution \\
  --state-machine-arn "$(aws cloudformation describe-stacks --stack-name "$STACK" \\
      --query "Stacks[0].Outputs[?OutputKey=='StateMachineArn'].OutputValue" --output text)" \\
  --input '{{"planId": "YOUR-PLAN-ID"}}'
```

If a recovery gets stuck: `drsdoctor diagnose EXECUTION_ARN`.
"""


def planned_files() -> dict[str, bytes]:
    """Relative path -> content of everything export writes."""
    files = {"template.yaml": template_text().encode("utf-8"), CODE_ZIP_NAME: build_code_zip()}
    for name, source in function_sources().items():
        files[f"functions/{name}"] = source.encode("utf-8")
    files["DEPLOY.md"] = DEPLOY_GUIDE.format(
        zip=CODE_ZIP_NAME, environment=DEFAULT_PARAMETERS["EnvironmentName"],
        poll=DEFAULT_PARAMETERS["PollIntervalSeconds"], max_poll=DEFAULT_PARAMETERS["MaxPollIntervalSeconds"],
        timeout=DEFAULT_PARAMETERS["WaveTimeoutMinutes"],
    ).encode("utf-8")
    return files


def export(directory: str | Path, force: bool = False) -> list[Path]:
    """Write the deployable set and return the paths; a non-empty file is replaced only with force."""
    root = Path(directory)
    if root.exists() and not root.is_dir():
        raise InputError(f"{root} exists and is not a directory")
    files = planned_files()
    clashes = [root / name for name in files
               if (root / name).exists() and ((root / name).is_dir() or (root / name).stat().st_size > 0)]
    if clashes and not force:
        raise InputError(f"{clashes[0]} already exists and is not empty (use --force to overwrite)")
    written = []
    try:
        for name, content in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.is_dir():
                raise InputError(f"{path} is a directory; cannot write a file there")
            path.write_bytes(content)
            written.append(path)
    except OSError as error:
        raise InputError(f"cannot write to {root}: {error.strerror or error}") from None
    return written
