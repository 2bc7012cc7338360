"""Durable background jobs on PostgreSQL (Procrastinate): FHIR ``$export``, reminders, registry rebuilds,
schedule planning, run by ``vertebro worker`` processes that share one queue (decision 0022).

On SQLite there is no queue: the server runs exports in its own process and the commands run the rest.
"""
