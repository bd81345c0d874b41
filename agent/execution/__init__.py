"""Running a validated plan: the scheduler, green and red calls, fan-outs, approvals,
packages in the sandbox, early starts while the plan streams, and what they report.
"""
