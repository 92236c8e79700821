"""The channel seam: what the core asks of a messaging channel. Telegram (bot/telegram/channel.py)
is the first; docs/channels.md says what a second one implements and how the quick exit degrades.

Chats are named by the channel's own ids, as opaque text; message ids are the channel's integers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.flows.screens import Output
from bot.i18n import Translator


class Channel(Protocol):
    name: str

    async def show(
        self,
        chat: str,
        outputs: Sequence[Output],
        translator: Translator,
        shown: list[int],
        *,
        replace: int | None = None,
    ) -> None:
        """Show the outputs in order, in the translator's language. The id of each new message
        is added to `shown` as soon as it is sent, so the caller knows what reached the chat
        even when a later output fails. A lone screen answering a button replaces the message
        `replace` when the channel can. Instructions such as `Handover` show nothing."""

    async def delete(self, chat: str, message_ids: Sequence[int]) -> list[int]:
        """Delete what can be deleted; the ids whose deletion failed for a reason that may pass
        (a network fault), for her next quick exit to try again."""

    async def relay(
        self,
        to_chat: str,
        from_chat: str,
        message_id: int,
        *,
        thread: int | None = None,
        silent: bool = False,
    ) -> int:
        """Copy one message between two chats (hers and the staff group's topic `thread`),
        without its sender; the new message's id. `silent`: without a notification sound, as a
        `Screen.silent` is shown."""
