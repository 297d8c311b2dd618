"""/start and /help: the first words a member reads."""

from __future__ import annotations

from telegram import Update

from bot.access import load_principal
from bot.context import BotContext
from bot.htmltext import html_lines
from handlers import registration
from handlers.menus import menu_for, refresh_menu
from storage import duties, members


async def cmd_start(update: Update, context: BotContext) -> None:
    """Join with an invitation code if one came with the link; otherwise greet and guide."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    if context.args:
        await registration.start_with_code(update, context, context.args[0])
        return
    _ = context._
    async with context.services.database.session_scope() as db:
        principal = await load_principal(db=db, telegram_user_id=user.id)
        member = await members.member_by_telegram(db=db, telegram_user_id=user.id)
    if member is None and not principal.grants:
        await message.reply_text(
            _(
                "Welcome to partybot, the party-work assistant of our county.\n"
                "To join your branch, ask your branch secretary for an invitation link "
                "or scan the QR code at the village office."
            )
        )
        return
    # Roles may have been given outside the bot (the CLI): bring the menu up to date.
    await refresh_menu(
        context.bot,
        database=context.services.database,
        telegram_user_id=user.id,
        language=context.language,
    )
    name = member.name if member is not None else user.first_name
    await message.reply_text(
        _("Welcome back, {name}. Send /help to see what you can do.").format(name=name)
    )


async def cmd_help(update: Update, context: BotContext) -> None:
    """List the commands this user may use: the same table as their command menu."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    _ = context._
    async with context.services.database.session_scope() as db:
        principal = await load_principal(db=db, telegram_user_id=user.id)
        member = await members.member_by_telegram(db=db, telegram_user_id=user.id)
        leader = member is not None and await duties.is_leader(db=db, member=member)
    commands = menu_for(principal, is_member=member is not None, is_leader=leader)
    lines = [_("What I can do:")]
    lines += [f"/{command.name} - {_(command.description)}" for command in commands]
    await message.reply_text(html_lines(lines))
