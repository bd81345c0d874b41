"""The joiner's answer: a plan's answer template, streaming the model's text, vetting it
(no raw tool calls, no claims of changes not made), recording which runs answered.
"""
