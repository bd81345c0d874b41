"""The engine's seams: the small typed interfaces through which it reaches stores, audit,
the access policy, other processes (ownership) and the sandbox. Fakes and infra implement them.
"""
