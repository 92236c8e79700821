"""A loopback Telegram Bot API for end-to-end tests and the offline demo."""

from bot.emulator.people import FakeGroup, FakeMember, FakeUser
from bot.emulator.records import ApiCall, ChatEvent, WebhookAttempt
from bot.emulator.server import BotApiEmulator
from bot.emulator.wire import ApiError
from bot.emulator.world import Topic

__all__ = [
    "ApiCall",
    "ApiError",
    "BotApiEmulator",
    "ChatEvent",
    "FakeGroup",
    "FakeMember",
    "FakeUser",
    "Topic",
    "WebhookAttempt",
]
