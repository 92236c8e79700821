"""What every handler can reach: the services built at start, through a typed context."""

from __future__ import annotations

from typing import Any, cast

from telegram.ext import CallbackContext, ExtBot

from bot.services import Services

SERVICES = "services"  # the key of bot_data that holds them


class JigiyaContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    @property
    def services(self) -> Services:
        return cast(Services, self.bot_data[SERVICES])
