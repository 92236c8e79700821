"""python-telegram-bot handlers: one per line of the routing table (bot/app.py `routes`)."""
