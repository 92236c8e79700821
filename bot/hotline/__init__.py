"""Hotline handover: cases, the durable outbox that relays messages, and working hours."""
