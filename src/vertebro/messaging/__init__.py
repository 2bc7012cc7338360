"""Delivering messages to patients through one ``Outbox`` interface (SMTP, or the demo outbox)."""
