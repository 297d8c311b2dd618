"""Photos and documents: upload, reuse by file_id, getFile and download, user uploads."""

from __future__ import annotations

import struct
import zlib

import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    InputMediaPhoto,
    Message,
)
from telegram.error import BadRequest

from sandbox import SimUser, World


def tiny_png(width: int, height: int) -> bytes:
    """A valid PNG header with the given size (pixel data is irrelevant here)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
    )


async def test_photo_upload_and_download(bot: Bot, alice: SimUser, world: World) -> None:
    data = tiny_png(640, 480)
    sent = await bot.send_photo(alice.id, data, caption="<i>图表</i>", parse_mode="HTML")
    size = sent.photo[-1]
    assert (size.width, size.height, size.file_size) == (640, 480, len(data))
    assert sent.caption == "图表"
    seen = await alice.wait_for_reply()
    assert seen.photo is not None
    assert seen.caption == "图表"
    file = await bot.get_file(size.file_id)
    assert bytes(await file.download_as_bytearray()) == data
    assert world.file_bytes(size.file_id) == data
    again = await bot.send_photo(alice.id, size.file_id)
    assert again.photo[-1].file_id == size.file_id


async def test_document_upload_and_download(bot: Bot, alice: SimUser) -> None:
    data = "姓名,电话\n张三,138\n".encode()
    sent = await bot.send_document(alice.id, data, filename="名单.csv")
    assert sent.document is not None
    assert sent.document.file_name == "名单.csv"
    assert sent.document.file_size == len(data)
    file = await bot.get_file(sent.document.file_id)
    assert bytes(await file.download_as_bytearray()) == data
    assert alice.messages[-1].document is not None


async def test_caption_limit(bot: Bot, alice: SimUser) -> None:
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_document(alice.id, b"x", filename="a.txt", caption="c" * 1025)
    await bot.send_document(alice.id, b"x", filename="a.txt", caption="c" * 1024)


async def test_user_document_is_downloadable(bot: Bot, alice: SimUser) -> None:
    data = b"PK\x03\x04 pretend spreadsheet"
    mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    await alice.send_document("roster.xlsx", data, mime, caption="名单")
    update = (await bot.get_updates())[-1]
    assert update.message is not None
    assert update.message.document is not None
    document = update.message.document
    assert (document.file_name, document.mime_type) == ("roster.xlsx", mime)
    assert update.message.caption == "名单"
    file = await bot.get_file(document.file_id)
    assert bytes(await file.download_as_bytearray()) == data


async def test_unknown_files(bot: Bot, alice: SimUser) -> None:
    with pytest.raises(BadRequest, match="Invalid file_id"):
        await bot.get_file("nope")
    with pytest.raises(BadRequest, match="Wrong file identifier"):
        await bot.send_photo(alice.id, "nope")


async def test_a_photo_is_replaced_in_place_by_edit_message_media(
    bot: Bot, alice: SimUser, world: World
) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("🔄", callback_data="new")]])
    sent = await bot.send_photo(alice.id, tiny_png(10, 10), caption="一", reply_markup=keyboard)
    edited = await bot.edit_message_media(
        InputMediaPhoto(tiny_png(20, 20), caption="<b>二</b>", parse_mode="HTML"),
        chat_id=alice.id,
        message_id=sent.message_id,
        reply_markup=keyboard,
    )
    assert isinstance(edited, Message)
    assert (edited.photo[-1].width, edited.caption) == (20, "二")
    seen = alice.chat.message(sent.message_id)
    assert seen is not None
    assert seen.caption == "二"
    assert seen.current.caption_entities == ({"offset": 0, "length": 1, "type": "bold"},)
    assert seen.buttons == [["🔄"]]
    assert seen.photo is not None
    assert world.file_bytes(seen.photo[-1]["file_id"]) == tiny_png(20, 20)
    text = await bot.send_message(alice.id, "文字")
    with pytest.raises(BadRequest, match="media type must be photo"):
        await bot.edit_message_media(
            InputMediaPhoto(tiny_png(5, 5)), chat_id=alice.id, message_id=text.message_id
        )


async def test_an_album_of_photos_is_one_media_group(
    bot: Bot, alice: SimUser, world: World
) -> None:
    first = await bot.send_photo(alice.id, tiny_png(30, 30))
    known = first.photo[-1].file_id
    sent = await bot.send_media_group(
        alice.id,
        [
            InputMediaPhoto(known, caption="<b>一</b> &amp; 二", parse_mode="HTML"),
            InputMediaPhoto(tiny_png(40, 20), caption="plain <i>"),
            InputMediaPhoto(tiny_png(10, 10)),
        ],
    )
    assert [m.caption for m in sent] == ["一 & 二", "plain <i>", None]
    assert len({m.media_group_id for m in sent}) == 1
    assert sent[0].media_group_id is not None
    assert sent[0].photo[-1].file_id == known
    assert (sent[1].photo[-1].width, sent[1].photo[-1].height) == (40, 20)
    shown = alice.messages[-3:]
    assert [m.media_group_id for m in shown] == [sent[0].media_group_id] * 3
    assert alice.messages[0].media_group_id is None  # the lone photo is in no album
    again = await bot.send_media_group(alice.id, [InputMediaPhoto(known), InputMediaPhoto(known)])
    assert again[0].media_group_id != sent[0].media_group_id


async def test_an_album_is_checked_whole_before_anything_is_sent(
    bot: Bot, alice: SimUser, world: World
) -> None:
    known = (await bot.send_photo(alice.id, tiny_png(30, 30))).photo[-1].file_id
    before = len(alice.messages)
    with pytest.raises(BadRequest, match="Too many messages to send as an album"):
        await bot.send_media_group(alice.id, [InputMediaPhoto(known)] * 11)
    with pytest.raises(BadRequest, match="Media must include 2-10 items"):
        await bot.send_media_group(alice.id, [InputMediaPhoto(known)])
    with pytest.raises(BadRequest, match="Wrong file identifier"):
        await bot.send_media_group(alice.id, [InputMediaPhoto(known), InputMediaPhoto("nope")])
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_media_group(
            alice.id, [InputMediaPhoto(known), InputMediaPhoto(known, caption="c" * 1025)]
        )
    document = (await bot.send_document(alice.id, b"x", filename="a.txt")).document
    assert document is not None
    before += 1
    with pytest.raises(BadRequest, match="Document can't be mixed with other media types"):
        await bot.send_media_group(
            alice.id, [InputMediaPhoto(known), InputMediaDocument(document.file_id)]
        )
    assert len(alice.messages) == before
    documents = await bot.send_media_group(
        alice.id, [InputMediaDocument(document.file_id), InputMediaDocument(document.file_id)]
    )
    assert [m.document.file_name for m in documents if m.document] == ["a.txt", "a.txt"]
