"""A fork server for the hostile harness: one interpreter imports drsdoctor's commands once, then forks a
child per run. Each child is a real process running `python -m drsdoctor ARGS` as the interpreter would (its
own environment, working directory, stdout and stderr files, argv), and its exit code is the one the test
reads, through waitpid: only the interpreter's start and imports (about a second of CPU a run) are shared.

    with ForkServer(cwd=ROOT) as forks:
        done = forks.run(["diagnose", ARN], env=ENV, timeout=120)   # a subprocess.CompletedProcess

Protocol (one JSON object a line): the test writes {"id", "argv", "env", "cwd", "stdout", "stderr"}; the
server answers {"id", "pid"} once it forked and {"id", "code"} once the child ended.
"""

from __future__ import annotations

import atexit
import io
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
from concurrent.futures import Future
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]  # where `-m tests.hostile.forkserver` is found
# What every hostile run imports before its first request: the commands the harness runs and the AWS stack.
PRELOAD = ("drsdoctor.cli", "drsdoctor.commands.diagnose", "drsdoctor.commands.diagnose_fleet",
           "drsdoctor.commands.diff_stacks", "drsdoctor.commands.iam", "drsdoctor.commands.discover",
           "drsdoctor.collect.run", "drsdoctor.aws", "boto3", "botocore.session")


# ---- the server (python -m tests.hostile.forkserver) ------------------------------------------------------

def _warm() -> None:
    """What every run would do first, done once: the checks imported, and the service models of the services
    drsdoctor calls parsed into the process's one botocore loader (drsdoctor.aws.session.boto3_session)."""
    from drsdoctor.aws.session import boto3_session
    from drsdoctor.engine import load_checks

    load_checks()
    boto = boto3_session(region_name="us-east-1", aws_access_key_id="warm", aws_secret_access_key="warm")
    for service in ("stepfunctions", "lambda", "logs", "iam", "events", "dynamodb", "drs", "cloudformation",
                    "cloudwatch", "sts", "ec2"):
        boto.client(service, endpoint_url="http://127.0.0.1:9")  # never sent: a client is only built


def _child(request: dict[str, Any]) -> None:
    """In the forked child: become `python -m drsdoctor ARGV` and exit as the interpreter would."""
    code = 1
    try:
        os.setpgid(0, 0)  # its own process group: a timeout kills it and whatever it started
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
            target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(target, fd)
            os.close(target)
        sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False))
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), write_through=True)
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), write_through=True)
        sys.argv = [str(Path(sys.executable).parent / "drsdoctor"), *request["argv"]]
        from drsdoctor.cli import main

        try:
            main()
            code = 0
        except SystemExit as ended:  # what the interpreter makes of sys.exit(...)
            if ended.code is None:
                code = 0
            elif isinstance(ended.code, int):
                code = ended.code
            else:
                print(ended.code, file=sys.stderr)
                code = 1
        except BaseException:  # an uncaught exception: the traceback on stderr, exit 1
            traceback.print_exc()
            code = 1
        # the interpreter's shutdown: wait for the threads that are not daemons, then the atexit handlers
        for thread in threading.enumerate():
            if thread is not threading.current_thread() and not thread.daemon:
                thread.join()
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def serve() -> None:
    """Read requests on stdin, fork a child for each, report pids and exit codes on stdout; single-threaded,
    so a fork never copies a lock another thread holds."""
    import importlib

    for module in PRELOAD:
        importlib.import_module(module)
    _warm()
    out = sys.stdout
    out.write('{"ready": true}\n')
    out.flush()
    children: dict[int, Any] = {}
    pending, open_input = b"", True
    while open_input or children:
        readable, _, _ = select.select([0] if open_input else [], [], [], 0.02)
        if readable:
            chunk = os.read(0, 65536)
            open_input = bool(chunk)
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                request = json.loads(line)
                out.flush()
                pid = os.fork()
                if pid == 0:
                    _child(request)
                children[pid] = request["id"]
                out.write(json.dumps({"id": request["id"], "pid": pid}) + "\n")
                out.flush()
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            out.write(json.dumps({"id": children.pop(pid), "code": os.waitstatus_to_exitcode(status)}) + "\n")
            out.flush()


# ---- the client (in the test) ---------------------------------------------------------------------------

class ForkServer:
    """The server in a subprocess, and `run` for any number of threads at once."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.folder = Path(tempfile.mkdtemp(prefix="drsdoctor-forks-"))
        self.process = subprocess.Popen([sys.executable, "-m", "tests.hostile.forkserver"], cwd=ROOT,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None and self.process.stdin is not None
        first = self.process.stdout.readline()
        assert first and json.loads(first) == {"ready": True}, f"the fork server did not start: {first!r}"
        self.lock = threading.Lock()
        self.pids: dict[int, Future[int]] = {}
        self.codes: dict[int, Future[int]] = {}
        self.next_id = 0
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def __enter__(self) -> ForkServer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for path in self.folder.iterdir():
            path.unlink()
        self.folder.rmdir()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            answer = json.loads(line)
            with self.lock:
                futures = self.pids if "pid" in answer else self.codes
                future = futures.setdefault(answer["id"], Future())
            future.set_result(answer.get("pid", answer.get("code")))
        with self.lock:  # the server is gone: nobody waits forever
            for future in [*self.pids.values(), *self.codes.values()]:
                if not future.done():
                    future.set_exception(RuntimeError("the fork server ended"))

    def run(self, argv: list[str], env: dict[str, str], timeout: float,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """`python -m drsdoctor ARGV` with this environment (in `cwd`, else the server's), as
        subprocess.run(capture_output=True, text=True, timeout=timeout) would run it: a TimeoutExpired once it
        runs longer (the child killed)."""
        assert self.process.stdin is not None
        with self.lock:
            number, self.next_id = self.next_id, self.next_id + 1
            pid = self.pids.setdefault(number, Future())
            code = self.codes.setdefault(number, Future())
            stdout, stderr = self.folder / f"{number}.out", self.folder / f"{number}.err"
            request = {"id": number, "argv": argv, "env": env, "cwd": str(cwd or self.cwd),
                       "stdout": str(stdout), "stderr": str(stderr)}
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        try:
            returncode = code.result(timeout=timeout)
        except TimeoutError:
            os.killpg(pid.result(), signal.SIGKILL)
            raise subprocess.TimeoutExpired(["drsdoctor", *argv], timeout) from None
        return subprocess.CompletedProcess(["drsdoctor", *argv], returncode, stdout.read_text(),
                                           stderr.read_text())


if __name__ == "__main__":
    serve()
