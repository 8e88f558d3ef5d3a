"""The running app: token on every route, no external URL, clean shutdown."""

from __future__ import annotations

import pathlib
import re
import signal

import httpx
import pytest

from conftest import Server, start_server, stop_server
from synthcase.errors import ParameterError
from synthcase.web.server import access_url, serve

PROTECTED = [
    "/",
    "/select",
    "/synthesize",
    "/navigate?run=1",
    "/export",
    "/download/release/1.zip",
    "/download/sensitive/prepared.csv",
    "/download/sensitive/evaluation/1.zip",
    "/favicon.ico",
    "/_nicegui_ws/socket.io/?EIO=4&transport=polling",
]


def test_every_route_refuses_a_request_without_token(server: Server) -> None:
    with httpx.Client(base_url=server.base) as web:
        for path in PROTECTED:
            response = web.get(path)
            assert response.status_code == 401, path
        assets = re.findall(r'src="(/_nicegui/[^"]+)"', _page(server))
        assert assets
        for path in assets:
            assert web.get(path).status_code == 401, path
        upload = web.post("/_nicegui/client/x/upload/1", files={"f": b"a,b\n1,2\n"})
        assert upload.status_code == 401


def test_token_then_cookie_opens_the_app(server: Server) -> None:
    with httpx.Client(base_url=server.base, follow_redirects=False) as web:
        first = web.get(f"/?token={server.token}")
        assert first.status_code == 303
        assert first.headers["location"] == "/"
        cookie = first.headers["set-cookie"]
        for attribute in ("HttpOnly", "SameSite=Strict", "Secure"):
            assert attribute in cookie
        page = web.get("/", headers=server.cookie)
        assert page.status_code == 200
        assert "Prepare the case file" in page.text
        assert (
            web.get("/download/release/1.zip", headers=server.cookie).status_code == 404
        )


def test_pages_load_nothing_from_the_internet(server: Server) -> None:
    for path in ("/", "/select", "/synthesize", "/navigate", "/export"):
        text = _page(server, path)
        external = re.findall(r"""(?:src|href)=["']?(?:https?:)?//""", text)
        assert external == [], path
        assert "cdn" not in text.lower(), path


def test_a_foreign_host_header_is_refused(server: Server) -> None:
    headers = {**server.cookie, "host": f"rebound.example:{server.port}"}
    with httpx.Client(base_url=server.base) as web:
        assert web.get("/", headers=headers).status_code == 403


def test_oversized_upload_is_refused_before_it_is_read(server: Server) -> None:
    # The server was started with max_upload_mb=2.
    body = b"x" * 3_000_000
    with httpx.Client(base_url=server.base) as web:
        response = web.post(
            "/_nicegui/client/x/upload/1", headers=server.cookie, files={"f": body}
        )
    assert response.status_code == 413


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_private_folder_is_removed_on_exit(
    tmp_path: pathlib.Path, stop: signal.Signals
) -> None:
    running = start_server(tmp_path)
    folders = [p for p in tmp_path.iterdir() if p.name.startswith("synthcase-web-")]
    assert len(folders) == 1
    assert folders[0].stat().st_mode & 0o777 == 0o700
    running.process.send_signal(stop)
    code = running.process.wait(timeout=30)
    stop_server(running)
    assert not folders[0].exists()
    if stop == signal.SIGINT:
        assert code == 0  # Ctrl+C is a normal stop, without a traceback


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"host": "0.0.0.0"}, "pass --allow-remote"),
        ({"host": "192.0.2.1"}, "pass --allow-remote"),
        ({"port": 0}, "1..65535"),
        ({"port": 70000}, "1..65535"),
        ({"max_upload_mb": 0}, "--max-upload-mb 50"),
    ],
)
def test_bad_settings_are_refused_before_starting(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(ParameterError, match=message):
        serve(**options)  # type: ignore[arg-type]


def test_access_url_names_a_reachable_address() -> None:
    assert access_url("127.0.0.1", 8080, "t") == "http://127.0.0.1:8080/?token=t"
    assert access_url("0.0.0.0", 9000, "t") == "http://127.0.0.1:9000/?token=t"
    assert access_url("::1", 8080, "t") == "http://[::1]:8080/?token=t"


def _page(server: Server, path: str = "/") -> str:
    with httpx.Client(base_url=server.base) as web:
        response = web.get(path, headers=server.cookie)
    assert response.status_code == 200, path
    return response.text
