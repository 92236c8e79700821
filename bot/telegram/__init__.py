"""Telegram, the first channel: receiving updates (polling, webhook) and handling them in order
(intake), and sending at Telegram's pace (rate limiter, transport, channel)."""
