"""Schedules: ``/agent every weekday at 09:00 <request>`` runs a request in a new thread at each
firing, as the person who made it (docs/schedules.md)."""
