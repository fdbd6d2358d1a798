"""The base install (`pip install drsdoctor`, no extras): its time and size, against the one before it.

Run: .venv/bin/python benchmarks/bench_install.py [--before 459fb7e] [--repeat 1] [--json]

In one run, side by side: two fresh venvs in a temporary folder, one installing the source at commit
--before (the dependency set before the light install: cfn-lint, cfn-flip), one installing this working
tree; each a plain `pip install SOURCE` (not editable, no extras), as an operator installs it. Measured:
the install's wall time (median of --repeat) and the MB it adds to site-packages (what the venv holds
besides pip and setuptools), with the largest packages. pip's cache is warmed for both sides first (one
throwaway install each), so the times measure installing, not downloading: an operator in CloudShell also
downloads, which makes the difference larger. Then the installed `drsdoctor` proves it runs: `checks`,
`permissions` and `diff-stacks` of the two example templates work, and `demo` says which extra it needs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "drsdoctor", "checks")
VENV_OWN = ("pip", "setuptools", "_distutils_hack", "pkg_resources", "distutils-precedence.pth")


def sh(command: list[str], timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    return done


def source_at(commit: str, folder: Path) -> Path:
    """The project's sources as they were at commit (git archive), without touching the working tree."""
    folder.mkdir()
    archive = subprocess.run(["git", "archive", commit, *SOURCES], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder


def working_tree(folder: Path) -> Path:
    folder.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / name, folder / name)
    return folder


def site_packages(venv: Path) -> Path:
    (found,) = venv.glob("lib/python*/site-packages")
    return found


def size_mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 1e6
    files = (item for item in path.rglob("*") if item.is_file() and not item.is_symlink())
    return sum(item.stat().st_size for item in files) / 1e6


def install(source: Path, venv: Path) -> float:
    """A fresh venv, then `pip install SOURCE` timed: seconds."""
    sh([sys.executable, "-m", "venv", str(venv)])
    started = time.perf_counter()
    sh([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", str(source)])
    return time.perf_counter() - started


def measure(source: Path, work: Path, label: str, repeat: int, warm: bool) -> dict[str, object]:
    if warm:
        install(source, work / f"{label}-warm")  # warms pip's cache: every wheel this side needs is local now
        shutil.rmtree(work / f"{label}-warm")
    seconds = []
    for attempt in range(repeat):
        venv = work / f"{label}-{attempt}"
        seconds.append(install(source, venv))
    packages = site_packages(venv)
    sizes = {item.name: size_mb(item) for item in packages.iterdir() if not item.name.startswith(VENV_OWN)}
    largest = sorted(((mb, name) for name, mb in sizes.items() if not name.endswith(".dist-info")),
                     reverse=True)
    return {"seconds": round(statistics.median(seconds), 1), "mb": round(sum(sizes.values()), 1),
            "largest": [f"{name} {mb:.0f} MB" for mb, name in largest[:5]], "venv": str(venv)}


def proves_it_runs(venv: Path) -> list[str]:
    """The base install's commands work, and one that needs an extra says so in one line (exit 2)."""
    drsdoctor = str(venv / "bin" / "drsdoctor")
    templates = ROOT / "examples" / "templates"
    said = []
    diff = ["diff-stacks", str(templates / "archive.yaml"), str(templates / "current.yaml")]
    for args, expected in ((["checks"], 0), (["permissions"], 0), (diff, 1), (["demo"], 2)):
        done = subprocess.run([drsdoctor, *args], capture_output=True, text=True, timeout=300, cwd=venv)
        if done.returncode != expected or "Traceback" in done.stderr:
            raise SystemExit(f"drsdoctor {args[0]} exited {done.returncode} (expected {expected}): "
                             f"{done.stderr.strip()[-1000:]}")
        said.append(f"drsdoctor {args[0]}: exit {done.returncode}"
                    + (f" ({done.stderr.strip()})" if expected == 2 else ""))
    return said


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="459fb7e", help="the commit to compare with (default 459fb7e)")
    parser.add_argument("--repeat", type=int, default=1, help="installs timed per side (median)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line at the end")
    parser.add_argument("--cache-is-warm", action="store_true",
                        help="skip the warming installs (pip's cache already holds both sides' wheels)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="drsdoctor-install-") as temporary:
        work = Path(temporary)
        warm = not args.cache_is_warm
        before = measure(source_at(args.before, work / "src-before"), work, "before", args.repeat, warm)
        after = measure(working_tree(work / "src-after"), work, "after", args.repeat, warm)
        figures = report(before, after, args)
        for line in proves_it_runs(Path(str(after["venv"]))):
            print(f"  {line}")
    if args.json:
        print(json.dumps(figures))


def report(before: dict[str, object], after: dict[str, object],
           args: argparse.Namespace) -> dict[str, object]:
    cache = "warm (from an earlier run)" if args.cache_is_warm else "warm"
    figures = {"before": {**before, "commit": args.before}, "after": after, "cache": cache,
               "repeat": args.repeat,
               "size_ratio": round(float(str(before["mb"])) / float(str(after["mb"])), 1),
               "time_ratio": round(float(str(before["seconds"])) / max(float(str(after["seconds"])), 0.1), 1)}
    print(f"pip install drsdoctor (no extras), fresh venv, pip cache warm for both, median of {args.repeat}:")
    for label, side in (("before", before), ("after", after)):
        name = f"{label} ({args.before})" if label == "before" else "after (this tree)"
        largest = ", ".join(side["largest"])  # type: ignore[arg-type]
        print(f"  {name:22} {side['seconds']:6.1f} s  {side['mb']:6.1f} MB   largest: {largest}")
    print(f"  {figures['time_ratio']}x faster, {figures['size_ratio']}x smaller")
    return figures


if __name__ == "__main__":
    main()
