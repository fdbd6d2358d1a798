"""How long the text report is, for each fault of the reference catalogue: its lines by default and with
`--long`, and its widest line at 80 columns (a command on a line of its own may be wider: it is never split).

One `drsdoctor sandbox serve` world stands for every fault in turn (switched through its `fault_url`): a
recovery runs, `diagnose --save-bundle` collects its facts once, and `diagnose --from-bundle` prints the
report from them at COLUMNS=80 (default, then `--long`), as an operator's terminal would show it.

    .venv/bin/python benchmarks/report_lines.py [--keep DIR] [--json]

`--keep DIR` leaves each fault's bundle and reports there (DIR/FAULT.bundle.json, FAULT.txt, FAULT.long.txt).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCREEN = 50  # lines: one screen of the terminal the issue was tried on (160x50)
COLUMNS = 80


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "drsdoctor", *args], capture_output=True, text=True,
                          timeout=600, env=env, cwd=ROOT)


def widest(text: str) -> tuple[int, int]:
    """The widest line of a report, and the widest line that is not a command standing on its own."""
    from drsdoctor.report.layout import is_command_line

    lines = text.splitlines() or [""]
    prose = [len(line) for line in lines if not is_command_line(line)] or [0]
    return max(len(line) for line in lines), max(prose)


def measure(keep: Path) -> list[dict[str, Any]]:
    sys.path.insert(0, str(ROOT))  # tests.diagnose.conftest serves the world and runs recoveries in it
    from drsdoctor.sandbox import faults
    from tests.diagnose.conftest import SANDBOX_KEYS, serve

    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AWS_ENDPOINT_URL", "AWS_PROFILE", "NO_COLOR"))}
    env.update(SANDBOX_KEYS, AWS_DEFAULT_REGION="us-east-1", COLUMNS=str(COLUMNS))
    rows = []
    for world in serve():
        for fault in ["none", *faults.FAULTS]:
            world.switch_fault(fault)
            arn = world.run_recovery()
            bundle = keep / f"{fault}.bundle.json"
            collected = _cli("diagnose", arn, "--format", "json", "--save-bundle", str(bundle),
                             env={**env, "AWS_ENDPOINT_URL": world.endpoint_url})
            if collected.returncode not in (0, 1):
                raise SystemExit(f"{fault}: diagnose exited {collected.returncode}: "
                                 f"{collected.stderr[-2000:]}")
            short = _cli("diagnose", "--from-bundle", str(bundle), env=env).stdout
            long = _cli("diagnose", "--from-bundle", str(bundle), "--long", env=env).stdout
            (keep / f"{fault}.txt").write_text(short)
            (keep / f"{fault}.long.txt").write_text(long)
            cause = json.loads(collected.stdout)["root_cause"]
            rows.append({"fault": fault, "root_cause": cause["check"] if cause else "-",
                         "lines": len(short.splitlines()), "long_lines": len(long.splitlines()),
                         "widest": widest(short)[0], "widest_prose": widest(short)[1],
                         "widest_long": widest(long)[0], "widest_long_prose": widest(long)[1]})
            world.end_recoveries()
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = [f"Text report per fault, COLUMNS={COLUMNS} (a screen is {SCREEN} lines; widest: all lines / "
             "lines that are not a whole command)",
             f"{'fault':<32} {'cause':<7} {'lines':>5} {'--long':>6} {'widest':>10} {'widest --long':>14}"]
    for row in rows:
        lines.append(f"{row['fault']:<32} {row['root_cause']:<7} {row['lines']:>5} {row['long_lines']:>6} "
                     f"{row['widest']:>4} / {row['widest_prose']:>3} "
                     f"{row['widest_long']:>7} / {row['widest_long_prose']:>3}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="Leave the bundles and reports in this folder.")
    parser.add_argument("--json", action="store_true", help="Print the rows as JSON.")
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        rows = measure(args.keep)
    else:
        with tempfile.TemporaryDirectory() as folder:
            rows = measure(Path(folder))
    print(json.dumps(rows, indent=2) if args.json else table(rows))


if __name__ == "__main__":
    main()
