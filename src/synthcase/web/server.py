"""Starting the web app: ``synthcase serve``.

:func:`serve` starts the NiceGUI app on this machine and prints a link that
carries a fresh access token, as Jupyter does. Everything the app serves
(pages, assets, websocket, uploads, downloads) requires that token (see
:mod:`synthcase.web.auth`). The app loads its scripts, styles and fonts from
the installed NiceGUI package, never from the internet, and sends nothing
anywhere.

Uploaded files and built bundles go to a private temporary folder (mode
0700) that is removed when the server stops; every temporary file the
process makes, including the web server's spooled uploads, is placed there.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import sys
import tempfile
import webbrowser
from pathlib import Path

from synthcase.errors import ParameterError
from synthcase.web.auth import LOOPBACK_HOSTS, TokenGuard, new_token
from synthcase.web.uploads import UploadLimit

__all__ = ["access_url", "serve"]


def serve(
    host: str = "127.0.0.1",
    port: int = 8080,
    open_browser: bool = False,
    allow_remote: bool = False,
    max_upload_mb: int = 50,
) -> None:
    """Run the web app until interrupted (Ctrl+C).

    Args:
        host: Address to listen on; ``127.0.0.1`` keeps the app on this
            machine.
        port: Port to listen on (1-65535).
        open_browser: Open the access link in the default browser.
        allow_remote: Required to listen on any address other than this
            machine's own; the token is still required.
        max_upload_mb: Largest case file accepted, in megabytes (at least 1).

    Raises:
        ParameterError: When the host, port or upload limit is not allowed.
    """
    _check(host, port, allow_remote, max_upload_mb)
    token = new_token()
    folder = Path(tempfile.mkdtemp(prefix="synthcase-web-"))
    folder.chmod(0o700)
    # Every temporary file of this process, including uploads that the web
    # server spools to disk, goes into the private folder removed below.
    tempfile.tempdir = str(folder)
    os.environ["NICEGUI_STORAGE_PATH"] = str(folder / "nicegui")
    url = access_url(host, port, token)
    workspace = None

    def clean_up() -> None:
        if workspace is not None:
            workspace.close()
        tempfile.tempdir = None
        shutil.rmtree(folder, ignore_errors=True)

    try:
        from nicegui import app, ui

        from synthcase.web.routes import register_downloads, register_pages
        from synthcase.web.state import Workspace

        workspace = Workspace(folder, max_upload_mb * 1_000_000)
        register_pages(workspace)
        register_downloads(app, workspace)
        app.add_middleware(UploadLimit, max_bytes=workspace.max_upload_bytes)
        # Added last, so it runs first: nothing else sees a refused request.
        app.add_middleware(
            TokenGuard, token=token, port=port, hosts=_hosts(host, allow_remote)
        )
        app.on_startup(lambda: _announce(url, host, open_browser))
        # The web server re-raises the stop signal once it has shut down, and
        # the default action of SIGTERM ends the process at once: clean up
        # while shutting down, not after.
        app.on_shutdown(clean_up)
        ui.run(
            host=host,
            port=port,
            title="synthcase",
            reload=False,
            show=False,
            show_welcome_message=False,
            fastapi_docs=False,
            uvicorn_logging_level="warning",
            access_log=False,
            favicon=_FAVICON,
        )
    except KeyboardInterrupt:
        # Ctrl+C is the normal way to stop the app.
        pass
    finally:
        clean_up()


def access_url(host: str, port: int, token: str) -> str:
    """The link to open: this server's address with the token in its query."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/?token={token}"


_FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
    '<rect width="16" height="16" rx="3" fill="#283593"/>'
    '<path d="M4 11h2V7H4zm3 0h2V4H7zm3 0h2V8h-2z" fill="#fff"/></svg>'
)


def _announce(url: str, host: str, open_browser: bool) -> None:
    print(
        "synthcase is running. Open this link in your browser:\n\n"
        f"    {url}\n\n"
        "The link holds a secret key: anyone with it can see the files you load. "
        "Press Ctrl+C to stop; everything loaded is then forgotten.",
        flush=True,
    )
    if host not in LOOPBACK_HOSTS:
        print(
            f"Warning: listening on {host}, reachable from other machines over "
            "plain http; the key travels unencrypted on the network.",
            file=sys.stderr,
            flush=True,
        )
    if open_browser:
        webbrowser.open(url)


def _check(host: str, port: int, allow_remote: bool, max_upload_mb: int) -> None:
    if not _is_loopback(host) and not allow_remote:
        raise ParameterError(
            f"host is {host!r}, which other machines can reach; keep the default "
            "127.0.0.1, or pass --allow-remote to listen there (the access key "
            "is still required)"
        )
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ParameterError(
            f"port is {port!r}; give a whole number in 1..65535, e.g. --port 8080"
        )
    if (
        isinstance(max_upload_mb, bool)
        or not isinstance(max_upload_mb, int)
        or (max_upload_mb < 1)
    ):
        raise ParameterError(
            f"max_upload_mb is {max_upload_mb!r}; give a whole number of megabytes "
            ">= 1, e.g. --max-upload-mb 50"
        )


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _hosts(host: str, allow_remote: bool) -> frozenset[str] | None:
    """Host names requests may address; ``None`` accepts any (remote mode)."""
    if allow_remote and not _is_loopback(host):
        return None
    return LOOPBACK_HOSTS | {host.lower()}
