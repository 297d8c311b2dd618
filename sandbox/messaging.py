"""Bot API methods that put messages in chats: send, edit, delete, photos and documents.

Every check runs before anything is stored, in roughly Telegram's order (chat, content,
markup, reply target), so a refused call leaves no trace in the chat.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any, Literal

from sandbox import errors as e
from sandbox.errors import ApiError, bad_request, forbidden
from sandbox.files import document_dict, image_size, photo_dimensions_ok, photo_sizes
from sandbox.html_check import parse_html
from sandbox.markdown import parse_markdown_v2
from sandbox.markup import parse_inline_markup, parse_markup
from sandbox.models import Chat, ChatMessage, Content, StoredFile
from sandbox.params import Params, UploadedFile
from sandbox.text import MAX_CAPTION, MAX_TEXT
from sandbox.world import World

DELETE_WINDOW = timedelta(hours=48)
#: Uploads by multipart: photos up to 10 MB, other files up to 50 MB (Bot API sendPhoto).
MAX_UPLOAD = {"photo": 10 * 1024 * 1024, "document": 50 * 1024 * 1024}


def find_chat(world: World, params: Params) -> Chat:
    """The chat named by ``chat_id``, or 400 chat not found."""
    chat_id = params.integer("chat_id", e.CHAT_NOT_FOUND)
    if chat_id is None:
        raise bad_request(e.CHAT_ID_EMPTY)
    chat = world.chats.get(chat_id)
    if chat is None:
        raise bad_request(e.CHAT_NOT_FOUND)
    return chat


def target_chat(world: World, params: Params) -> Chat:
    """A chat the bot may write to now: blocked or never-started users answer 403."""
    chat = find_chat(world, params)
    if chat.type == "private":
        user = world.users[chat.id]
        if user.blocked:
            raise forbidden(e.BLOCKED)
        if not user.started:
            raise forbidden(e.CANT_INITIATE)
    return chat


def render(
    params: Params, text_field: str, entities_field: str
) -> tuple[str, tuple[dict[str, Any], ...], str | None]:
    """Plain text, entities and parse mode for a text or caption, as Telegram parses it."""
    source = params.text(text_field) or ""
    explicit = params.json(entities_field, e.BAD_ENTITIES_JSON)
    if explicit is not None:
        if not isinstance(explicit, list) or not all(isinstance(x, dict) for x in explicit):
            raise bad_request(e.BAD_ENTITIES_JSON)
        return source, tuple(explicit), None
    mode = params.text("parse_mode") or None
    if mode is None:
        return source, (), None
    # Spelled exactly as the Bot API lists them (Telegram also takes "html").
    if mode == "HTML":
        plain, entities = parse_html(source)
        return plain, tuple(entities), "HTML"
    if mode == "MarkdownV2":
        plain, entities = parse_markdown_v2(source)
        return plain, tuple(entities), "MarkdownV2"
    if mode == "Markdown":  # legacy mode: accepted, not rendered
        return source, (), "Markdown"
    raise bad_request(e.UNSUPPORTED_PARSE_MODE)


def _text_content(params: Params) -> Content:
    source = params.text("text")
    if not source:
        raise bad_request(e.TEXT_EMPTY)
    plain, entities, mode = render(params, "text", "entities")
    if not plain.strip():
        raise bad_request(e.TEXT_EMPTY)
    if len(plain) > MAX_TEXT:
        raise bad_request(e.TEXT_TOO_LONG)
    return Content(text=plain, entities=entities, source=source, parse_mode=mode)


def _caption_content(params: Params) -> Content:
    source = params.text("caption")
    if not source:
        return Content()
    plain, entities, mode = render(params, "caption", "caption_entities")
    if len(plain) > MAX_CAPTION:
        raise bad_request(e.CAPTION_TOO_LONG)
    return Content(caption=plain, caption_entities=entities, source=source, parse_mode=mode)


def _reply_target(chat: Chat, params: Params) -> ChatMessage | None:
    reply = params.json("reply_parameters", "Bad Request: can't parse reply parameters JSON")
    if isinstance(reply, dict):
        message_id = reply.get("message_id")
        allow = bool(reply.get("allow_sending_without_reply"))
    else:
        message_id = params.integer("reply_to_message_id")
        allow = params.boolean("allow_sending_without_reply")
    if message_id is None:
        return None
    target = chat.message(int(message_id))
    if target is None or target.deleted:
        if allow:
            return None
        raise bad_request(e.REPLY_NOT_FOUND)
    return target


def _store(world: World, chat: Chat, params: Params, content: Content, **media: Any) -> Any:
    markup = parse_markup(params.values.get("reply_markup"))
    reply_to = _reply_target(chat, params)
    message = world.store_message(
        chat,
        replace(content, reply_markup=markup),
        reply_to=reply_to,
        disable_notification=params.boolean("disable_notification"),
        **media,
    )
    return message.to_api()


async def send_message(world: World, params: Params) -> Any:
    """sendMessage."""
    chat = target_chat(world, params)
    return _store(world, chat, params, _text_content(params))


def _upload(
    world: World, params: Params, field: str, kind: Literal["photo", "document"], missing: str
) -> StoredFile:
    value = params.upload(field)
    if value is None or value == "":
        raise bad_request(missing)
    if isinstance(value, UploadedFile):
        if not value.data:
            raise bad_request(e.FILE_EMPTY)
        if len(value.data) > MAX_UPLOAD[kind]:
            raise ApiError(413, e.TOO_LARGE)
        if kind == "photo" and not photo_dimensions_ok(*image_size(value.data)):
            raise bad_request(e.PHOTO_DIMENSIONS)
        mime = value.content_type if kind == "document" else "image/jpeg"
        return world.files.add(value.data, kind, value.filename or None, mime)
    stored = world.files.get(value)
    if stored is None:
        raise bad_request(e.WRONG_FILE)
    if stored.kind != kind:
        raise bad_request(
            f"Bad Request: can't use file of type {stored.kind.title()} as {kind.title()}"
        )
    return stored


async def send_photo(world: World, params: Params) -> Any:
    """sendPhoto: a multipart upload or a known photo file_id."""
    chat = target_chat(world, params)
    stored = _upload(world, params, "photo", "photo", e.NO_PHOTO)
    return _store(world, chat, params, _caption_content(params), photo=photo_sizes(stored))


async def send_document(world: World, params: Params) -> Any:
    """sendDocument: a multipart upload or a known document file_id."""
    chat = target_chat(world, params)
    stored = _upload(world, params, "document", "document", e.NO_DOCUMENT)
    content = _caption_content(params)
    return _store(world, chat, params, content, document=document_dict(stored))


MAX_ALBUM = 10
_ALBUM_KINDS: dict[str, Literal["photo", "document"]] = {"photo": "photo", "document": "document"}


def _album_item(
    world: World, params: Params, item: object
) -> tuple[Literal["photo", "document"], StoredFile, Content]:
    """One InputMedia of an album: its kind, file and caption, checked as sendPhoto /
    sendDocument check theirs."""
    if not isinstance(item, dict):
        raise bad_request(e.BAD_MEDIA)
    kind_name = item.get("type")
    if kind_name in ("video", "audio"):
        raise bad_request(e.ALBUM_UNSUPPORTED.format(kind_name))
    kind = _ALBUM_KINDS.get(str(kind_name))
    if kind is None:
        raise bad_request(e.ALBUM_TYPE.format(kind_name))
    inner = Params({key: value for key, value in item.items() if key != "type"}, params.files)
    content = _caption_content(inner)
    source = Params({kind: item.get("media")}, params.files)
    return kind, _upload(world, source, kind, kind, e.ALBUM_MEDIA_NOT_FOUND), content


async def send_media_group(world: World, params: Params) -> Any:
    """sendMediaGroup: 2-10 photos, or 2-10 documents, as one album; every item is
    checked before any is stored, so a refused album leaves nothing. Each message carries
    the album's ``media_group_id`` and its own caption; an album takes no keyboard."""
    chat = target_chat(world, params)
    if params.has("reply_markup"):
        raise bad_request(e.ALBUM_MARKUP)
    media = params.json("media", e.BAD_MEDIA_GROUP)
    if media is None or media == []:
        raise bad_request(e.NO_ALBUM_MESSAGES)
    if not isinstance(media, list):
        raise bad_request(e.MEDIA_NOT_ARRAY)
    if len(media) > MAX_ALBUM:
        raise bad_request(e.ALBUM_TOO_BIG)
    if len(media) < 2:
        raise bad_request(e.ALBUM_TOO_SMALL)
    items = [_album_item(world, params, item) for item in media]
    kinds = {kind for kind, _stored, _content in items}
    if "document" in kinds and len(kinds) > 1:
        raise bad_request(e.ALBUM_DOCUMENT_MIXED)
    reply_to = _reply_target(chat, params)
    group = world.new_media_group_id()
    sent = []
    for kind, stored, content in items:
        message = world.store_message(
            chat,
            content,
            photo=photo_sizes(stored) if kind == "photo" else None,
            document=document_dict(stored) if kind == "document" else None,
            reply_to=reply_to,
            disable_notification=params.boolean("disable_notification"),
            media_group_id=group,
        )
        sent.append(message.to_api())
    return sent


def _editable(world: World, params: Params) -> ChatMessage:
    if params.has("inline_message_id") and not params.has("chat_id"):
        raise bad_request(e.EDIT_NOT_FOUND)
    chat = target_chat(world, params)
    message_id = params.integer("message_id", e.EDIT_NOT_FOUND)
    if message_id is None:
        raise bad_request(e.MESSAGE_ID_MISSING)
    message = chat.message(message_id)
    if message is None or message.deleted:
        raise bad_request(e.EDIT_NOT_FOUND)
    if not message.from_bot:
        raise bad_request(e.CANT_EDIT)
    return message


def _apply_edit(world: World, message: ChatMessage, new: Content) -> Any:
    old = message.current
    same = (
        new.text == old.text
        and new.entities == old.entities
        and new.caption == old.caption
        and new.caption_entities == old.caption_entities
        and new.reply_markup == old.reply_markup
    )
    if same:
        raise bad_request(e.NOT_MODIFIED)
    world.edit_message(message, replace(new, edit_date=world.timestamp()))
    return message.to_api()


async def edit_message_text(world: World, params: Params) -> Any:
    """editMessageText; an omitted reply_markup removes the inline keyboard, as in Telegram."""
    message = _editable(world, params)
    content = _text_content(params)
    markup = parse_inline_markup(params.values.get("reply_markup"))
    if message.text is None:
        raise bad_request(e.NO_TEXT)
    return _apply_edit(world, message, replace(content, reply_markup=markup))


async def edit_message_caption(world: World, params: Params) -> Any:
    """editMessageCaption for photos and documents."""
    message = _editable(world, params)
    if message.photo is None and message.document is None:
        raise bad_request(e.NO_CAPTION)
    content = _caption_content(params)
    markup = parse_inline_markup(params.values.get("reply_markup"))
    return _apply_edit(world, message, replace(content, reply_markup=markup))


async def edit_message_media(world: World, params: Params) -> Any:
    """editMessageMedia for a photo: a new picture (an upload by ``attach://`` or a known
    file_id) with its caption; an omitted reply_markup removes the inline keyboard."""
    message = _editable(world, params)
    media = params.json("media", e.BAD_MEDIA)
    if not isinstance(media, dict):
        raise bad_request(e.BAD_MEDIA)
    if media.get("type") != "photo" or message.photo is None:
        raise bad_request(e.MEDIA_TYPE)
    inner = Params({key: value for key, value in media.items() if key != "type"}, params.files)
    stored = _upload(
        world, Params({"photo": media.get("media")}, params.files), "photo", "photo", e.NO_PHOTO
    )
    content = replace(
        _caption_content(inner),
        reply_markup=parse_inline_markup(params.values.get("reply_markup")),
    )
    message.photo = photo_sizes(stored)
    world.edit_message(message, replace(content, edit_date=world.timestamp()))
    return message.to_api()


async def edit_message_reply_markup(world: World, params: Params) -> Any:
    """editMessageReplyMarkup; no markup means remove the keyboard."""
    message = _editable(world, params)
    markup = parse_inline_markup(params.values.get("reply_markup"))
    return _apply_edit(world, message, replace(message.current, reply_markup=markup))


async def delete_message(world: World, params: Params) -> Any:
    """deleteMessage; bots may delete both sides of a private chat within 48 hours."""
    chat = find_chat(world, params)
    message_id = params.integer("message_id", e.DELETE_NOT_FOUND)
    if message_id is None:
        raise bad_request(e.MESSAGE_ID_MISSING)
    message = chat.message(message_id)
    if message is None or message.deleted:
        raise bad_request(e.DELETE_NOT_FOUND)
    if world.timestamp() - message.date > DELETE_WINDOW.total_seconds():
        raise bad_request(e.CANT_DELETE)
    world.delete_message(message)
    return True


def chat_of_call(params: Params) -> int | None:
    """The chat a sending call targets, for rate limiting (None if unreadable)."""
    try:
        return params.integer("chat_id")
    except ApiError:
        return None
