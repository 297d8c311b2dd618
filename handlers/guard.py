"""Server-side permission checks for handlers, with a translated refusal."""

from __future__ import annotations

from telegram import Update

from bot.access import Action, Principal, allows
from bot.context import BotContext
from bot.fit import fits_alert
from bot.refusals import STALE_BUTTON as STALE_BUTTON  # re-exported: handlers answer with it

#: The answer to a tap on a button that is outdated, forged or no longer means anything.


async def refuse(update: Update, context: BotContext, text: str) -> None:
    """Tell the user why nothing happened: an alert for a tap, a message otherwise.

    An alert holds at most 200 characters; a reason naming long names or units may be
    longer, and then comes as a message after a silent answer to the tap.
    """
    query = update.callback_query
    if query is not None:
        if fits_alert(text):
            await query.answer(text, show_alert=True)
            return
        await query.answer()
    if update.effective_message is not None:
        await update.effective_message.reply_text(text)


async def permitted(
    update: Update, context: BotContext, principal: Principal, action: Action, org_path: str
) -> bool:
    """True if allowed; otherwise answers with a clear refusal and returns False."""
    if allows(principal, action, org_path):
        return True
    await refuse(update, context, context._("You do not have the right to do this here."))
    return False
