"""What every handler can reach: the services built at start, through a typed context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from telegram.ext import CallbackContext, ExtBot

from bot.config import Settings
from bot.conversation import ConversationRunner
from bot.exits import ExitGate
from bot.flows.officer import OfficerFlow
from bot.flows.survivor import SurvivorFlow
from bot.hotline.service import Hotline
from bot.i18n import Catalogs
from state.officers import Officers
from state.store import Store

SERVICES = "services"


@dataclass(frozen=True)
class Services:
    settings: Settings
    store: Store
    runner: ConversationRunner
    catalogs: Catalogs
    survivor: SurvivorFlow
    hotline: Hotline
    officer: OfficerFlow
    officers: Officers
    exits: ExitGate


class JigiyaContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    @property
    def services(self) -> Services:
        return cast(Services, self.bot_data[SERVICES])
