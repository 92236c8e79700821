"""The last line of defence: log the error's class and the update id, never the update."""

from __future__ import annotations

import logging

from telegram import Update

from bot.exits import CalledOff
from bot.telegram.context import JigiyaContext

log = logging.getLogger(__name__)


async def on_error(update: object, context: JigiyaContext) -> None:
    update_id = update.update_id if isinstance(update, Update) else None
    error = context.error
    if isinstance(error, CalledOff):
        return  # she left by the quick exit while this answer was waiting: as it should be
    # No traceback text with values in it: only where it happened.
    where = ""
    if error is not None and error.__traceback__ is not None:
        tb = error.__traceback__
        while tb.tb_next is not None:
            tb = tb.tb_next
        where = f" at {tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}"
    log.error(
        "Handling update %s failed: %s%s", update_id, type(error).__name__ if error else "?", where
    )
