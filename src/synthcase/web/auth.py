"""Access control of the web app: a secret token, then a cookie.

The app runs on the data steward's machine, but any program or web page in
the steward's browser can reach ``127.0.0.1``. :class:`TokenGuard` therefore
refuses every request, page, asset, upload, download and websocket alike,
unless it carries the secret token printed when the server starts:

* once, in the query of the link the steward opens (``?token=...``); the
  guard answers with a cookie holding the token and a redirect to the same
  address without it, so the token does not linger in the address bar;
* afterwards in that cookie, which is ``HttpOnly`` (no script can read it),
  ``SameSite=Strict`` (no other site's page can make the browser send it)
  and ``Secure`` wherever the browser accepts it.

Two more checks stop a hostile web page from borrowing the steward's
browser: the ``Host`` header must name an address the server listens on (a
DNS-rebinding page names its own host) and an ``Origin`` header, when sent,
must be this server's own.

Guarantee: a request without the token never reaches the application; the
token is compared in constant time and never logged.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["LOOPBACK_HOSTS", "TokenGuard", "cookie_name", "new_token"]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
"""Host names browsers treat as this machine (and as a secure context)."""

_REFUSED = (
    "This synthcase app needs its access link. Open the link printed in the "
    "terminal where 'synthcase serve' was started (it ends with ?token=...)."
)
_FOREIGN = (
    "Refused: this request came from another site or named another host. "
    "Open synthcase through the link printed when it started."
)


def new_token() -> str:
    """Return a fresh access token (256 bits from the operating system)."""
    return secrets.token_urlsafe(32)


def cookie_name(port: int) -> str:
    """Name of the access cookie of the server on ``port``.

    Browsers share cookies between ports of one host, so the port is part of
    the name: two servers on one machine keep separate cookies.
    """
    return f"synthcase-access-{port}"


class TokenGuard:
    """ASGI middleware that lets through only requests carrying the token.

    Args:
        app: The application to protect.
        token: The access token.
        port: The port the server listens on (names the cookie).
        hosts: Host names (without port) the server may be addressed by;
            requests naming another host are refused. ``None`` accepts any
            host (a server listening on every address of the machine).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str,
        port: int,
        hosts: Iterable[str] | None,
    ) -> None:
        if len(token) < 16:
            raise ValueError("the access token must have at least 16 characters")
        self.app = app
        self.token = token
        self.cookie = cookie_name(port)
        self.hosts = None if hosts is None else frozenset(h.lower() for h in hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check one request; pass it on or refuse it."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if not self._same_site(headers):
            await _refuse(scope, send, 403, _FOREIGN)
            return
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"))
        offered = [value for name, value in query if name == "token"]
        if offered and self._matches(offered[-1]):
            if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
                await self._redirect_with_cookie(scope, headers, query, send)
                return
            await self.app(scope, receive, send)
            return
        if self._matches(_cookie(headers, self.cookie)):
            await self.app(scope, receive, send)
            return
        await _refuse(scope, send, 401, _REFUSED)

    def _matches(self, offered: str | None) -> bool:
        if offered is None:
            return False
        return secrets.compare_digest(offered.encode(), self.token.encode())

    def _same_site(self, headers: Headers) -> bool:
        host = _host_name(headers.get("host", ""))
        if self.hosts is not None and host not in self.hosts:
            return False
        origin = headers.get("origin")
        if origin is None:
            return True
        # An Origin of "null" (sandboxed frames, file pages) is never ours.
        parts = urlsplit(origin)
        return parts.netloc.lower() == headers.get("host", "").lower()

    async def _redirect_with_cookie(
        self,
        scope: Scope,
        headers: Headers,
        query: list[tuple[str, str]],
        send: Send,
    ) -> None:
        rest = urlencode([(n, v) for n, v in query if n != "token"])
        location = (
            scope.get("root_path", "") + scope["path"] + (f"?{rest}" if rest else "")
        )
        attributes = ["Path=/", "HttpOnly", "SameSite=Strict"]
        # Browsers keep a Secure cookie only from a secure context: https, or
        # plain http to this machine itself. Elsewhere it would be dropped and
        # the app unusable, so there the cookie goes without the flag.
        host = _host_name(headers.get("host", ""))
        if scope.get("scheme") in ("https", "wss") or host in LOOPBACK_HOSTS:
            attributes.append("Secure")
        cookie = f"{self.cookie}={self.token}; " + "; ".join(attributes)
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [
                    (b"location", location.encode("latin-1")),
                    (b"set-cookie", cookie.encode("latin-1")),
                    (b"cache-control", b"no-store"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"content-length", b"0"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})


def _cookie(headers: Headers, name: str) -> str | None:
    jar: SimpleCookie = SimpleCookie()
    for header in headers.getlist("cookie"):
        try:
            jar.load(header)
        except CookieError:  # a malformed cookie header counts as no cookie
            continue
    morsel = jar.get(name)
    return None if morsel is None else morsel.value


def _host_name(host: str) -> str:
    """The host of a ``Host`` header, without its port, lower case."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


async def _refuse(scope: Scope, send: Send, status: int, message: str) -> None:
    if scope["type"] == "websocket":
        # Closing before accepting makes the server answer the handshake 403.
        await send({"type": "websocket.close", "code": 1008, "reason": ""})
        return
    body = message.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
