"""Telegram's error answers, with the exact texts the real Bot API uses.

Keeping the texts in one place lets tests (ours and the bot's) compare against the same
strings Telegram sends, so error handling written against the emulator holds in production.
"""

from __future__ import annotations

from typing import Any

UNAUTHORIZED = "Unauthorized"
NOT_FOUND = "Not Found"
BAD_GATEWAY = "Bad Gateway"

CHAT_NOT_FOUND = "Bad Request: chat not found"
CHAT_ID_EMPTY = "Bad Request: chat_id is empty"
TEXT_EMPTY = "Bad Request: message text is empty"
TEXT_TOO_LONG = "Bad Request: message is too long"
CAPTION_TOO_LONG = "Bad Request: message caption is too long"
BUTTON_DATA_INVALID = "Bad Request: BUTTON_DATA_INVALID"
BUTTON_URL_INVALID = "Bad Request: BUTTON_URL_INVALID"
TEXT_BUTTON_INLINE = (
    "Bad Request: can't parse inline keyboard button: "
    "Text buttons are unallowed in the inline keyboard"
)
BAD_MARKUP = "Bad Request: can't parse reply keyboard markup JSON object"
BAD_INLINE_KEYBOARD = "Bad Request: inline keyboard expected"
EMPTY_KEYBOARD = "Bad Request: keyboard must have at least one button in every row"
BAD_ENTITIES_JSON = "Bad Request: can't parse entities JSON object"
PARSE_ENTITIES = "Bad Request: can't parse entities: "
UNSUPPORTED_PARSE_MODE = "Bad Request: unsupported parse_mode"
BLOCKED = "Forbidden: bot was blocked by the user"
CANT_INITIATE = "Forbidden: bot can't initiate conversation with a user"
MESSAGE_ID_MISSING = "Bad Request: message identifier is not specified"
EDIT_NOT_FOUND = "Bad Request: message to edit not found"
CANT_EDIT = "Bad Request: message can't be edited"
NO_CAPTION = "Bad Request: there is no caption in the message to edit"
NO_TEXT = "Bad Request: there is no text in the message to edit"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
DELETE_NOT_FOUND = "Bad Request: message to delete not found"
CANT_DELETE = "Bad Request: message can't be deleted for everyone"
REPLY_NOT_FOUND = "Bad Request: message to be replied not found"
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
CALLBACK_TEXT_TOO_LONG = "Bad Request: MESSAGE_TOO_LONG"
INVALID_FILE_ID = "Bad Request: invalid file_id"
WRONG_FILE = "Bad Request: wrong file identifier/HTTP URL specified"
FILE_EMPTY = "Bad Request: file must be non-empty"
NO_PHOTO = "Bad Request: there is no photo in the request"
BAD_MEDIA = "Bad Request: can't parse InputMedia JSON object"
BAD_MEDIA_GROUP = "Bad Request: can't parse media JSON object"
MEDIA_NOT_ARRAY = "Bad Request: expected an Array of InputMedia"
NO_ALBUM_MESSAGES = "Bad Request: there are no messages to send"
ALBUM_TOO_BIG = "Bad Request: too many messages to send as an album"
ALBUM_MEDIA_NOT_FOUND = "Bad Request: can't parse InputMedia: media not found"
ALBUM_TYPE = "Bad Request: can't parse InputMedia: type \"{}\" can't be used in sendMediaGroup"
ALBUM_DOCUMENT_MIXED = "Bad Request: document can't be mixed with other media types"
MEDIA_TYPE = "Bad Request: only photos can be edited here (media type must be photo)"
NO_DOCUMENT = "Bad Request: there is no document in the request"
BAD_ACTION = "Bad Request: wrong parameter action in request"
COMMAND_INVALID = "Bad Request: BOT_COMMAND_INVALID"
COMMAND_EMPTY = "Bad Request: command must be non-empty"
COMMAND_TOO_LONG = "Bad Request: command length must not exceed 32"
COMMAND_DESCRIPTION_EMPTY = "Bad Request: command description must be non-empty"
COMMAND_DESCRIPTION_TOO_LONG = "Bad Request: command description length must not exceed 256"
COMMANDS_TOO_MUCH = "Bad Request: BOT_COMMANDS_TOO_MUCH"
COMMANDS_NOT_ARRAY = "Bad Request: expected an Array of BotCommand"
BAD_COMMANDS_JSON = "Bad Request: can't parse commands JSON object"
BAD_COMMAND = "Bad Request: can't parse BotCommand: expected an Object"
BAD_SCOPE = "Bad Request: can't parse BotCommandScope JSON object"
BAD_MENU_BUTTON = "Bad Request: can't parse menu button JSON object"
BAD_WEBHOOK_URL = "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
INVALID_WEBHOOK_URL = "Bad Request: invalid webhook URL specified"
SECRET_TOO_LONG = "Bad Request: secret token is too long"
SECRET_CHARACTERS = "Bad Request: secret token contains unallowed characters"
PHOTO_DIMENSIONS = "Bad Request: PHOTO_INVALID_DIMENSIONS"
BUTTON_TEXT_INVALID = "Bad Request: BUTTON_TEXT_INVALID"
TOO_LARGE = "Request Entity Too Large"

# Stricter than Telegram, which silently repairs or ignores these (the published Bot API
# calls them errors, and an independent checker refuses them); the texts are the emulator's.
BUTTON_FIELDS = (
    "Bad Request: can't parse inline keyboard button: "
    "InlineKeyboardButton must have exactly one optional field"
)
KEYBOARD_BUTTON_FIELDS = (
    "Bad Request: can't parse keyboard button: KeyboardButton must have at most one optional field"
)
# The Bot API reference asks for 2-10 items; Telegram sends a single one outside any album.
ALBUM_TOO_SMALL = "Bad Request: media must include 2-10 items"
ALBUM_MARKUP = "Bad Request: sendMediaGroup takes no reply_markup"
ALBUM_UNSUPPORTED = 'Bad Request: the emulator sends albums of photos or documents, not "{}"'
PLACEHOLDER_INVALID = "Bad Request: input_field_placeholder must be 1-64 characters"
KEYBOARD_FLAG_FALSE = "Bad Request: remove_keyboard and force_reply can only be True"
SECRET_EMPTY = "Bad Request: secret token must be 1-256 characters"
MAX_CONNECTIONS = "Bad Request: max_connections must be between 1 and 100"
BAD_LIMIT = "Bad Request: limit must be between 1 and 100"
BAD_TIMEOUT = "Bad Request: timeout must not be negative"
BAD_ALLOWED_UPDATES = "Bad Request: can't parse allowed_updates JSON object"
UNKNOWN_UPDATE_TYPE = 'Bad Request: allowed_updates: unknown update type "{}"'
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)


class ApiError(Exception):
    """A refusal that becomes Telegram's ``{"ok": false, ...}`` answer."""

    def __init__(
        self, error_code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        """The JSON body Telegram would answer with."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(description: str) -> ApiError:
    """A 400; ``description`` already carries the ``Bad Request:`` prefix."""
    return ApiError(400, description)


def forbidden(description: str) -> ApiError:
    """A 403, as for a user who blocked the bot."""
    return ApiError(403, description)


def too_many_requests(retry_after: int) -> ApiError:
    """A 429 with ``parameters.retry_after`` as Telegram sends it."""
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


def parse_entities_error(reason: str) -> ApiError:
    """The 400 for HTML/Markdown that Telegram cannot parse."""
    return ApiError(400, PARSE_ENTITIES + reason)
