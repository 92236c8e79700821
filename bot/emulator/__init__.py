"""A loopback Telegram Bot API for end-to-end tests and the offline demo."""

from bot.emulator.clock import Clock
from bot.emulator.flood import FloodLimits, Limit
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
    "Clock",
    "FakeGroup",
    "FakeMember",
    "FakeUser",
    "FloodLimits",
    "Limit",
    "Topic",
    "WebhookAttempt",
]
