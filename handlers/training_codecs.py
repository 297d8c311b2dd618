"""Every button of the training features ("trn." prefix), so screens can link to each other.

Fields are ids, positions and short words; handlers re-check every id they receive.
"""

from __future__ import annotations

from typing import Final

from bot.callbacks import CallbackCodec
from handlers.org_picker import OrgPicker

FORM: Final = CallbackCodec("trn.new", (int, str, int))  # form token, step, value
AUDIENCE: Final = OrgPicker(
    nav=CallbackCodec("trn.nav", (int, int, int)),  # form token, org id (0: top), page
    pick=CallbackCodec("trn.pick", (int, int)),  # form token, org id
)

ANSWER: Final = CallbackCodec("trn.ans", (int, int, int))  # training id, question, option
RETRY: Final = CallbackCodec("trn.retry", (int,))  # training id: take the quiz again

LIST: Final = CallbackCodec("trn.list", (int,))  # always 0: an officer's training list
VIEW: Final = CallbackCodec("trn.view", (int,))  # training id: who is done, who is overdue
BULK: Final = CallbackCodec("trn.bulk", (int, int))  # training id, page: confirm for members
TICK: Final = CallbackCodec("trn.tick", (int, int, int))  # training id, member id, page
SAVE: Final = CallbackCodec("trn.save", (int,))  # training id: confirm the ticked members
