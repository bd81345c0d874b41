"""The plan: its JSON format, references between nodes, validation, where a change may go,
and which nodes may start. Pure functions: no I/O.
"""
