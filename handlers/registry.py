"""All handler registration, in one ordered place.

Group -1 runs for every update first (accounts, language). Group 0 holds the features in
order; the first handler that matches wins, so the fallbacks at its end answer only what no
feature took, and nothing is ever met with silence.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from handlers import (
    common,
    errors,
    fallbacks,
    greetings,
    invitations,
    menus,
    notice_reads,
    notices,
    profile,
    reachability,
    registration,
    roles,
    roster,
    roster_import,
    start,
)

# The command menu everyone sees; descriptions are translated per language at start-up.
# Every menu command (public, for members, per role) is a row of handlers.menus.MENU.
PUBLIC_COMMANDS: tuple[tuple[str, str], ...] = menus.public_commands()


def register_handlers(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Attach every handler to the application, in order."""
    application.add_handler(TypeHandler(Update, common.on_any_update_remember_user), group=-1)

    application.add_handler(CommandHandler("start", start.cmd_start))
    application.add_handler(CommandHandler("help", start.cmd_help))

    # The text (or photo, or file) of a notice being written: only while its draft waits
    # for it, so before other features' text and file handlers.
    application.add_handler(
        MessageHandler(notices.writing_notice(application), notices.on_notice_text)
    )

    application.add_handler(
        MessageHandler(
            filters.Document.ALL & filters.ChatType.PRIVATE, roster_import.on_roster_document
        )
    )
    application.add_handler(
        CallbackQueryHandler(roster_import.on_roster_choice, pattern=roster_import.CHOICE.pattern)
    )

    application.add_handler(CommandHandler("invite", invitations.cmd_invite))
    application.add_handler(CommandHandler("invites", invitations.cmd_invites))
    for codec, on_tap in (*invitations.CALLBACKS, *registration.CALLBACKS):
        application.add_handler(CallbackQueryHandler(on_tap, pattern=codec.pattern))
    application.add_handler(
        MessageHandler(filters.CONTACT & filters.ChatType.PRIVATE, registration.on_contact)
    )
    application.add_handler(
        MessageHandler(
            filters.Text(registration.by_name_labels()) & filters.ChatType.PRIVATE,
            registration.on_find_by_name,
        )
    )
    application.add_handler(
        MessageHandler(
            registration.awaiting_last_four(application.user_data), registration.on_last_four
        )
    )

    application.add_handler(CommandHandler("me", profile.cmd_me))
    application.add_handler(CommandHandler("language", profile.cmd_language))
    application.add_handler(CommandHandler("members", roster.cmd_members))
    application.add_handler(CommandHandler("appoint", roles.cmd_appoint))
    for codec, on_tap in (*profile.CALLBACKS, *roster.CALLBACKS, *roles.CALLBACKS):
        application.add_handler(CallbackQueryHandler(on_tap, pattern=codec.pattern))

    application.add_handler(CommandHandler("notice", notices.cmd_notice))
    application.add_handler(CommandHandler("notices", notice_reads.cmd_notices))
    application.add_handler(CommandHandler("greetings", greetings.cmd_greetings))
    for codec, on_tap in (*notices.CALLBACKS, *notice_reads.CALLBACKS, *greetings.CALLBACKS):
        application.add_handler(CallbackQueryHandler(on_tap, pattern=codec.pattern))
    application.add_handler(
        ChatMemberHandler(reachability.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER)
    )

    # Fallbacks: keep these last.
    application.add_handler(MessageHandler(filters.COMMAND, fallbacks.on_unknown_command))
    application.add_handler(
        MessageHandler(
            filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE,
            fallbacks.on_unexpected_text,
        )
    )
    application.add_handler(CallbackQueryHandler(fallbacks.on_unknown_callback))
    application.add_error_handler(errors.on_error)
