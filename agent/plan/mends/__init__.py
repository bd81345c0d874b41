"""Mends: the rewrites dagbot makes to a model's plan when its slip has one plain fix.

:mod:`agent.plan.mends.contract` says what a mend is; :mod:`agent.plan.mends.pipeline` lists
them in the order they run. Validation is parse → mends → checks (:mod:`agent.plan.validation`).
"""
