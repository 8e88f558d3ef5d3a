"""Fixtures of the web app tests: a running server and a headless Chromium."""

from __future__ import annotations

import os
import pathlib
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

URL = re.compile(r"http://127\.0\.0\.1:(\d+)/\?token=([A-Za-z0-9_-]+)")


@dataclass
class Server:
    """A ``synthcase serve`` process on 127.0.0.1."""

    process: subprocess.Popen[str]
    port: int
    token: str
    tmpdir: pathlib.Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/?token={self.token}"

    @property
    def cookie(self) -> dict[str, str]:
        return {"cookie": f"synthcase-access-{self.port}={self.token}"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(tmpdir: pathlib.Path, **options: Any) -> Server:
    """Start the app in a subprocess and wait for its access link."""
    port = free_port()
    arguments = ", ".join(f"{k}={v!r}" for k, v in {"port": port, **options}.items())
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "NICEGUI"))
    }
    env["TMPDIR"] = str(tmpdir)
    log = tmpdir / "server-stderr.txt"
    with open(log, "w") as errors:
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                f"from synthcase.web import serve; serve({arguments})",
            ],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env=env,
        )
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            process.stdout.close()
            raise RuntimeError(f"the server stopped: {log.read_text()}")
        found = URL.search(line)
        if found:
            return Server(process, int(found.group(1)), found.group(2), tmpdir)
    process.kill()
    process.wait()
    process.stdout.close()
    raise RuntimeError("the server printed no access link within 60 s")


def stop_server(server: Server) -> int:
    server.process.terminate()
    try:
        code = server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        code = server.process.wait()
    assert server.process.stdout is not None
    server.process.stdout.close()
    return code


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A fresh app for the module, stopped afterwards."""
    running = start_server(tmp_path_factory.mktemp("server-tmp"), max_upload_mb=2)
    try:
        yield running
    finally:
        stop_server(running)
