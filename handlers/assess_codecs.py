"""The buttons of the annual assessment's screens (/assess, five lead, classification),
in one place so the screens can lead to each other without importing each other."""

from __future__ import annotations

from typing import Final

from bot.callbacks import CallbackCodec

OVERVIEW: Final = CallbackCodec("as.o", (int,))  # year
# Five lead: the secretary's roster and proposals, the staff's review of them.
ROSTER: Final = CallbackCodec("fl.r", (int, int, int))  # year, branch, page
PROPOSE: Final = CallbackCodec("fl.p", (int, int, int, int))  # year, member, 1/0, page
REVIEW: Final = CallbackCodec("fl.v", (int, int))  # year, page
DECIDE: Final = CallbackCodec("fl.d", (int, int, int, int))  # year, proposal, 1/0, page
# Classification and flags of branches.
BRANCHES: Final = CallbackCodec("gd.l", (int, int))  # year, page
BRANCH: Final = CallbackCodec("gd.u", (int, int))  # year, branch
GRADE: Final = CallbackCodec("gd.c", (int, int, str))  # year, branch, class
POVERTY: Final = CallbackCodec("gd.p", (int, int, int))  # year, branch, 1 flag / 0 clear
SITE: Final = CallbackCodec("gd.s", (int, int, int))  # year, branch, 1 site / 0 not
