"""The HTML report of a real sandbox incident, rendered by headless Chromium: its size, what the browser
complained of (nothing, or the run fails), its wave lanes, and a screenshot of the whole page.

    .venv/bin/python benchmarks/bench_html.py [--fault NAME] [--png benchmarks/html-report.png]

Runs `drsdoctor demo --fault F --format html --output FILE` (the sandbox, a recovery, the diagnosis), then
opens FILE in Chromium over DevTools (tests/report/browser.py) with the network mapped to nowhere.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.report.browser import CHROMIUM, Browser  # noqa: E402 (the repository root first)

LANES = ("[...document.querySelectorAll('svg.timeline g.lane')].map(g => "
         "[g.getAttribute('class'), g.dataset.title, Math.round(g.getBoundingClientRect().height)])")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fault", default="finder-rule-disabled")
    parser.add_argument("--png", type=Path, default=ROOT / "benchmarks" / "html-report.png")
    parser.add_argument("--height", type=int, default=1320, help="pixels of the page's top in the screenshot")
    args = parser.parse_args()
    if CHROMIUM is None:
        print("chromium is not installed (apt-get install chromium): nothing rendered")
        return 3
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "report.html"
        started = time.monotonic()
        command = [str(Path(sys.executable).with_name("drsdoctor")), "demo", "--fault", args.fault,
                   "--format", "html", "--output", str(page)]
        done = subprocess.run(command, capture_output=True, text=True)
        demo = time.monotonic() - started
        if not page.exists():
            print(done.stderr)
            return 3
        browser = Browser()
        try:
            started = time.monotonic()
            rendered = browser.open(page, (LANES,), screenshot=args.png, height=args.height)
            shown = time.monotonic() - started
        finally:
            browser.close()
        print(f"demo --fault {args.fault} --format html: exit {done.returncode}, {demo:.1f} s, "
              f"{page.stat().st_size / 1024:.1f} KiB, self-contained")
        print(f"chromium: loaded and screenshot in {shown:.2f} s; complaints: {rendered.problems or 'none'}")
        for kind, title, height in rendered.answers[0]:
            print(f"  {kind:<18} {title:<28} {height} px high")
        print(f"screenshot: {args.png} ({args.png.stat().st_size / 1024:.0f} KiB)")
        return 1 if rendered.problems else 0


if __name__ == "__main__":
    sys.exit(main())
