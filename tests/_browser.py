"""Headless Chromium driven over the DevTools protocol, with nothing but the standard library.

Chromium is started with ``--remote-debugging-port=0``; it writes the port it picked to
``DevToolsActivePort`` in its profile folder. ``/json/list`` names the page's websocket, and
a minimal websocket client (RFC 6455: masked text frames out, unmasked frames in) sends
commands and collects events: uncaught exceptions, console errors and every network request.
"""
from __future__ import annotations

import base64
import http.client
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Optional

TIMEOUT = 10.0  # seconds for any one step (start, command, page load)


def chromium_binary() -> Optional[str]:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class _WebSocket:
    def __init__(self, port: int, path: str, timeout: float):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
                          .encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("DevTools closed the websocket during the handshake")
            head += chunk
        head, self.buffer = head.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError(f"DevTools refused the websocket: {head[:200]!r}")

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("DevTools closed the websocket")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def send(self, text: str) -> None:
        payload = text.encode()
        n = len(payload)
        header = bytes([0x81])
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def receive(self) -> str:
        message = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(n)
            opcode = b0 & 0x0F
            if opcode == 0x8:
                raise ConnectionError("DevTools closed the websocket")
            if opcode in (0x9, 0xA):  # ping / pong: not used by DevTools, ignore
                continue
            message += payload
            if b0 & 0x80:
                return message.decode()

    def close(self) -> None:
        self.sock.close()


class Browser:
    """One headless Chromium with one page; use as a context manager (the browser is always killed)."""

    def __init__(self, binary: str, timeout: float = TIMEOUT):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="stepper-chromium-")
        self.process = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
             "--disable-extensions", "--disable-background-networking", "--disable-sync", "--mute-audio",
             "--window-size=1366,768", "--remote-debugging-port=0", f"--user-data-dir={self.profile}",
             "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.ws: Optional[_WebSocket] = None
        self.events: list = []
        self._id = 0
        try:
            self._connect()
        except BaseException:
            self.close()
            raise

    def _connect(self) -> None:
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while not (port_file.exists() and len(port_file.read_text().split()) >= 2):
            if self.process.poll() is not None:
                raise RuntimeError(f"chromium exited with status {self.process.returncode} before DevTools started")
            if time.monotonic() > deadline:
                raise TimeoutError("chromium did not start DevTools in time")
            time.sleep(0.05)
        self.port = int(port_file.read_text().split()[0])
        while True:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            conn.request("GET", "/json/list")
            pages = [t for t in json.loads(conn.getresponse().read()) if t.get("type") == "page"]
            conn.close()
            if pages:
                break
            if time.monotonic() > deadline:
                raise TimeoutError("chromium opened no page in time")
            time.sleep(0.05)
        path = "/" + pages[0]["webSocketDebuggerUrl"].split("/", 3)[3]
        self.ws = _WebSocket(self.port, path, self.timeout)
        for domain in ("Runtime", "Page", "Log", "Network"):
            self.call(f"{domain}.enable")

    def call(self, method: str, **params):
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            message = json.loads(self.ws.receive())
            if message.get("id") == self._id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)
        raise TimeoutError(f"{method}: no answer in time")

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluate {expression!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str, ready_flag: bool = True) -> None:
        """Load `url` afresh (via about:blank, so that a change of fragment alone reloads the page too).

        With `ready_flag`, also wait until the page's script has set data-ready="1" on <body>.
        """
        for target in ("about:blank", url):
            self.call("Page.navigate", url=target)
            deadline = time.monotonic() + self.timeout
            while True:
                ready = self.evaluate("location.href + ' ' + document.readyState + ' ' + "
                                      "(document.body ? document.body.getAttribute('data-ready') : '')")
                href, state, flag = (ready.split(" ") + ["", ""])[:3]
                if href == target and state == "complete" and (target == "about:blank" or not ready_flag or flag == "1"):
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{target} did not finish loading in time ({ready})")
                time.sleep(0.02)

    def key(self, key: str) -> None:
        """Press and release one key (the DOM names: ArrowRight, ArrowLeft, Home, End)."""
        codes = {"ArrowLeft": 37, "ArrowRight": 39, "Home": 36, "End": 35}
        for kind in ("rawKeyDown", "keyUp"):
            self.call("Input.dispatchKeyEvent", type=kind, key=key, code=key,
                      windowsVirtualKeyCode=codes[key], nativeVirtualKeyCode=codes[key])

    def problems(self) -> list:
        """Uncaught exceptions, console errors and log errors seen so far (as text)."""
        self.call("Runtime.evaluate", expression="0")  # flush events that arrived before this point
        out = []
        for event in self.events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                out.append("exception: " + (details.get("exception", {}).get("description") or details.get("text", "")))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                out.append("console: " + json.dumps(params.get("args", []))[:500])
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                out.append("log: " + params["entry"].get("text", "")[:500])
        return out

    def requests(self) -> list:
        """The URL of every network request the pages made."""
        return [e["params"]["request"]["url"] for e in self.events if e["method"] == "Network.requestWillBeSent"]

    def screenshot(self, path) -> None:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        Path(path).write_bytes(base64.b64decode(data))

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.process.wait(timeout=self.timeout)
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
