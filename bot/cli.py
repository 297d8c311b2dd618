"""The `partybot` command line: run the bot, manage the database, bootstrap the county.

Wrong arguments give one line with the reason and exit status 2; operational failures
exit 1. Nothing here prints the bot token.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

from bot import audit_report, bootstrap, export, funds_import, roster_report
from bot.invitations import create_from_cli
from bot.logs import configure_logging
from bot.settings import Settings, SettingsError, check_webhook_url, load_settings
from storage import head_revision
from storage.backup import BackupError, backup_sqlite, pg_dump_command, restore_sqlite, sqlite_path

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line instead of a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _webhook_url(value: str) -> str:
    try:
        return check_webhook_url(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree."""
    parser = _Parser(prog="partybot", description="partybot: party work of a county, on phones")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = commands.add_parser(
        "run", help="run the bot (long polling); without a token, the sandbox"
    )
    run.add_argument(
        "--webhook",
        metavar="URL",
        type=_webhook_url,
        help="take updates by webhook at this public https URL (PARTYBOT_WEBHOOK_URL)",
    )

    sandbox = commands.add_parser("sandbox", help="try partybot in a browser, no token needed")
    sandbox.add_argument("--reset", action="store_true", help="start the demo county afresh")
    sandbox.add_argument("--port", type=int, default=8080, help="port of the page (8080)")

    database = commands.add_parser("db", help="database schema")
    db_commands = database.add_subparsers(dest="db_command", required=True, parser_class=_Parser)
    db_commands.add_parser("upgrade", help="migrate the database to the newest schema")
    db_commands.add_parser("current", help="show the schema revision")

    init = commands.add_parser("init", help="create the county (once)")
    init.add_argument("--county", required=True, help="county name, e.g. 某某县")
    init.add_argument("--code", default="C", help="short code of the county org (default C)")

    backup = commands.add_parser("backup", help="copy the database to a file (bot may run)")
    backup.add_argument("file", type=Path, help="new file: SQLite copy, or pg_dump's archive")
    restore = commands.add_parser("restore", help="replace the SQLite database with a backup")
    restore.add_argument("file", type=Path, help="a file written by `partybot backup`")

    emulator = commands.add_parser("emulator", help="run the Bot API emulator standalone")
    emulator.add_argument("--host", default="127.0.0.1")
    emulator.add_argument("--port", type=int, default=8081)
    emulator.add_argument("--token", help="token the emulator accepts (default: from settings)")

    admin = commands.add_parser("admin", help="bootstrap administration")
    admin_commands = admin.add_subparsers(
        dest="admin_command", required=True, parser_class=_Parser
    )
    grant = admin_commands.add_parser("grant", help="grant a role to a Telegram user")
    grant.add_argument("--telegram-id", type=int, required=True)
    grant.add_argument("--role", required=True)
    grant.add_argument("--org", required=True, help="code of the org the role applies to")

    invite = commands.add_parser("invite", help="invitation links")
    invite_commands = invite.add_subparsers(
        dest="invite_command", required=True, parser_class=_Parser
    )
    create = invite_commands.add_parser("create", help="create an invitation and print its link")
    create.add_argument("--org", required=True, help="code of the branch, e.g. T01-V01")
    create.add_argument("--role", default="member", help="member (default), deputy_secretary, ...")
    create.add_argument("--uses", type=int, default=1, help="how many people may use it (1)")
    create.add_argument("--days", type=int, default=7, help="days it stays valid (7)")
    create.add_argument("--bot-username", help="the bot's @username (default: ask Telegram)")
    create.add_argument("--qr", help="also write the QR code as a PNG to this file")

    import_ = commands.add_parser("import", help="import data from files")
    import_commands = import_.add_subparsers(
        dest="import_command", required=True, parser_class=_Parser
    )
    roster = import_commands.add_parser("roster", help="import a roster (.xlsx or .csv)")
    roster.add_argument("file", type=Path, help="the roster spreadsheet")
    roster.add_argument("--dry-run", action="store_true", help="show the changes, write nothing")
    roster.add_argument(
        "--skip-bad", action="store_true", help="import the correct rows, list the others"
    )
    roster.add_argument(
        "--new-name",
        action="append",
        default=[],
        metavar="NAME",
        help="a township/branch/group name close to an existing one is new (repeatable)",
    )

    funds = commands.add_parser("funds", help="training and other funds")
    funds_commands = funds.add_subparsers(
        dest="funds_command", required=True, parser_class=_Parser
    )
    funds_file = funds_commands.add_parser(
        "import", help="import the county's funds spreadsheet (.xlsx or .csv), all rows or none"
    )
    funds_file.add_argument("file", type=Path, help="the funds spreadsheet")
    funds_file.add_argument(
        "--dry-run", action="store_true", help="show the records, write nothing"
    )

    log = commands.add_parser("audit", help="print the audit log, newest first")
    log.add_argument("--org", help="code of an org: only entries in its subtree")
    log.add_argument("--since", type=audit_report.day_argument, help="first day, 2026-03-01")
    log.add_argument("--until", type=audit_report.day_argument, help="last day, 2026-03-31")
    log.add_argument("--limit", type=audit_report.positive_int, default=100, help="(100)")

    report = commands.add_parser("export", help="write an org's workbook (.xlsx) for a period")
    report.add_argument("--org", required=True, help="code of the org: its whole subtree")
    report.add_argument("--period", default="", help="2026, 2026-03, 2026Q1 (default: this year)")
    report.add_argument("file", type=Path, help="the .xlsx file to write")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `partybot` console script."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"partybot: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "run" and args.webhook is not None:
        settings = settings.model_copy(update={"webhook_url": args.webhook})
    webhook_secret = settings.webhook_token if settings.token or settings.webhook_secret else None
    configure_logging(
        settings.log_level,
        secrets=[settings.token, webhook_secret],
        log_format=settings.log_format,
    )
    try:
        match args.command:
            case "run":
                return run_bot(settings)
            case "sandbox":
                return run_sandbox(settings, port=args.port, fresh=args.reset)
            case "db" if args.db_command == "upgrade":
                print(bootstrap.upgrade_database(settings.database_url))
            case "db":
                print(bootstrap.database_revision(settings.database_url))
            case "init":
                print(asyncio.run(bootstrap.init_county(settings, args.county, args.code)))
            case "backup":
                return run_backup(settings, args.file)
            case "restore":
                print(restore_database(settings, args.file))
            case "emulator":
                return run_emulator(settings, args.host, args.port, args.token)
            case "import":
                return asyncio.run(
                    roster_report.run_cli(
                        settings,
                        args.file,
                        dry_run=args.dry_run,
                        skip_bad=args.skip_bad,
                        new_names=args.new_name,
                    )
                )
            case "funds":
                return asyncio.run(funds_import.run_cli(settings, args.file, dry_run=args.dry_run))
            case "invite":
                print(
                    asyncio.run(
                        create_from_cli(
                            settings,
                            org_code=args.org,
                            role_name=args.role,
                            uses=args.uses,
                            days=args.days,
                            bot_username=args.bot_username,
                            qr_path=args.qr,
                        )
                    )
                )
            case "audit":
                print(
                    asyncio.run(
                        audit_report.audit_report(
                            settings,
                            org_code=args.org,
                            since=args.since,
                            until=args.until,
                            limit=args.limit,
                        )
                    )
                )
            case "export":
                print(
                    asyncio.run(
                        export.export_cli(
                            settings,
                            org_code=args.org,
                            period_text=args.period,
                            path=args.file,
                            now=datetime.now(UTC),
                        )
                    )
                )
            case "admin":
                print(
                    asyncio.run(
                        bootstrap.grant_role(settings, args.telegram_id, args.role, args.org)
                    )
                )
    except audit_report.AuditReportError as exc:
        print(f"partybot: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except export.ExportError as exc:
        print(f"partybot: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (bootstrap.BootstrapError, BackupError) as exc:
        print(f"partybot: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def run_bot(settings: Settings) -> int:
    """Serve Telegram until SIGINT/SIGTERM; stopping confirms the last update offset.

    Without a token there is no Telegram to talk to, so the sandbox starts instead. A token
    Telegram refuses ends with one line and exit status 1 (see bot/serve.py).
    """
    if settings.token is None:
        print(NO_TOKEN_HELP, file=sys.stderr)
        return run_sandbox(settings)
    from bot.serve import TokenRefused, refused_line, serve

    bootstrap.upgrade_database(settings.database_url)
    try:
        asyncio.run(serve(settings))
    except TokenRefused as exc:
        print(refused_line(exc), file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:  # e.g. PARTYBOT_LISTEN's port is taken
        print(f"partybot: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def run_backup(settings: Settings, target: Path) -> int:
    """SQLite: an online copy. PostgreSQL: print the pg_dump command, then run it."""
    url = settings.database_url
    if sqlite_path(url) is not None:
        backup_sqlite(url, target)
        print(f"backed up {sqlite_path(url)} to {target}")
        return EXIT_OK
    dump = pg_dump_command(url, target)
    print(" ".join(dump.argv), flush=True)
    try:
        status = dump.run()
    except FileNotFoundError:
        print("partybot: pg_dump is not installed (PostgreSQL client tools)", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK if status == 0 else EXIT_FAILED


def restore_database(settings: Settings, source: Path) -> str:
    """Replace the SQLite database with a backup, never moving the schema backwards."""
    restored = restore_sqlite(settings.database_url, source)
    head = head_revision()
    hint = "" if restored == head else f"; run `partybot db upgrade` (newest is {head})"
    return f"restored {source} (schema {restored}){hint}"


def run_sandbox(settings: Settings, *, port: int = 8080, fresh: bool = False) -> int:
    """Serve the sandbox (emulator, bot, demo county, web page) until interrupted."""
    from demo.app import serve_sandbox

    try:
        asyncio.run(serve_sandbox(settings, port=port, fresh=fresh))
    except OSError as exc:
        print(f"partybot: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def run_emulator(settings: Settings, host: str, port: int, token: str | None) -> int:
    """Serve the Bot API emulator until interrupted."""
    from sandbox.server import main as emulator_main

    argv = ["--host", host, "--port", str(port)]
    token = token or settings.token
    if token:
        argv += ["--token", token]
    return emulator_main(argv)


NO_TOKEN_HELP = """partybot: TELEGRAM_BOT_TOKEN is not set, so the sandbox starts instead:
the demo county in a browser, with no Telegram. To run the real bot, get a token from
@BotFather and put it in the environment or in .env:
    TELEGRAM_BOT_TOKEN=123456789:AA...   (see README.md, "Configuration")"""


if __name__ == "__main__":
    sys.exit(main())
