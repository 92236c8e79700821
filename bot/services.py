"""The services built once at start and shared by every channel adapter and job."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.config import Settings
from bot.conversation import ConversationRunner
from bot.editing import Editing
from bot.exits import ExitGate
from bot.flows.editor import EditorFlow
from bot.flows.officer import OfficerFlow
from bot.flows.review import ReviewFlow
from bot.flows.survivor import SurvivorFlow
from bot.flows.translator import TranslatorFlow
from bot.hotline.service import Hotline
from bot.i18n import Catalogs
from bot.indicators import Counter
from bot.quiz import Quiz
from bot.translations import Translations
from state.officers import Officers
from state.store import Store


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
    editing: Editing
    editor: EditorFlow
    quiz: Quiz
    translations: Translations
    translator: TranslatorFlow
    review: ReviewFlow
    counter: Counter = field(default_factory=Counter)  # the indicators' counts, and their clock
