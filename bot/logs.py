"""Logging that cannot leak the token or a person's words.

httpx logs every request URL, and the token is part of every Bot API URL, so httpx is kept at
WARNING; a filter also masks anything shaped like a token that slips into a record.
"""

from __future__ import annotations

import logging
import re

_TOKEN = re.compile(r"\d{3,15}:[A-Za-z0-9_-]{30,}")


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _TOKEN.search(message):
            record.msg, record.args = _TOKEN.sub("<token>", message), None
        return True


def setup_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactTokens())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # DEBUG in these libraries writes URLs with the token, API parameters and whole updates.
    for noisy in ("httpx", "httpcore", "telegram", "apscheduler", "aiosqlite", "transitions"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
