"""Uploaded and user-sent files: ids, paths for download, and image sizes.

Telegram answers a photo with its pixel size; PNG, JPEG and GIF headers are read here so the
PhotoSize is truthful without an imaging library. Other bytes are accepted as they are.
"""

from __future__ import annotations

import mimetypes
import struct
from typing import Any, Literal

from sandbox.models import StoredFile


class FileStore:
    """file_id -> bytes, with Telegram-like ids and paths."""

    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._counter = 0

    def add(
        self,
        data: bytes,
        kind: Literal["photo", "document"],
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> StoredFile:
        """Store bytes under a fresh file_id."""
        self._counter += 1
        n = self._counter
        prefix = "AgAC" if kind == "photo" else "BQAC"
        suffix = _extension(file_name, mime_type, kind)
        folder = "photos" if kind == "photo" else "documents"
        if kind == "document" and mime_type is None and file_name:
            mime_type = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        width, height = image_size(data) if kind == "photo" else (0, 0)
        stored = StoredFile(
            file_id=f"{prefix}{n:06d}emu",
            file_unique_id=f"AQAD{n:06d}",
            file_path=f"{folder}/file_{n}{suffix}",
            data=data,
            kind=kind,
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
        )
        self._by_id[stored.file_id] = stored
        self._by_path[stored.file_path] = stored
        return stored

    @property
    def counter(self) -> int:
        """How many files were added (the next id follows it)."""
        return self._counter

    @counter.setter
    def counter(self, value: int) -> None:
        self._counter = value

    def all(self) -> list[StoredFile]:
        """Every stored file."""
        return list(self._by_id.values())

    def restore(self, stored: StoredFile) -> None:
        """Keep a file saved by an earlier run, under its own id and path."""
        self._by_id[stored.file_id] = stored
        self._by_path[stored.file_path] = stored

    def get(self, file_id: str) -> StoredFile | None:
        """The file for an id, or ``None``."""
        return self._by_id.get(file_id)

    def by_path(self, file_path: str) -> StoredFile | None:
        """The file served at a download path, or ``None``."""
        return self._by_path.get(file_path)


def photo_sizes(stored: StoredFile) -> list[dict[str, Any]]:
    """The ``PhotoSize`` list Telegram returns for a photo (one size here)."""
    return [
        {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "width": stored.width,
            "height": stored.height,
        }
    ]


def photo_dimensions_ok(width: int, height: int) -> bool:
    """The Bot API's rule for photos: width + height at most 10000, ratio at most 20.

    Unknown sizes (bytes that are no PNG, GIF or JPEG) pass: only what is read is judged.
    """
    if width <= 0 or height <= 0:
        return True
    return width + height <= 10_000 and max(width, height) <= 20 * min(width, height)


def document_dict(stored: StoredFile) -> dict[str, Any]:
    """The ``Document`` object for a stored file."""
    out: dict[str, Any] = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
    }
    if stored.file_name is not None:
        out["file_name"] = stored.file_name
    if stored.mime_type is not None:
        out["mime_type"] = stored.mime_type
    return out


def _extension(
    file_name: str | None, mime_type: str | None, kind: Literal["photo", "document"]
) -> str:
    if file_name and "." in file_name:
        return "." + file_name.rsplit(".", 1)[1][:10]
    if mime_type:
        return mimetypes.guess_extension(mime_type) or ""
    return ".jpg" if kind == "photo" else ""


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG, GIF or JPEG header; (0, 0) if unknown."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    return 0, 0


def _jpeg_size(data: bytes) -> tuple[int, int]:
    pos = 2
    while pos + 9 < len(data):
        if data[pos] != 0xFF:
            return 0, 0
        marker = data[pos + 1]
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if marker in {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE}:
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return int(width), int(height)
        pos += 2 + int(length)
    return 0, 0
