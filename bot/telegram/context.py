"""What every handler can reach through a typed context: the services built at start, and
private chats over the Telegram channel."""

from __future__ import annotations

from typing import Any, cast

from telegram.ext import CallbackContext, ExtBot

from bot.private_chat import PrivateChats
from bot.services import Services

SERVICES = "services"  # the keys of bot_data that hold them
CHATS = "chats"


class JigiyaContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    @property
    def services(self) -> Services:
        return cast(Services, self.bot_data[SERVICES])

    @property
    def chats(self) -> PrivateChats:
        return cast(PrivateChats, self.bot_data[CHATS])
