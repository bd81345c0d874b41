"""The access policy file: parsing with precise errors, DAGBOT_APPROVERS folded in, the rules (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.policy import Policy, PolicyError, check_policy_tools, load_policy, parse_policy

EXAMPLE = """\
channels: [C0OPS, C0DEPLOY]
direct_messages: false
tools:
  "*":
    approvers: [S0SRE]
  deploy:
    requesters: [S0SRE, U0ALICE]
    channels: [C0DEPLOY]
  send_email:
    approvers: [U0BOB]
"""


def problems(text: str) -> list[str]:
    with pytest.raises(PolicyError) as refused:
        parse_policy(text, "policy.yml")
    return refused.value.problems


def test_the_example_reads_as_documented() -> None:
    policy = parse_policy(EXAMPLE)
    assert policy.answers_in("C0OPS", direct=False) and not policy.answers_in("C0RANDOM", direct=False)
    assert not policy.answers_in("D0ALICE", direct=True)
    # a tool's entry overrides '*' field by field
    assert policy.requesters_for("deploy") == ("S0SRE", "U0ALICE") and policy.requesters_for("lookup") is None
    assert policy.channels_for("deploy") == ("C0DEPLOY",) and policy.channels_for("send_email") is None
    assert policy.approvers_for("deploy") == ("S0SRE",) and policy.approvers_for("send_email") == ("U0BOB",)
    assert policy.supervisors == ("S0SRE",) and policy.groups() == {"S0SRE"}


def test_no_policy_keeps_the_defaults(tmp_path: Path) -> None:
    for policy in (load_policy(None), parse_policy(""), parse_policy("# nothing yet\n")):
        assert policy == Policy()
        assert policy.answers_in("C0ANY", direct=False) and policy.answers_in("D0ANY", direct=True)
        assert policy.requesters_for("deploy") is None and policy.approvers_for("deploy") == ()


def test_every_problem_is_named_with_its_line_and_place() -> None:
    assert problems("""\
channels: [C0OPS, ops]
direct_messages: maybe
tools:
  deploy:
    requesters: U0ALICE
    approvers:
      - U0BOB
      - bob
    approver: [U0CAROL]
  "*":
    approvers: []
""") == [
        "policy.yml:1: channels[1]: 'ops' is not a Slack channel id (C…/G…); the channel's details in "
        "Slack show it",
        "policy.yml:2: direct_messages: should be true or false",
        "policy.yml:5: tools.deploy.requesters: should be a list, e.g. [U0123ABCD, S0456EFGH]",
        "policy.yml:8: tools.deploy.approvers[1]: 'bob' is not a Slack user id (U…/W…) or user group id (S…)",
        "policy.yml:9: tools.deploy.approver: unknown key 'approver' (expected requesters, channels, approvers)",
        "policy.yml:11: tools.*.approvers: an empty list would mean nobody may approve; leave the key out "
        "for the default",
    ]


@pytest.mark.parametrize(("text", "expected"), [
    ("tools: [deploy", "policy.yml:1: not valid YAML: expected ',' or ']', but got '<stream end>'"),
    ("tools:\n  deploy: {}\n  deploy: {}\n", "policy.yml:3: tools: 'deploy' is given twice"),
    ("- deploy\n", "policy.yml:1: the policy must be a mapping with 'channels', 'direct_messages' and/or 'tools'"),
    ("tool:\n  deploy: {}\n", "policy.yml:1: tool: unknown key 'tool' (expected channels, direct_messages, tools)"),
    ("tools:\n  deploy: yes\n", "policy.yml:2: tools.deploy: should be a mapping with requesters, channels "
                                "and/or approvers"),
    ("channels: []\n", "policy.yml:1: channels: an empty list would mean the bot answers nowhere; leave the "
                       "key out for the default"),
])
def test_malformed_files(text: str, expected: str) -> None:
    assert problems(text) == [expected]


def test_dagbot_approvers_folds_in_and_clashes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "access.yml"
    path.write_text(EXAMPLE)
    policy = load_policy(path, '{"deploy": ["U0CAROL"]}')
    assert policy.approvers_for("deploy") == ("U0CAROL",)
    assert policy.requesters_for("deploy") == ("S0SRE", "U0ALICE")  # the file's rule is kept
    assert load_policy(None, '{"*": ["S0OPS"]}').approvers_for("anything") == ("S0OPS",)
    with pytest.raises(PolicyError, match=r"DAGBOT_APPROVERS and access\.yml both name approvers for "
                                          "'send_email': keep them in one place"):
        load_policy(path, '{"send_email": ["U0CAROL"]}')
    with pytest.raises(PolicyError, match="DAGBOT_APPROVERS is not valid JSON"):
        load_policy(path, "{nope")


def test_an_unreadable_file_and_unknown_tools_are_start_up_errors(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"DAGBOT_POLICY_FILE: cannot read .*missing.yml: No such file"):
        load_policy(tmp_path / "missing.yml")
    policy = parse_policy("tools:\n  deplyo:\n    requesters: [U0ALICE]\n")
    with pytest.raises(PolicyError, match=r"policy.yml: tools.deplyo: dagbot has no tool of that name "
                                          r"\(its tools: deploy, lookup\)"):
        check_policy_tools(policy, ["lookup", "deploy"], "policy.yml")
    check_policy_tools(parse_policy(EXAMPLE), ["deploy", "send_email"], "policy.yml")
