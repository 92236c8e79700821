"""Wiring: the one factory that builds the Application (production, tests and demo alike), and
the run loop around it: open the store, resume unfinished updates, receive, stop cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from telegram import Bot, BotCommand, Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    JobQueue,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.config import ConfigError, Settings
from bot.content import load_directory
from bot.content.protocols import Protocols, load_protocols
from bot.content.quiz import QuestionBank, load_questions
from bot.conversation import ConversationRunner
from bot.editing import Editing
from bot.exits import ExitGate
from bot.flows import editor, officer, review, translator
from bot.flows import quiz as knowledge
from bot.flows.editor import DirectoryReview, EditorFlow
from bot.flows.officer import OfficerFlow
from bot.flows.review import ReviewFlow
from bot.flows.screens import t
from bot.flows.survivor import SurvivorFlow
from bot.flows.translator import TranslationReview, TranslatorFlow
from bot.handlers import errors, groups, members, staff
from bot.handlers import private as private_chat
from bot.hotline.history import delete_old_topics
from bot.hotline.outbox import OutboxWorker
from bot.hotline.service import Hotline
from bot.i18n import Catalogs
from bot.indicators import Clock, Counter
from bot.keys import Keys, load_or_create_secret
from bot.languages import CODES
from bot.private_chat import PrivateChats
from bot.quiz import Quiz
from bot.report import next_report_at
from bot.services import Services
from bot.telegram import polling, webhook
from bot.telegram.application import JigiyaApplication
from bot.telegram.channel import TelegramChannel
from bot.telegram.context import CHATS, SERVICES, JigiyaContext
from bot.telegram.intake import Intake
from bot.telegram.ratelimit import OutgoingRateLimiter
from bot.telegram.transport import AiohttpRequest
from bot.translations import Translations
from state.inbox import Inbox
from state.officers import Officers, translator_language
from state.retention import purge_expired
from state.store import Store

log = logging.getLogger(__name__)

# Seconds between purges of what is kept only for a while. Each purge also folds the WAL, so
# no copy of a handled update stays on disk longer than this (the bound is a minute).
PURGE_INTERVAL = 30
TOPICS_INTERVAL = 3600  # seconds between deletions of the topics of cases closed long ago
REMIND_INTERVAL = 60  # seconds between looks for hotline cases nobody claimed in time
QUIZ_INTERVAL = 60  # seconds between looks for officers' weekly questions due

# Time allowed for updates in progress when asked to stop; the whole stop stays under 10 s.
DRAIN_SECONDS = 6.0

# The command menu, in each language of bot/languages.py through the catalogs.
COMMANDS = (
    ("start", t("Welcome")),
    ("menu", t("Menu")),
    ("language", t("Language")),
    ("exit", t("Quick exit")),
)


@dataclass(frozen=True)
class FixedContent:
    """Content no one changes while the bot runs (editors change the directory, not this):
    loaded once per process, and shared by the playground's many bots."""

    protocols: Protocols
    questions: QuestionBank

    @classmethod
    def load(cls) -> FixedContent:
        protocols = load_protocols()
        return cls(protocols, load_questions(protocols))


@dataclass(frozen=True)
class WebhookOptions:
    url: str
    host: str
    port: int


def build_application(
    settings: Settings,
    services: Services,
    *,
    request: Callable[..., BaseRequest] | None = None,
    paced: bool = True,
) -> Application:  # type: ignore[type-arg]
    """`request` makes the transport (HTTP by default; the playground hands requests to its
    emulator in process); `paced=False` lifts the pace of Telegram's limits (the playground's
    emulated worlds have none)."""
    if settings.token is None:
        raise ValueError("build_application needs a token")
    transport = request or AiohttpRequest
    limiter = OutgoingRateLimiter(gate=services.exits)
    if not paced:  # rates no emulated world reaches: answers at once
        limiter = OutgoingRateLimiter(
            gate=services.exits, private_max_rate=1000, private_time_period=1.0,
            overall_max_rate=1000,
        )  # fmt: skip
    application = (
        ApplicationBuilder()
        .application_class(JigiyaApplication)
        .token(settings.token)
        .base_url(settings.api_url)
        .base_file_url(settings.file_url)
        .request(transport())
        .get_updates_request(transport(connection_pool_size=1))  # one long poll at a time
        .updater(None)  # our intake receives updates: see bot/telegram/intake.py
        .rate_limiter(limiter)
        .context_types(ContextTypes(context=JigiyaContext))
        .build()
    )
    application.bot_data[SERVICES] = services
    application.bot_data[CHATS] = PrivateChats(services, TelegramChannel(application.bot))
    application.add_handlers(routes(settings))
    application.add_error_handler(errors.on_error)
    return application


def routes(settings: Settings) -> list[BaseHandler[Update, JigiyaContext, None]]:
    """The routing table: the first route that matches an update handles it, so the private
    catch-all comes last. A new feature is a flow, its screens and a line here."""
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE  # new messages, not edits
    table: list[BaseHandler[Update, JigiyaContext, None]] = []
    if settings.staff_chats:
        table += [
            MessageHandler(filters.Chat(chat_id=settings.staff_chats), staff.on_staff_message),
            CallbackQueryHandler(staff.on_case_button, pattern=staff.CASE_BUTTON),
        ]
    table += [
        CommandHandler(
            members.ADMIN_COMMANDS,
            members.on_admin_command,
            private & filters.User(user_id=settings.admin_ids),
        ),
        CommandHandler("officer", members.on_redeem, private, has_args=True),
        CommandHandler("start", members.on_redeem, private & members.InvitationCode()),
        CommandHandler(officer.COMMANDS, members.on_tool_command("officer"), private),
        CallbackQueryHandler(members.on_tool_button("officer"), pattern=f"^{officer.PREFIX}"),
        CommandHandler(editor.COMMANDS, members.on_tool_command("editor"), private),
        CallbackQueryHandler(members.on_tool_button("editor"), pattern=f"^{editor.PREFIX}"),
        CommandHandler(knowledge.COMMAND, members.on_quiz_command, private),
        CallbackQueryHandler(members.on_quiz_button, pattern=f"^{knowledge.PREFIX}"),
        CommandHandler(translator.COMMANDS, members.on_tool_command("translator"), private),
        CallbackQueryHandler(members.on_tool_button("translator"), pattern=f"^{translator.PREFIX}"),
        CommandHandler(review.COMMANDS, members.on_tool_command("review"), private),
        CallbackQueryHandler(members.on_tool_button("review"), pattern=f"^{review.PREFIX}"),
        ChatMemberHandler(groups.on_my_membership, ChatMemberHandler.MY_CHAT_MEMBER),
        MessageHandler(filters.ChatType.PRIVATE, private_chat.on_private_update),
        CallbackQueryHandler(private_chat.on_private_update),
    ]
    return table


async def run(
    settings: Settings,
    *,
    webhook_options: WebhookOptions | None = None,
    stop: asyncio.Event | None = None,
    request: Callable[..., BaseRequest] | None = None,
    paced: bool = True,
    content: FixedContent | None = None,
    clock: Clock | None = None,
) -> None:
    """Run until SIGTERM/SIGINT (or `stop` is set), then finish what is in progress and close.
    A caller that gives `stop` owns the signals (the playground runs many bots in one process).
    `request` and `paced`: see build_application. `content`: already loaded (the playground
    shares it between its worlds). `clock` dates the indicators' counts and the weekly report
    (moved by tests and the demo)."""
    on_signals = stop is None
    stop = stop or asyncio.Event()
    keys = Keys(load_or_create_secret(settings.secret, settings.secret_path))
    store = await Store.open(settings.db_path)
    counter = Counter(clock) if clock is not None else Counter()
    try:
        hotline = Hotline(store, keys, settings, counter)
        directory = load_directory()
        editing = Editing(store, directory)
        await editing.load()  # editors' approved changes, over the CSV files
        content = content or FixedContent.load()
        translations = Translations(store)
        survivor = SurvivorFlow(
            directory, settings.hotline_hours if hotline.configured else None,
            voices=translations, history_days=settings.staff_history_days,
        )  # fmt: skip
        # Approved translations over the catalogs, and which survivor screens have a voice.
        await translations.load(screens=survivor.voice_screens())
        services = Services(
            settings,
            store,
            ConversationRunner(store, keys, counter),
            translations.catalogs,
            survivor,
            hotline,
            OfficerFlow(content.protocols, directory),
            Officers(store, keys),
            ExitGate(),
            editing,
            EditorFlow(editing),
            Quiz(store, content.questions, counter=counter),
            translations,
            TranslatorFlow(translations, survivor),
            ReviewFlow([DirectoryReview(editing), TranslationReview(translations)]),
            counter,
        )
        await services.officers.active()  # members in memory, for the intake's first updates
        application = build_application(settings, services, request=request, paced=paced)
        if on_signals:  # before the first request: a stop signal also ends a wait for Telegram
            _stop_on_signals(stop)
        if not await _reach_telegram(application, stop):
            return
        async with application:
            await application.start()
            try:
                await _serve(application, services, keys, stop, webhook_options)
            finally:
                await application.stop()
    finally:
        await store.close()
        log.info("Stopped")


async def _serve(
    application: Application,  # type: ignore[type-arg]
    services: Services,
    keys: Keys,
    stop: asyncio.Event,
    webhook_options: WebhookOptions | None,
) -> None:
    """Receive updates and relay hotline messages until `stop`; then let work in progress end."""
    exits = services.exits
    channel: TelegramChannel = application.bot_data[CHATS].channel
    exits.delete = partial(_delete_late, application.bot)
    intake = Intake(
        application,
        Inbox(services.store, keys),
        exits,
        partial(private_chat.remember_unread, application),
        on_flood=partial(private_chat.flood_note, application),
        recorder=partial(_records_voice, services),
    )
    # The command menu is not needed to answer anyone: it goes out while polling starts.
    commands = asyncio.create_task(_set_commands(application, services.catalogs))
    _schedule_jobs(application, services)
    outbox_stop = asyncio.Event()
    worker = OutboxWorker(channel, services.store, keys, services.catalogs, services.hotline, exits)
    sending: asyncio.Task[None] | None = None
    try:
        # Replayed first: a quick exit among them closes her chat before the outbox sends.
        await intake.replay()
        sending = asyncio.create_task(worker.run(outbox_stop))
        log.info("Jigiya is running (%s)", "webhook" if webhook_options else "polling")
        if webhook_options is None:
            await polling.poll(application.bot, intake, stop)
        else:
            await webhook.serve(
                application.bot,
                intake,
                url=webhook_options.url,
                host=webhook_options.host,
                port=webhook_options.port,
                secret=keys.pseudonym("webhook-secret-token"),
                stop=stop,
            )
        await intake.drain(DRAIN_SECONDS)
    finally:
        outbox_stop.set()
        if sending is not None:
            await sending
        commands.cancel()  # still trying only if Telegram is down; it is set again next start
        await asyncio.gather(commands, return_exceptions=True)


async def _reach_telegram(application: Application, stop: asyncio.Event) -> bool:  # type: ignore[type-arg]
    """Initialise the bot (getMe), waiting out network faults and 5xx as polling does: the
    network or Telegram may be down when the bot starts. False if `stop` came first.

    Only the bot is initialised here, which is safe to retry (it opens its HTTP clients once);
    `async with application` then finds it ready and asks nothing more of Telegram."""
    try:
        await polling.until_stopped(polling.persist(application.bot.initialize, "getMe"), stop)
    except BaseException as exc:
        await application.bot.shutdown()  # close the HTTP clients initialize() opened
        if isinstance(exc, polling.Stopped):
            return False
        if isinstance(exc, InvalidToken):
            # PTB's message quotes the token: never let it reach a log.
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN was refused by Telegram: check it with @BotFather"
            ) from None
        raise
    return True


def _schedule_jobs(application: Application, services: Services) -> None:  # type: ignore[type-arg]
    settings = services.settings

    async def delete_topics(context: JigiyaContext) -> None:
        await delete_old_topics(
            context.bot, services.store, staff_history_days=settings.staff_history_days
        )

    async def purge(context: JigiyaContext) -> None:
        await services.counter.close_periods(services.store)  # a week just over, if any
        purged = await purge_expired(
            services.store,
            case_retention_days=settings.case_retention_days,
            person_retention_days=settings.person_retention_days,
        )
        if purged:
            log.info(
                "Purged past their time: %d message id(s), %d update id(s), %d closed case(s), "
                "%d invitation(s), %d person(s) gone quiet, %d rate window(s) and block(s)",
                purged.message_ids, purged.seen_updates, purged.closed_cases,
                purged.invitations, purged.people, purged.windows,
            )  # fmt: skip

    async def remind(context: JigiyaContext) -> None:
        await services.hotline.remind_unclaimed()

    job_queue = application.job_queue
    assert job_queue is not None  # python-telegram-bot[job-queue] is a dependency
    clock = services.counter.clock

    async def weekly_report(context: JigiyaContext) -> None:
        # The next one first: an administrator out of reach must not stop the weeks after. An
        # hour on, so that a timer firing a moment early cannot give this Monday twice.
        _schedule_report(job_queue, clock, weekly_report, later=timedelta(hours=1))
        for admin in settings.admin_ids:
            try:
                await members.send_report(context, admin)
            except Exception as exc:
                log.warning("The weekly report did not reach an administrator (%s)",
                            type(exc).__name__)  # fmt: skip

    async def weekly_questions(context: JigiyaContext) -> None:
        await members.send_weekly_questions(context)

    job_queue.run_repeating(purge, interval=PURGE_INTERVAL, first=1, name="purge")
    job_queue.run_repeating(
        weekly_questions, interval=QUIZ_INTERVAL, first=QUIZ_INTERVAL, name="quiz"
    )
    if settings.admin_ids:
        _schedule_report(job_queue, clock, weekly_report)
    if services.hotline.configured:
        job_queue.run_repeating(
            remind, interval=REMIND_INTERVAL, first=REMIND_INTERVAL, name="remind"
        )
        job_queue.run_repeating(
            delete_topics, interval=TOPICS_INTERVAL, first=TOPICS_INTERVAL, name="topics"
        )


def _records_voice(services: Services, user_id: int) -> bool:
    """A translator or administrator: their voice notes may be recordings to propose."""
    role = services.officers.known_role(user_id)
    return user_id in services.settings.admin_ids or translator_language(role) is not None


def _schedule_report(
    job_queue: JobQueue,  # type: ignore[type-arg]
    clock: Clock,
    callback: Callable[[JigiyaContext], Coroutine[Any, Any, None]],
    *,
    later: timedelta = timedelta(0),
) -> None:
    """The weekly report at the next Monday 08:00 Bamako time by `clock` (after `later`), as a
    delay from now: each report schedules the next, so a moved clock (the demo, a test) is
    followed at once."""
    now = clock()
    job_queue.run_once(callback, when=next_report_at(now + later) - now, name="weekly-report")


async def _delete_late(bot: Bot, chat: str, message_id: int) -> None:
    await bot.delete_message(int(chat), message_id)


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        # Not possible off the main thread (some tests) or on platforms without signals.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)


async def _set_commands(application: Application, catalogs: Catalogs) -> None:  # type: ignore[type-arg]
    try:
        for language in CODES:
            render = catalogs.translator(language).render
            await application.bot.set_my_commands(
                [BotCommand(name, render(text)) for name, text in COMMANDS],
                language_code=language,
            )
    except TelegramError as exc:
        log.warning("Could not set the command menu (%s); going on", type(exc).__name__)
