"""Telegram, the first channel: receiving updates (polling, webhook, intake), keeping them in order
(processor), and sending at Telegram's pace (rate limiter, transport, channel)."""
