"""A small headless-Chromium driver for the report tests and the README screenshot script.

It speaks the Chrome DevTools Protocol over ``--remote-debugging-pipe`` (fd 3 in, fd 4 out,
NUL-terminated JSON), so it needs nothing but the Debian ``chromium`` package: no websocket
library, no browser download, no port. The browser runs with a fresh private profile, every
background service off, and the network made unusable (a dead proxy, every host name resolving
to nothing, and the page's connection emulated offline); on top of that every request the page
makes is recorded, so a test can assert there was none but the page itself.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

FLAGS = [
    "--headless",
    "--no-sandbox",  # root in a container has no user namespace to sandbox with
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--metrics-recording-only",
    "--mute-audio",
    "--hide-scrollbars",
    "--font-render-hinting=none",
    "--proxy-server=127.0.0.1:9",  # nothing listens there: any fetch that escapes fails
    "--proxy-bypass-list=<-loopback>",
    "--host-resolver-rules=MAP * ~NOTFOUND",
]
NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """``$JAMSOS_CHROMIUM``, else the first Chromium on PATH."""
    if os.environ.get("JAMSOS_CHROMIUM"):
        return os.environ["JAMSOS_CHROMIUM"]
    return next((p for p in map(shutil.which, NAMES) if p), None)


class BrowserError(RuntimeError):
    pass


class Chromium:
    """One headless browser process and one page in it."""

    def __init__(self, executable: str, profile: Path) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        # the child expects the pipe at fds 3 and 4: copies numbered above them (closed on
        # exec) are moved there in the child, so wiring one cannot overwrite the other
        high_r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD_CLOEXEC, 10)
        high_w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD_CLOEXEC, 10)

        def wire() -> None:
            os.dup2(high_r, 3)  # dup2 leaves the copy inheritable; every other fd of ours
            os.dup2(high_w, 4)  # is close-on-exec (PEP 446)

        self.log = profile / "chromium-stderr.log"
        with open(self.log, "wb") as err:
            self.proc = subprocess.Popen(
                [
                    executable,
                    *FLAGS,
                    f"--user-data-dir={profile}",
                    "--remote-debugging-pipe",
                    "about:blank",
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                close_fds=False,  # fds 3 and 4 must survive; ours are close-on-exec anyway
                preexec_fn=wire,  # noqa: PLW1509 - no other thread runs yet
                start_new_session=True,
            )
        for fd in (to_child_r, from_child_w, high_r, high_w):
            os.close(fd)
        self._out = os.fdopen(to_child_w, "wb", buffering=0)
        self._in = os.fdopen(from_child_r, "rb", buffering=0)
        self._next = 0
        self._lock = threading.Lock()
        self._replies: dict[int, dict] = {}
        self._arrived = threading.Condition(self._lock)
        self.events: list[dict] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.session: str | None = None

    # -- protocol --------------------------------------------------------------------------

    def _read(self) -> None:
        buf = b""
        while chunk := self._in.read(1 << 16):
            buf += chunk
            *messages, buf = buf.split(b"\0")
            with self._arrived:
                for raw in messages:
                    msg = json.loads(raw)
                    if "id" in msg:
                        self._replies[msg["id"]] = msg
                    else:
                        self.events.append(msg)
                self._arrived.notify_all()
        with self._arrived:
            self._arrived.notify_all()

    def send(
        self, method: str, params: dict | None = None, *, session: bool = True, timeout: float = 60
    ) -> dict:
        """Send one command and wait for its answer (``BrowserError`` on a protocol error)."""
        with self._lock:
            self._next += 1
            ident = self._next
        msg: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        self._out.write(json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        with self._arrived:
            while ident not in self._replies:
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise BrowserError(f"{method}: no answer ({self._stderr_tail()})")
                self._arrived.wait(left)
            reply = self._replies.pop(ident)
        if "error" in reply:
            raise BrowserError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def wait_for(self, method: str, timeout: float = 60, since: int = 0) -> dict:
        """The first event ``method`` (of this page) from index ``since`` of ``events``."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for event in self.events[since:]:
                    if event.get("method") == method and event.get("sessionId") == self.session:
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BrowserError(f"no {method} within {timeout} s")
                self._arrived.wait(left)

    def _stderr_tail(self) -> str:
        state = "running" if self.proc.poll() is None else f"exited {self.proc.returncode}"
        text = self.log.read_bytes()[-800:].decode("utf-8", "replace") if self.log.exists() else ""
        return f"browser {state}: {text}"

    # -- a page ------------------------------------------------------------------------------

    def open_page(self) -> None:
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)
        attached = self.send(
            "Target.attachToTarget",
            {"targetId": target["targetId"], "flatten": True},
            session=False,
        )
        self.session = attached["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")
        self.send(
            "Network.emulateNetworkConditions",
            {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )

    def load(self, path: Path, width: int = 1280, height: int = 900, mobile: bool = False) -> None:
        """Open a file at a window size and wait until it has loaded."""
        self.set_viewport(width, height, mobile)
        since = len(self.events)
        self.send("Page.navigate", {"url": Path(path).resolve().as_uri()})
        self.wait_for("Page.loadEventFired", since=since)

    def set_viewport(self, width: int, height: int, mobile: bool = False) -> None:
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {
                "width": width,
                "height": height,
                "deviceScaleFactor": 1,
                "mobile": mobile,
            },
        )

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (JSON-able)."""
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression[:60]}...: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(
        self, target: Path, width: int, mobile: bool = False, max_height: int | None = None
    ) -> Path:
        """A PNG of the whole page (or its top ``max_height`` pixels) at ``width``."""
        self.set_viewport(width, 900, mobile)
        height = int(self.evaluate("document.documentElement.scrollHeight"))
        height = min(height, max_height) if max_height else height
        self.set_viewport(width, height, mobile)
        shot = self.send(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
            },
        )
        Path(target).write_bytes(base64.b64decode(shot["data"]))
        return Path(target)

    def print_view(self, target: Path) -> Path:
        """A PNG of the page as printed on A4 (print styles, 210 mm wide at 96 dpi): to look
        at a printout without a PDF viewer."""
        self.send("Emulation.setEmulatedMedia", {"media": "print"})
        try:
            return self.screenshot(target, 794)
        finally:
            self.send("Emulation.setEmulatedMedia", {"media": ""})

    def pdf(self) -> bytes:
        """The page printed as the browser prints it (A4, the page's own @page rules)."""
        result = self.send(
            "Page.printToPDF",
            {
                "paperWidth": 8.27,
                "paperHeight": 11.69,
                "printBackground": True,
                "preferCSSPageSize": True,
            },
        )
        return base64.b64decode(result["data"])

    # -- what the page did -------------------------------------------------------------------

    def requests(self) -> list[str]:
        """Every URL this page asked for, its own file included."""
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e.get("method") == "Network.requestWillBeSent" and e.get("sessionId") == self.session
        ]

    def console_errors(self) -> list[str]:
        """Errors and warnings the page logged, threw or caused (a blocked load, a CSP
        violation, a script error)."""
        found = []
        for e in self.events:
            if e.get("sessionId") != self.session:
                continue
            method, params = e.get("method"), e.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in (
                "error",
                "warning",
                "assert",
            ):
                found.append(f"console.{params['type']}: {params.get('args')}")
            elif method == "Runtime.exceptionThrown":
                found.append(f"exception: {params.get('exceptionDetails')}")
            elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
                found.append(f"log: {params['entry'].get('text')}")
            elif method == "Network.loadingFailed":
                found.append(f"load failed: {params.get('errorText')}")
        return found

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.send("Browser.close", session=False, timeout=10)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait()
        for stream in (self._out, self._in):
            with contextlib.suppress(OSError):
                stream.close()


@contextlib.contextmanager
def chromium(executable: str, workdir: Path | None = None) -> Iterator[Chromium]:
    """A fresh browser with a throwaway private profile (in ``workdir``, e.g. pytest's
    tmp_path: never the shared system temporary folder)."""
    base = workdir if workdir is not None else Path.cwd()
    profile = Path(tempfile.mkdtemp(prefix="chromium-profile-", dir=base))
    os.chmod(profile, 0o700)
    browser = Chromium(executable, profile)
    try:
        browser.open_page()
        yield browser
    finally:
        browser.close()
        shutil.rmtree(profile, ignore_errors=True)


def pdf_pages(pdf: bytes) -> int:
    """Pages in a PDF Chromium printed (Skia writes each page object uncompressed)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))
