"""Uploaded case files: size limit, private storage and reading.

An uploaded file is sensitive. It is held in memory, or for the moment the
library reads it, in a folder of the server's private temporary folder
(mode 0700, removed when the server stops); it is never logged. The size
limit is enforced twice: the browser refuses a larger file before sending
it, and :class:`UploadLimit` refuses a larger request body on the server, so
a client that ignores the first check cannot fill the memory or the disk.
"""

from __future__ import annotations

import io
import shutil
import tempfile
import warnings
from pathlib import Path, PurePath

import pandas as pd
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from synthcase.errors import DataError
from synthcase.prepare import ReadOptions, read_frame

__all__ = ["SUFFIXES", "UploadLimit", "read_upload"]

SUFFIXES = (".csv", ".tsv", ".tab", ".txt", ".xlsx")
"""File kinds the app reads: delimited text and Excel workbooks."""

_UPLOAD_MARK = "/upload/"
# Multipart framing adds the field headers and boundaries to the file itself.
_FRAMING_BYTES = 64 * 1024


class UploadLimit:
    """ASGI middleware refusing upload requests larger than a limit.

    Args:
        app: The application to protect.
        max_bytes: Largest file accepted, in bytes.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_body = max_bytes + _FRAMING_BYTES

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse an oversized upload, else pass the request on."""
        if not (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and _UPLOAD_MARK in scope["path"]
        ):
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if (
            declared is not None
            and declared.isdigit()
            and int(declared) > self.max_body
        ):
            await _too_large(send)
            return
        received = 0

        async def counted() -> Message:
            # A body sent without Content-Length is counted as it arrives and
            # cut off once over the limit: the application sees a disconnect
            # and drops the partial file.
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    return {"type": "http.disconnect"}
            return message

        await self.app(scope, counted, send)


async def _too_large(send: Send) -> None:
    body = b"The file is larger than this app's upload limit."
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def read_upload(name: str, data: bytes, folder: Path, max_bytes: int) -> pd.DataFrame:
    """Read an uploaded case file into a frame of text cells.

    Args:
        name: The file name the browser gave (only its last part is used).
        data: The file's bytes.
        folder: The server's private temporary folder.
        max_bytes: Largest file accepted.

    Returns:
        The records as text cells (see :func:`synthcase.prepare.read_frame`).

    Raises:
        DataError: When the file is too large, of another kind, or cannot be
            read; the message says what to do.
    """
    base = PurePath(name.replace("\\", "/")).name or "upload"
    suffix = PurePath(base).suffix.lower()
    if len(data) > max_bytes:
        raise DataError(
            f"{base!r} has {len(data) / 1e6:.1f} MB, more than the upload limit "
            f"of {max_bytes / 1e6:.0f} MB; restart with a higher limit "
            "(synthcase serve --max-upload-mb) or upload fewer columns"
        )
    if suffix not in SUFFIXES:
        raise DataError(
            f"{base!r} is not a file this app reads; upload a CSV or TSV text "
            "file (UTF-8) or an Excel workbook (.xlsx)"
        )
    if suffix == ".xlsx":
        return read_frame(_excel_frame(base, data), ReadOptions())
    # The library reads files by path: the bytes stay on disk only inside
    # the private folder, and only while they are read.
    holder = Path(tempfile.mkdtemp(prefix="upload-", dir=folder))
    try:
        path = holder / base
        path.write_bytes(data)
        path.chmod(0o600)
        return read_frame(path, ReadOptions())
    finally:
        shutil.rmtree(holder, ignore_errors=True)


def _excel_frame(name: str, data: bytes) -> pd.DataFrame:
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it skips; they do not
            # change the cell values read here.
            warnings.simplefilter("ignore")
            frame = pd.read_excel(
                io.BytesIO(data),
                sheet_name=0,
                dtype=str,
                keep_default_na=False,
                engine="openpyxl",
            )
    except Exception as error:
        # The workbook is untrusted input: whatever the parser trips on, the
        # steward gets one readable message and the app carries on.
        raise DataError(
            f"{name!r} cannot be read as an Excel workbook "
            f"({type(error).__name__}); save it again as .xlsx, or export the "
            "first sheet as 'CSV UTF-8' and upload that"
        ) from None
    if frame.empty or len(frame.columns) == 0:
        raise DataError(
            f"the first sheet of {name!r} holds no records; put a header row "
            "naming the columns, then one row per record, on the first sheet"
        )
    return frame
