"""The token guard: every request without the token is refused."""

from __future__ import annotations

import warnings

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from synthcase.web.auth import TokenGuard, cookie_name, new_token

with warnings.catch_warnings():
    # Starlette recommends its own fork of httpx for the test client; plain
    # httpx drives these requests the same way.
    warnings.simplefilter("ignore", UserWarning)
    from starlette.testclient import TestClient

TOKEN = "s3cret-token-of-test-0123456789"
PORT = 8123


async def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"hello {request.url.path}")


async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("open")
    await websocket.close()


def client(hosts: set[str] | None = None, base: str = "http://127.0.0.1") -> TestClient:
    app = Starlette(
        routes=[
            WebSocketRoute("/ws", echo),
            Route("/{path:path}", hello, methods=["GET", "POST"]),
        ]
    )
    guarded = TokenGuard(
        app, token=TOKEN, port=PORT, hosts=hosts or {"127.0.0.1", "localhost"}
    )
    return TestClient(guarded, base_url=base, follow_redirects=False)


def test_new_tokens_are_long_and_distinct() -> None:
    tokens = {new_token() for _ in range(20)}
    assert len(tokens) == 20
    assert all(len(t) >= 43 for t in tokens)


@pytest.mark.parametrize(
    "path", ["/", "/select", "/_nicegui/static/x.js", "/download/a"]
)
def test_request_without_token_is_refused(path: str) -> None:
    response = client().get(path)
    assert response.status_code == 401
    assert "access link" in response.text
    assert "hello" not in response.text


def test_wrong_token_is_refused_in_query_and_cookie() -> None:
    web = client()
    assert web.get("/?token=wrong").status_code == 401
    wrong = {"cookie": f"{cookie_name(PORT)}=wrong"}
    assert web.get("/", headers=wrong).status_code == 401
    other_port = {"cookie": f"{cookie_name(PORT + 1)}={TOKEN}"}
    assert web.get("/", headers=other_port).status_code == 401


def test_token_in_query_sets_cookie_and_drops_token_from_address() -> None:
    response = client().get(f"/navigate?run=2&token={TOKEN}")
    assert response.status_code == 303
    assert response.headers["location"] == "/navigate?run=2"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{cookie_name(PORT)}={TOKEN};")
    for attribute in ("HttpOnly", "SameSite=Strict", "Secure", "Path=/"):
        assert attribute in cookie
    assert response.headers["cache-control"] == "no-store"


def test_cookie_lets_requests_through() -> None:
    headers = {"cookie": f"other=1; {cookie_name(PORT)}={TOKEN}"}
    response = client().get("/select", headers=headers)
    assert response.status_code == 200
    assert response.text == "hello /select"


def test_token_in_query_of_a_post_is_accepted_without_redirect() -> None:
    response = client().post(f"/upload/1?token={TOKEN}", content=b"x")
    assert response.status_code == 200


def test_secure_flag_is_left_out_only_for_plain_http_to_another_machine() -> None:
    web = client(hosts={"192.0.2.7"}, base="http://192.0.2.7")
    cookie = web.get(f"/?token={TOKEN}").headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Secure" not in cookie


def test_foreign_host_is_refused_even_with_token() -> None:
    headers = {"cookie": f"{cookie_name(PORT)}={TOKEN}", "host": "evil.example:8123"}
    response = client().get("/", headers=headers)
    assert response.status_code == 403


def test_foreign_origin_is_refused_even_with_token() -> None:
    cookie = {"cookie": f"{cookie_name(PORT)}={TOKEN}"}
    web = client()
    assert (
        web.get("/", headers={**cookie, "origin": "http://127.0.0.1"}).status_code
        == 200
    )
    for origin in ("http://evil.example", "null", "http://127.0.0.1:9999"):
        assert web.get("/", headers={**cookie, "origin": origin}).status_code == 403


def test_any_host_when_hosts_is_none() -> None:
    app = Starlette(routes=[Route("/{path:path}", hello)])
    guarded = TokenGuard(app, token=TOKEN, port=PORT, hosts=None)
    web = TestClient(guarded, base_url="http://10.9.8.7")
    assert web.get("/").status_code == 401
    assert web.get("/", headers={"cookie": f"{cookie_name(PORT)}={TOKEN}"}).text == (
        "hello /"
    )


def test_websocket_needs_the_cookie() -> None:
    web = client()
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        web.websocket_connect("ws://127.0.0.1/ws"),
    ):
        pass
    assert refused.value.code == 1008
    headers = {"cookie": f"{cookie_name(PORT)}={TOKEN}"}
    with web.websocket_connect("ws://127.0.0.1/ws", headers=headers) as socket:
        assert socket.receive_text() == "open"


def test_short_token_is_rejected() -> None:
    with pytest.raises(ValueError, match="16 characters"):
        TokenGuard(Starlette(), token="short", port=PORT, hosts=None)
