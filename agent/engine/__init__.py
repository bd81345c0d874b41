"""The engine: the LangGraph graph (planner, scheduler, joiner), the thread runner under its
lease, recovery, the error boundary, and :class:`~agent.engine.engine.Engine`, its front door.
"""
