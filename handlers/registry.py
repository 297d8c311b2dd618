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

from bot.checkin import PAYLOAD_PATTERN as CHECKIN_PAYLOAD
from handlers import (
    assess,
    attendance,
    attendance_report,
    awaiting,
    checkin,
    commend,
    common,
    duties,
    errors,
    export,
    fallbacks,
    five_lead,
    funds,
    greetings,
    guidance,
    invitations,
    menus,
    newsession,
    newtraining,
    notice_acks,
    notices,
    profile,
    reachability,
    rectify,
    registration_decide,
    registration_match,
    roles,
    roster,
    roster_import,
    sessions,
    start,
    summary,
    survey,
    training_staff,
    trainings,
    visits,
)

# The command menu everyone sees; descriptions are translated per language at start-up.
# Every menu command (public, for members, per role) is a row of handlers.menus.MENU.
PUBLIC_COMMANDS: tuple[tuple[str, str], ...] = menus.public_commands()


def register_handlers(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Attach every handler to the application, in order."""
    application.add_handler(TypeHandler(Update, common.on_any_update_remember_user), group=-1)

    # A scanned check-in QR code opens the bot with "/start ci_<session>_<code>"; any other
    # payload is an invitation code (which never has that shape).
    application.add_handler(
        CommandHandler(
            "start",
            checkin.cmd_start_checkin,
            filters.Regex(rf"^/start {CHECKIN_PAYLOAD}\s*$"),
        )
    )
    application.add_handler(CommandHandler("start", start.cmd_start))
    application.add_handler(CommandHandler("help", start.cmd_help))
    application.add_handler(CommandHandler("cancel", awaiting.cmd_cancel))
    application.add_handler(
        CallbackQueryHandler(awaiting.on_cancel, pattern=awaiting.CANCEL.pattern)
    )

    # Typed answers a flow waits for; only while it waits, so before other features' text
    # and file handlers (materials can be a file, minutes can be photos, a notice either).
    waits = application.user_data
    # The rest of a text just refused as too long is refused with it, not taken as input.
    application.add_handler(MessageHandler(awaiting.continuation(waits), awaiting.on_continuation))
    for flow, on_input in (
        (newsession.FLOW, newsession.on_form_input),
        (sessions.EDIT_FLOW, sessions.on_edit_input),
        (attendance.LEAVE_FLOW, attendance.on_leave_note),
        (checkin.FLOW, checkin.on_number),
        (attendance_report.MINUTES_FLOW, attendance_report.on_minutes_input),
        (notices.FLOW, notices.on_notice_text),
        (newtraining.FLOW, newtraining.on_form_input),
        (funds.FLOW, funds.on_amount),
        (visits.FLOW, visits.on_visit_input),
        (rectify.FLOW, rectify.on_input),
        (survey.FLOW, survey.on_input),
    ):
        application.add_handler(MessageHandler(awaiting.awaiting(waits, flow), on_input))

    application.add_handler(
        MessageHandler(
            filters.Document.ALL & filters.ChatType.PRIVATE, roster_import.on_roster_document
        )
    )
    application.add_handler(
        CallbackQueryHandler(roster_import.on_roster_choice, pattern=roster_import.CHOICE.pattern)
    )
    application.add_handler(
        CallbackQueryHandler(roster_import.on_name_answer, pattern=roster_import.NAME.pattern)
    )

    application.add_handler(CommandHandler("invite", invitations.cmd_invite))
    application.add_handler(CommandHandler("invites", invitations.cmd_invites))
    for codec, on_tap in (
        *invitations.CALLBACKS,
        *registration_decide.CALLBACKS,
    ):
        application.add_handler(CallbackQueryHandler(on_tap, pattern=codec.pattern))
    application.add_handler(
        MessageHandler(filters.CONTACT & filters.ChatType.PRIVATE, registration_match.on_contact)
    )
    application.add_handler(
        MessageHandler(
            filters.Text(registration_match.by_name_labels()) & filters.ChatType.PRIVATE,
            registration_match.on_find_by_name,
        )
    )
    application.add_handler(
        MessageHandler(
            registration_match.awaiting_name(application.user_data),
            registration_match.on_typed_name,
        )
    )

    application.add_handler(CommandHandler("me", profile.cmd_me))
    application.add_handler(CommandHandler("language", profile.cmd_language))
    application.add_handler(CommandHandler("members", roster.cmd_members))
    application.add_handler(CommandHandler("appoint", roles.cmd_appoint))
    for codec, on_tap in (*profile.CALLBACKS, *roster.CALLBACKS, *roles.CALLBACKS):
        application.add_handler(CallbackQueryHandler(on_tap, pattern=codec.pattern))

    application.add_handler(CommandHandler("notice", notices.cmd_notice))
    application.add_handler(CommandHandler("notices", notice_acks.cmd_notices))
    application.add_handler(CommandHandler("greetings", greetings.cmd_greetings))
    for codec, on_tap in (*notices.CALLBACKS, *notice_acks.CALLBACKS, *greetings.CALLBACKS):
        application.add_handler(CallbackQueryHandler(on_tap, pattern=codec.pattern))
    application.add_handler(
        ChatMemberHandler(reachability.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER)
    )

    application.add_handler(CommandHandler("newsession", newsession.cmd_newsession))
    application.add_handler(CommandHandler("sessions", sessions.cmd_sessions))
    application.add_handler(CommandHandler("checkin", checkin.cmd_checkin))
    application.add_handler(CommandHandler("attendance", attendance_report.cmd_attendance))
    application.add_handler(CommandHandler("minutes", attendance_report.cmd_minutes))
    for codec, on_tap in (
        *newsession.CALLBACKS,
        *sessions.CALLBACKS,
        *attendance.CALLBACKS,
        *checkin.CALLBACKS,
        *attendance_report.CALLBACKS,
    ):
        application.add_handler(CallbackQueryHandler(on_tap, pattern=codec.pattern))

    application.add_handler(CommandHandler("newtraining", newtraining.cmd_newtraining))
    application.add_handler(CommandHandler("trainings", trainings.cmd_trainings))
    for codec, on_tap in (
        *newtraining.CALLBACKS,
        *trainings.CALLBACKS,
        *training_staff.CALLBACKS,
    ):
        application.add_handler(CallbackQueryHandler(on_tap, pattern=codec.pattern))

    application.add_handler(CommandHandler("fund", funds.cmd_fund))
    application.add_handler(CommandHandler("funds", funds.cmd_funds))
    application.add_handler(CommandHandler("visit", visits.cmd_visit))
    application.add_handler(CommandHandler("duties", duties.cmd_duties))
    application.add_handler(CommandHandler("leaders", duties.cmd_leaders))
    for codec, on_tap in (*funds.CALLBACKS, *visits.CALLBACKS, *duties.CALLBACKS):
        application.add_handler(CallbackQueryHandler(on_tap, pattern=codec.pattern))
    application.add_handler(CommandHandler("assess", assess.cmd_assess))
    application.add_handler(CommandHandler("commend", commend.cmd_commend))
    for codec, on_tap in (*assess.CALLBACKS, *five_lead.CALLBACKS, *guidance.CALLBACKS):
        application.add_handler(CallbackQueryHandler(on_tap, pattern=codec.pattern))
    application.add_handler(CommandHandler("laggards", rectify.cmd_laggards))
    application.add_handler(CommandHandler("rectify", rectify.cmd_rectify))
    for codec, on_tap in rectify.CALLBACKS:
        application.add_handler(CallbackQueryHandler(on_tap, pattern=codec.pattern))
    application.add_handler(CommandHandler("survey", survey.cmd_survey))
    for codec, on_tap in survey.CALLBACKS:
        application.add_handler(CallbackQueryHandler(on_tap, pattern=codec.pattern))
    application.add_handler(CommandHandler("summary", summary.cmd_summary))
    application.add_handler(CommandHandler("export", export.cmd_export))
    for codec, on_tap in (*summary.CALLBACKS, *export.CALLBACKS):
        application.add_handler(CallbackQueryHandler(on_tap, pattern=codec.pattern))

    # Fallbacks: keep these last.
    application.add_handler(MessageHandler(filters.COMMAND, fallbacks.on_unknown_command))
    application.add_handler(
        MessageHandler(
            filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE,
            fallbacks.on_unexpected_text,
        )
    )
    application.add_handler(CallbackQueryHandler(fallbacks.on_unknown_callback))
    errors.retry_every_handler(application.handlers)
    application.add_error_handler(errors.on_error)
