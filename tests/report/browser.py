"""A real headless browser for the HTML reports: Chromium (Debian's package) driven over the DevTools
protocol with a minimal websocket client (the standard library has none), so one browser loads several
pages. What a page logs (console errors, uncaught exceptions, a fetch that failed) is collected; the
network is mapped to nowhere, so a page that tries to fetch anything logs an error instead."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
         "--disable-background-networking", "--disable-sync", "--host-resolver-rules=MAP * ~NOTFOUND",
         "--remote-debugging-port=0", "--window-size=1250,1000")


class Socket:
    """A websocket client, enough for DevTools: text frames, masked when sent, unfragmented."""

    def __init__(self, url: str) -> None:
        match = re.match(r"ws://([^:/]+):(\d+)(/.*)", url)
        assert match, url
        host, port, path = match.group(1), int(match.group(2)), match.group(3)
        self.sock = socket.create_connection((host, port), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                          f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                          "Sec-WebSocket-Version: 13\r\n\r\n".encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += self.sock.recv(4096)
        assert b" 101 " in answer.split(b"\r\n")[0], answer[:200]
        self.buffer = answer.split(b"\r\n\r\n", 1)[1]

    def send(self, text: str) -> None:
        data, mask = text.encode(), os.urandom(4)
        size = len(data)
        head = struct.pack("!B", 0x81) + (struct.pack("!B", 0x80 | size) if size < 126 else
                                          struct.pack("!BH", 0x80 | 126, size) if size < 65536 else
                                          struct.pack("!BQ", 0x80 | 127, size))
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _read(self, count: int) -> bytes:
        while len(self.buffer) < count:
            chunk = self.sock.recv(1 << 16)
            assert chunk, "the browser closed the connection"
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def receive(self) -> str:
        first, second = self._read(2)
        size = second & 0x7F
        if size == 126:
            size = struct.unpack("!H", self._read(2))[0]
        elif size == 127:
            size = struct.unpack("!Q", self._read(8))[0]
        payload = self._read(size)
        if first & 0x0F == 0x8:
            raise ConnectionError("the browser closed the websocket")
        return payload.decode()


@dataclass
class Page:
    """A page as the browser rendered it: what it logged, and answers to questions asked of its DOM."""

    problems: list[str] = field(default_factory=list)  # console errors, exceptions, failed fetches
    answers: list[Any] = field(default_factory=list)


class Browser:
    def __init__(self) -> None:
        assert CHROMIUM, "chromium is not installed"
        self.profile = tempfile.mkdtemp(prefix="drsdoctor-chromium-")
        self.process = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert self.process.stderr is not None
        port = None
        deadline = time.monotonic() + 60
        while port is None and time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line and self.process.poll() is not None:
                raise RuntimeError("chromium exited before it listened")
            found = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
            port = int(found.group(1)) if found else None
        assert port, "chromium did not say where DevTools listens"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as answer:
            targets = json.loads(answer.read())
        page = next(target for target in targets if target["type"] == "page")
        self.socket = Socket(page["webSocketDebuggerUrl"])
        self.next_id = 0
        self.events: list[dict[str, Any]] = []
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.receive())
            if message.get("id") == self.next_id:
                assert "error" not in message, message
                return dict(message.get("result", {}))
            self.events.append(message)

    def _wait_for(self, method: str) -> None:
        while not any(event.get("method") == method for event in self.events):
            self.events.append(json.loads(self.socket.receive()))

    def open(self, path: Path, questions: tuple[str, ...] = (), screenshot: Path | None = None,
             height: int | None = None) -> Page:
        """Load ``path``, ask each JavaScript expression of the rendered DOM, save a screenshot of the
        whole page (its top ``height`` pixels); the page's own logging is in ``problems``."""
        self.events.clear()
        self.call("Page.navigate", url=path.resolve().as_uri())
        self._wait_for("Page.loadEventFired")
        answers = [self.call("Runtime.evaluate", expression=question, returnByValue=True)["result"]
                   .get("value") for question in questions]
        if screenshot is not None:
            size = self.call("Page.getLayoutMetrics")["cssContentSize"]
            shot = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                             clip={"x": 0, "y": 0, "width": size["width"],
                                   "height": min(size["height"], height or size["height"]),
                                   "scale": 1})
            screenshot.write_bytes(base64.b64decode(shot["data"]))
        self.call("Runtime.evaluate", expression="1")  # the events the page logged have all arrived
        return Page(_problems(self.events), answers)

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        shutil.rmtree(self.profile, ignore_errors=True)


def _problems(events: list[dict[str, Any]]) -> list[str]:
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            found.append("exception: " + str(params["exceptionDetails"].get("exception", {}).get(
                "description") or params["exceptionDetails"].get("text")))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
            said = " ".join(str(arg.get("value")) for arg in params["args"])
            found.append(f"console.{params['type']}: {said}")
        elif method == "Log.entryAdded" and params["entry"].get("level") in ("error", "warning"):
            entry = params["entry"]
            found.append(f"{entry.get('source')} {entry['level']}: {entry.get('text')} {entry.get('url')}")
    return found
