"""When schedules fire (:mod:`bot.inbound.schedules`): APScheduler 4's triggers and its scheduler on
dagbot's database, so that each firing happens once across replicas (docs/schedules.md)."""
