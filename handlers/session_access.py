"""The one check every officer screen of a session makes: may this user act on it?"""

from __future__ import annotations

from telegram import Update

from bot.access import Action, allows, load_principal
from bot.context import BotContext
from bot.refusals import NOT_ALLOWED
from handlers.guard import refuse
from storage import orgs, sessions
from storage.models import StudySession

__all__ = ["NOT_ALLOWED", "officer_session"]


async def officer_session(
    update: Update, context: BotContext, session_id: int, *actions: Action
) -> StudySession | None:
    """The session if the user holds one of `actions` over its org; else refuse (None).

    The id came from a button, so it is trusted for nothing: a session of another
    branch, or one that no longer exists, gets the same clear refusal.
    """
    user = update.effective_user
    if user is None:
        return None
    async with context.services.database.session_scope() as db:
        study = await sessions.get_session(db=db, session_id=session_id)
        org = await orgs.get_org(db=db, org_id=study.org_id) if study else None
        principal = await load_principal(db=db, telegram_user_id=user.id)
    if (
        study is None
        or org is None
        or not any(allows(principal, action, org.path) for action in actions)
    ):
        await refuse(update, context, context._(NOT_ALLOWED))
        return None
    return study
