"""Access: who may ask for what, where, and who may approve it. The policy and its approvers
(pure), the policy applied in Slack (:mod:`bot.access.access`: user groups resolved), and the
engine's standing approvals as the policy allows them now."""
