"""Command line: `python -m bot run | demo [--web] | content check | content export DIR |
report --weeks N --csv FILE | locales coverage | locales export`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.config import ConfigError, load_settings
from bot.logs import setup_logging

EXIT_CONFIG = 2

if TYPE_CHECKING:
    from state.store import Store


def _listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdecimal() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError("expected HOST:PORT, for example 127.0.0.1:8443")
    return host.strip("[]"), int(port)


def _webhook_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.netloc:
        raise argparse.ArgumentTypeError("Telegram sends webhooks only to https:// URLs")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Jigiya: a Telegram bot that helps survivors of gender-based violence "
        "in Mali find help. Settings come from environment variables (see README).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser("run", help="run the bot (long polling unless --webhook-url)")
    run.add_argument("--webhook-url", type=_webhook_url, help="public https URL for the webhook")
    run.add_argument(
        "--listen",
        type=_listen,
        default=("127.0.0.1", 8443),
        help="HOST:PORT the webhook server listens on (default 127.0.0.1:8443)",
    )
    run.add_argument(
        "--demo-if-no-token",
        action="store_true",
        help="run the offline demo instead when TELEGRAM_BOT_TOKEN is not set",
    )
    demo = commands.add_parser(
        "demo", help="try Jigiya offline: the real bot, a local Telegram stand-in"
    )
    demo.add_argument(
        "--web",
        action="store_true",
        help="the trainers' playground: the survivor's, the officer's and the staff group's "
        "phones side by side in a web browser",
    )
    demo.add_argument("--port", type=_port, default=8080, help="with --web (default 8080)")
    demo.add_argument(
        "--listen",
        default="127.0.0.1",
        metavar="ADDR",
        help="with --web: the address to listen on (default 127.0.0.1, this machine only; "
        "0.0.0.0 lets a room reach it)",
    )
    content = commands.add_parser("content", help="work on the content files in content/")
    content.add_argument(
        "action",
        choices=["check", "export"],
        help="check: validate centres, numbers, places and officer protocols; list what is "
        "unverified, old or not yet translated. export: write the directory with the editors' "
        "approved changes (from BOT_DB_PATH) as CSV files to DIR",
    )
    content.add_argument("dir", nargs="?", type=Path, help="export: the folder to write to")
    report = commands.add_parser(
        "report", help="write the anonymous indicators, protected, as CSV for partners"
    )
    report.add_argument("--weeks", type=int, default=8, help="complete weeks to cover (default 8)")
    report.add_argument("--csv", type=Path, required=True, help="the CSV file to write")
    locales = commands.add_parser("locales", help="the translations made inside the bot")
    locales.add_argument(
        "action",
        choices=["coverage", "export"],
        help="coverage: how much of each language is approved (from BOT_DB_PATH and locales/). "
        "export: write the translations approved in the bot into locales/<lang>/LC_MESSAGES/"
        "messages.po, for a reviewed commit",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    # Before anything is created: the database, its -wal and -shm files and the generated key
    # are then the owner's alone (0600), whatever the shell's umask.
    os.umask(0o077)
    args = _parser().parse_args(argv)
    setup_logging()
    if args.command == "demo" and args.web:
        return _playground(args.listen, args.port)
    if args.command == "demo":
        return _demo()
    if args.command == "content" and args.action == "export":
        if args.dir is None:
            print("Usage: python -m bot content export DIR", file=sys.stderr)
            return EXIT_CONFIG
        return asyncio.run(_export(args.dir))
    if args.command == "report":
        if not 1 <= args.weeks <= 520:
            print("--weeks must be between 1 and 520", file=sys.stderr)
            return EXIT_CONFIG
        return asyncio.run(_report(args.weeks, args.csv))
    if args.command == "locales":
        return asyncio.run(_locales(args.action))
    if args.command == "content":
        from bot.content import main_check
        from bot.playground.scenarios import main_check as check_scenarios

        # The scenarios play the bot over the content: only once the content is sound.
        return main_check() or check_scenarios()
    try:
        settings = load_settings(allow_missing_token=args.demo_if_no_token)
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if settings.token is None:
        print("TELEGRAM_BOT_TOKEN is not set: starting the offline demo.", file=sys.stderr)
        return _demo()

    from bot.app import WebhookOptions, run

    webhook = None
    if args.webhook_url:
        host, port = args.listen
        webhook = WebhookOptions(url=args.webhook_url, host=host, port=port)
    try:
        asyncio.run(run(settings, webhook_options=webhook))
    except ConfigError as exc:  # a token Telegram refuses is found only once it is asked
        print(f"Configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    return 0


@contextlib.asynccontextmanager
async def _opened(db_path: Path) -> AsyncIterator[Store]:
    """The bot's database, for a command that reads what the bot has stored."""
    from state.store import Store

    store = await Store.open(db_path)
    try:
        yield store
    finally:
        await store.close()


async def _export(out_dir: Path) -> int:
    from bot.content import CONTENT_DIR, load_directory
    from bot.content.export import export
    from bot.editing import Editing

    async with _opened(load_settings(allow_missing_token=True).db_path) as store:
        editing = Editing(store, load_directory())
        await editing.load()
    for path in export(CONTENT_DIR, editing.applied, out_dir):
        print(f"Wrote {path}")
    return 0


async def _report(weeks: int, path: Path) -> int:
    from datetime import UTC, datetime

    from bot.content.protocols import load_protocols
    from bot.report import make, save_csv

    settings = load_settings(allow_missing_token=True)
    if not settings.db_path.exists():  # a wrong path would give an empty table, not an error
        print(f"No database at {settings.db_path} (BOT_DB_PATH)", file=sys.stderr)
        return EXIT_CONFIG
    async with _opened(settings.db_path) as store:
        protocols = [protocol.id for protocol in load_protocols()]
        report = await make(store, datetime.now(UTC).date(), weeks=weeks, protocols=protocols)
    save_csv(report, path)
    print(f"Wrote {path}: {report.weeks[0]} to {report.weeks[-1]}")
    return 0


def _port(value: str) -> int:
    if not value.isdecimal() or not 0 < int(value) < 65536:
        raise argparse.ArgumentTypeError("expected a port number, for example 8080")
    return int(value)


def _playground(host: str, port: int) -> int:
    from bot.playground.server import serve

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(host, port, stop)

    try:
        asyncio.run(main())
    except OSError as exc:  # the port is taken, or the address is not this machine's
        print(f"Cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        return EXIT_CONFIG
    return 0


async def _locales(action: str) -> int:
    from bot.content import load_directory
    from bot.flows.survivor import SurvivorFlow
    from bot.languages import CODES, DEFAULT
    from bot.translations import Translations, export

    async with _opened(load_settings(allow_missing_token=True).db_path) as store:
        translations = Translations(store)
        await translations.load(screens=SurvivorFlow(load_directory()).voice_screens())
    if action == "export":
        for path in export(translations):
            print(f"Wrote {path}")
        return 0
    for code in CODES:
        if code != DEFAULT:
            c = translations.coverage(code)
            print(f"{code}: {c.approved}/{c.total} approved; survivor screens "
                  f"{c.survivor_approved}/{c.survivor_total}; voice notes "
                  f"{len(translations.recorded(code))}/{len(translations.screens)}")  # fmt: skip
    return 0


def _demo() -> int:
    from bot.demo import run_demo

    return asyncio.run(run_demo())


if __name__ == "__main__":
    sys.exit(main())
