"""Uploads: size limit on the server, private storage, CSV/TSV/Excel reading."""

from __future__ import annotations

import asyncio
import io
import pathlib

import pandas as pd
import pytest
from starlette.types import Message, Receive, Scope, Send

from synthcase.errors import DataError
from synthcase.web.uploads import UploadLimit, read_upload

LIMIT = 100_000


def folder(tmp_path: pathlib.Path) -> pathlib.Path:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    return private


def test_csv_and_tsv_are_read_and_leave_nothing_on_disk(tmp_path: pathlib.Path) -> None:
    private = folder(tmp_path)
    csv = read_upload("cases.csv", b"age,sex\n34,F\n51,M\n", private, LIMIT)
    tsv = read_upload("C:\\Users\\x\\cases.tsv", b"age\tsex\n34\tF\n", private, LIMIT)
    assert csv.to_dict("list") == {"age": ["34", "51"], "sex": ["F", "M"]}
    assert tsv.to_dict("list") == {"age": ["34"], "sex": ["F"]}
    assert list(private.iterdir()) == []


def test_excel_workbook_is_read_as_text(tmp_path: pathlib.Path) -> None:
    buffer = io.BytesIO()
    pd.DataFrame({"age": [34, 51], "sex": ["F", None]}).to_excel(buffer, index=False)
    frame = read_upload("cases.xlsx", buffer.getvalue(), folder(tmp_path), LIMIT)
    assert frame.to_dict("list") == {"age": ["34", "51"], "sex": ["F", ""]}


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("cases.xlsx", b"not a zip at all", "cannot be read as an Excel workbook"),
        ("cases.pdf", b"%PDF-1.4", "not a file this app reads"),
        ("cases.csv", b"a,b\n1\n", "has 1 fields but the header has 2"),
        ("cases.csv", b"\xff\xfeabc", "UTF-16"),
        ("cases.csv", b"x" * (LIMIT + 1), "more than the upload limit"),
    ],
)
def test_bad_files_give_a_readable_error(
    tmp_path: pathlib.Path, name: str, data: bytes, message: str
) -> None:
    private = folder(tmp_path)
    with pytest.raises(DataError, match=message):
        read_upload(name, data, private, LIMIT)
    assert list(private.iterdir()) == []


def _call(
    limit: UploadLimit, headers: list[tuple[bytes, bytes]], body: bytes
) -> list[Message]:
    sent: list[Message] = []
    chunks = [body[i : i + 1000] for i in range(0, len(body), 1000)] or [b""]
    messages: list[Message] = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/_nicegui/client/abc/upload/7",
        "headers": headers,
    }
    asyncio.run(limit(scope, receive, send))
    return sent


async def _reader(scope: Scope, receive: Receive, send: Send) -> None:
    """Reads the whole body and answers how much it got."""
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            body = b"disconnected"
            break
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            body = str(size).encode()
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def test_upload_limit_refuses_a_declared_large_body() -> None:
    limit = UploadLimit(_reader, max_bytes=10_000)
    sent = _call(limit, [(b"content-length", b"200000")], b"")
    assert sent[0]["status"] == 413


def test_upload_limit_cuts_an_undeclared_large_body() -> None:
    limit = UploadLimit(_reader, max_bytes=10_000)
    assert _call(limit, [], b"x" * 200_000)[1]["body"] == b"disconnected"
    assert _call(limit, [], b"x" * 5_000)[1]["body"] == b"5000"
