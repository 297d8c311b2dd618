"""Request parameters as Telegram accepts them: query string, form, multipart or JSON.

python-telegram-bot posts form fields whose nested values (reply_markup, entities, ...) are
JSON text, and files as multipart parts. Everything is normalised here into :class:`Params`,
whose typed getters raise Telegram's errors. (Starlette's own form parser needs
python-multipart, which is not installed, so multipart is parsed here.)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from sandbox.errors import ApiError, bad_request

JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "reply_parameters",
        "link_preview_options",
        "allowed_updates",
        "commands",
        "scope",
        "menu_button",
        "media",
    }
)
_DISPOSITION_PARAM = re.compile(r';\s*([a-zA-Z*]+)="((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class UploadedFile:
    """One multipart file part."""

    filename: str
    content_type: str | None
    data: bytes


class Params:
    """Typed access to one call's parameters."""

    def __init__(
        self, values: dict[str, object], files: dict[str, UploadedFile] | None = None
    ) -> None:
        self.values = values
        self.files = files or {}

    def has(self, name: str) -> bool:
        """Whether the parameter was sent at all (files included)."""
        return name in self.values or name in self.files

    def text(self, name: str) -> str | None:
        """A string parameter; numbers sent as JSON come back as their text."""
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        return json.dumps(value, ensure_ascii=False)

    def integer(self, name: str, error: str | None = None) -> int | None:
        """An integer parameter; ``error`` is the refusal text if it is not one."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise bad_request(error or f'Bad Request: invalid parameter "{name}"') from None

    def number(self, name: str) -> float | None:
        """A float parameter (timeouts)."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        try:
            return float(value) if isinstance(value, int | float | str) else None
        except ValueError:
            raise bad_request(f'Bad Request: invalid parameter "{name}"') from None

    def boolean(self, name: str) -> bool:
        """A boolean parameter; absent means false."""
        value = self.values.get(name)
        if isinstance(value, str):
            return value.strip().lower() in {"true", "1", "yes", "on"}
        return bool(value)

    def json(self, name: str, error: str) -> Any:
        """A nested JSON parameter; ``error`` is Telegram's text for bad JSON."""
        value = self.values.get(name)
        if not isinstance(value, str):
            return value
        if value == "":
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(error) from None

    def upload(self, name: str) -> UploadedFile | str | None:
        """A file parameter: the uploaded part, or a file_id / URL string."""
        if name in self.files:
            return self.files[name]
        value = self.text(name)
        if value and value.startswith("attach://"):
            return self.files.get(value.removeprefix("attach://"))
        return value

    def decoded(self) -> dict[str, Any]:
        """The parameters for the call log: nested JSON decoded, files summarised."""
        out: dict[str, Any] = {}
        for key, value in self.values.items():
            if key in JSON_FIELDS and isinstance(value, str):
                try:
                    out[key] = json.loads(value)
                    continue
                except ValueError:
                    pass
            out[key] = value
        for key, upload in self.files.items():
            out[key] = {
                "filename": upload.filename,
                "content_type": upload.content_type,
                "size": len(upload.data),
            }
        return out


def parse_body(content_type: str, body: bytes, query: list[tuple[str, str]]) -> Params:
    """Merge query parameters with a form, multipart or JSON body."""
    values: dict[str, object] = dict(query)
    files: dict[str, UploadedFile] = {}
    kind = content_type.split(";", 1)[0].strip().lower()
    if not body.strip():
        return Params(values, files)
    if kind == "application/json":
        try:
            decoded = json.loads(body)
        except ValueError:
            raise bad_request("Bad Request: can't parse JSON object") from None
        if not isinstance(decoded, dict):
            raise bad_request("Bad Request: can't parse JSON object")
        values.update(decoded)
    elif kind == "multipart/form-data":
        fields, files = parse_multipart(content_type, body)
        values.update(fields)
    else:
        text = body.decode("utf-8", errors="replace")
        values.update(parse_qsl(text, keep_blank_values=True))
    return Params(values, files)


def parse_multipart(
    content_type: str, body: bytes
) -> tuple[dict[str, str], dict[str, UploadedFile]]:
    """Split a ``multipart/form-data`` body into text fields and file parts."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if match is None:
        raise ApiError(400, "Bad Request: multipart boundary is missing")
    delimiter = b"--" + match.group(1).encode("latin-1")
    fields: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        head, sep, data = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not sep:
            continue
        data = data.removesuffix(b"\r\n")
        headers = _part_headers(head.decode("utf-8", errors="replace"))
        params = dict(
            (key.lower(), _unquote(value))
            for key, value in _DISPOSITION_PARAM.findall(headers.get("content-disposition", ""))
        )
        name = params.get("name")
        if name is None:
            continue
        if "filename" in params:
            files[name] = UploadedFile(params["filename"], headers.get("content-type"), data)
        else:
            fields[name] = data.decode("utf-8", errors="replace")
    return fields, files


def _part_headers(head: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in head.split("\r\n"):
        key, sep, value = line.partition(":")
        if sep:
            headers[key.strip().lower()] = value.strip()
    return headers


def _unquote(value: str) -> str:
    """Undo the HTML5-style escaping httpx applies to names and filenames."""
    return value.replace("%22", '"').replace("%0D", "\r").replace("%0A", "\n").replace('\\"', '"')
