"""A throwaway PostgreSQL server for the tests: ``initdb`` in a private temporary folder,
started on a free local port, a fresh database per test, stopped and deleted at the end.

The server binaries are Debian's (``/usr/lib/postgresql/<version>/bin``; ``.ci/run`` installs
the ``postgresql`` package when they are missing), or ``pg_config --bindir``, or ``initdb``
on the PATH, or ``$JAMSOS_TEST_PG_BIN``. PostgreSQL refuses to run as root: as root the
server runs as the ``postgres`` user the package creates (``runuser``). With
``$JAMSOS_TEST_POSTGRESQL`` (a superuser's URL) the tests use that server instead.

Tests that need PostgreSQL are skipped, with the reason, only when no server can be had.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import pytest

USER, PASSWORD = "jamsos", "test-Secret-31337"  # the ledger's role (not a superuser)
ADMIN = "admin"
SERVER_USER = "postgres"  # who runs the server when the tests run as root


class Unavailable(Exception):
    """No PostgreSQL server can be had here (the reason says why)."""


def bindir() -> Path:
    """Where initdb, pg_ctl and postgres are."""
    candidates = []
    if os.environ.get("JAMSOS_TEST_PG_BIN"):
        candidates.append(Path(os.environ["JAMSOS_TEST_PG_BIN"]))
    debian = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    candidates += [Path(p).parent for p in reversed(debian)]
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True)
        candidates.append(Path(out.stdout.strip()))
    if shutil.which("initdb"):
        candidates.append(Path(shutil.which("initdb")).resolve().parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    raise Unavailable(
        "no PostgreSQL server binaries (initdb, pg_ctl): install Debian's postgresql package"
        " (.ci/run does), or set JAMSOS_TEST_PG_BIN or JAMSOS_TEST_POSTGRESQL"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One PostgreSQL cluster of our own (``start``/``stop`` as the tests need)."""

    def __init__(self, *, durable: bool = False) -> None:
        """``durable``: commits are flushed as in production (a test that stops the server
        mid-run needs it); else the faster settings for throwaway data."""
        self.durable = durable
        self.bin = bindir()
        self.as_user: str | None = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise Unavailable(
                    "running as root and there is no 'postgres' user to run the server as"
                ) from None
            self.as_user = SERVER_USER
        self.base = Path(tempfile.mkdtemp(prefix="jamsos-pg-"))
        self.data = self.base / "data"
        self.port = free_port()
        self.admin_url = f"postgresql://{ADMIN}:{quote(PASSWORD)}@127.0.0.1:{self.port}/postgres"
        self._databases = 0
        if self.as_user:
            os.chown(self.base, pwd.getpwnam(self.as_user).pw_uid, -1)
        pwfile = self.base / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if self.as_user:
            os.chown(pwfile, pwd.getpwnam(self.as_user).pw_uid, -1)
        self._run(
            self.bin / "initdb",
            "-D", str(self.data), "-U", ADMIN, f"--pwfile={pwfile}",
            "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip
        pwfile.unlink()
        self.start()
        self.admin(f"CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'")

    def _run(self, *argv: object, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(a) for a in argv]
        if self.as_user:
            cmd = ["runuser", "-u", self.as_user, "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=self.base)
        if check and done.returncode != 0:
            raise Unavailable(f"{Path(cmd[-1]).name}: {done.stderr.strip() or done.stdout}")
        return done

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.base}"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            self.bin / "pg_ctl", "-D", self.data, "-l", self.base / "server.log",
            "-o", options, "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run(self.bin / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop", check=False)

    def running(self) -> bool:
        return (
            self._run(self.bin / "pg_ctl", "-D", self.data, "status", check=False).returncode == 0
        )

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)

    def admin(self, sql: str, database: str = "postgres") -> list[tuple]:
        import psycopg

        url = self.admin_url.rsplit("/", 1)[0] + f"/{database}"
        with psycopg.connect(url, autocommit=True) as conn:
            cur = conn.execute(sql)
            return cur.fetchall() if cur.description else []

    def url(self, database: str, user: str = USER, password: str = PASSWORD) -> str:
        return f"postgresql://{user}:{quote(password)}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh empty database the ledger role owns; its name."""
        self._databases += 1
        name = f"ledger_{os.getpid()}_{self._databases}"
        self.admin(f"CREATE DATABASE {name} OWNER {USER}")
        return name

    def drop_database(self, name: str) -> None:
        with contextlib.suppress(Exception):
            self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


class External(Server):
    """A server someone else runs (``$JAMSOS_TEST_POSTGRESQL``, a superuser's URL)."""

    def __init__(self, url: str) -> None:  # noqa: D107 - no cluster of our own
        self.admin_url = url
        self._databases = 0
        self.port = 0
        with contextlib.suppress(Exception):
            self.admin(f"CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'")

    def url(self, database: str, user: str = USER, password: str = PASSWORD) -> str:
        from psycopg.conninfo import conninfo_to_dict

        info = conninfo_to_dict(self.admin_url)
        host, port = info.get("host", "127.0.0.1"), info.get("port", "5432")
        return f"postgresql://{user}:{quote(password)}@{host}:{port}/{database}"

    def start(self) -> None:
        raise Unavailable("the external server is not ours to start")

    def stop(self, mode: str = "fast") -> None:
        raise Unavailable("the external server is not ours to stop")

    def remove(self) -> None:
        pass


def wait_until(check, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def server_or_skip(cache: dict) -> Server:
    """The session's server, started on first use (or the reason it cannot be)."""
    if "server" not in cache:
        try:
            external = os.environ.get("JAMSOS_TEST_POSTGRESQL")
            cache["server"] = External(external) if external else Server()
        except Unavailable as exc:
            cache["server"] = exc
    found = cache["server"]
    if isinstance(found, Unavailable):
        pytest.skip(f"PostgreSQL unavailable: {found}")
    return found
