"""Every button of the session features, in one place so screens can link to each other.

Prefixes are unique project-wide ("ses." sessions, "att." attendance, "ci." check-in).
Fields are ids and short words; handlers re-check every id they receive. The buttons
of queued messages (参加/请假, 签到, make-up, leave decisions) are in bot/session_buttons.py.
"""

from __future__ import annotations

from typing import Final

from bot.callbacks import CallbackCodec

FORM: Final = CallbackCodec("ses.new", (int, str, int))  # form token, step, value
VIEW: Final = CallbackCodec("ses.view", (int,))  # session id: a member's view
MANAGE: Final = CallbackCodec("ses.mng", (int,))  # session id: an officer's view
EDIT: Final = CallbackCodec("ses.edit", (int, str))  # session id, field (sessions.FIELDS)
DURATION: Final = CallbackCodec("ses.dur", (int, int))  # session id, new length in minutes
CANCEL: Final = CallbackCodec("ses.cancel", (int, str))  # session id, "ask" | "one" | "all"

REASON: Final = CallbackCodec("att.why", (int, int))  # session id, reason index
REPORT: Final = CallbackCodec("att.view", (int,))  # session id: /attendance for it
PROXY: Final = CallbackCodec("att.px", (int, int, int))  # session id, member id or 0, page
MINUTES: Final = CallbackCodec("att.min", (int, str))  # session id, "pick" | "done"
LIST: Final = CallbackCodec("att.ls", (str, int))  # period token or "all", page

CODE: Final = CallbackCodec("ci.show", (int,))  # officer: show or renew the code
