"""The database: tables and their Alembic migrations, the stores behind the engine's and the
bot's ports, the LangGraph checkpointer, thread ownership and signals between replicas.
"""
