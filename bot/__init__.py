"""Jigiya: helps survivors of gender-based violence in Mali reach help, on Telegram."""

import os

# Opt in to python-telegram-bot's timedelta time periods now, instead of its deprecation warnings.
os.environ.setdefault("PTB_TIMEDELTA", "true")
