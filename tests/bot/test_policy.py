"""The access policy file: parsing with precise errors, DAGBOT_APPROVERS folded in, the rules (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.access.approvers import ApproverPolicy
from bot.access.policy import Policy, PolicyError, check_policy_tools, load_policy, parse_policy

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
        "policy.yml:9: tools.deploy.approver: unknown key 'approver' (expected requesters, channels, approvers, "
        "standing, standing_granters)",
        "policy.yml:11: tools.*.approvers: an empty list would mean nobody may approve; leave the key out "
        "for the default",
    ]


@pytest.mark.parametrize(("text", "expected"), [
    ("tools: [deploy", "policy.yml:1: not valid YAML: expected ',' or ']', but got '<stream end>'"),
    ("tools:\n  deploy: {}\n  deploy: {}\n", "policy.yml:3: tools: 'deploy' is given twice"),
    ("- deploy\n", "policy.yml:1: the policy must be a mapping with 'channels', 'direct_messages' and/or 'tools'"),
    ("tool:\n  deploy: {}\n", "policy.yml:1: tool: unknown key 'tool' (expected channels, direct_messages, tools)"),
    ("tools:\n  deploy: yes\n", "policy.yml:2: tools.deploy: should be a mapping with requesters, channels, "
                                "approvers, standing and/or standing_granters"),
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


@pytest.mark.parametrize(("approvers", "expected"), [
    ('{"deploy": []}', ['DAGBOT_APPROVERS["deploy"] is an empty list, which would mean nobody may approve '
                        "'deploy'; leave \"deploy\" out for the default (the requester approves)"]),
    ('{"deploy": ["U0BOB", "Ubob", "bob"]}',
     ["DAGBOT_APPROVERS[\"deploy\"][1]: 'Ubob' is not a Slack user id (U…/W…) or user group id (S…)",
      "DAGBOT_APPROVERS[\"deploy\"][2]: 'bob' is not a Slack user id (U…/W…) or user group id (S…)"]),
    ('{"*": [], "send_email": {"U0BOB": 1}}',
     ['DAGBOT_APPROVERS["*"] is an empty list, which would mean nobody may approve any tool; leave "*" out '
      "for the default (the requester approves)",
      'DAGBOT_APPROVERS["send_email"] should be a list of Slack user ids (U…/W…) and user group ids (S…), '
      'e.g. {"deploy": ["U0123ABCD", "S0456EFGH"]}']),
])
@pytest.mark.parametrize("with_file", [False, True], ids=["no policy file", "with a policy file"])
def test_dagbot_approvers_is_checked_like_the_file(tmp_path: Path, approvers: str, expected: list[str],
                                                   with_file: bool) -> None:
    """The same setting is refused the same way whether or not a policy file is given: never
    taken as "the requester approves" (an empty list) or as an approver nobody can be."""
    path = tmp_path / "access.yml"
    path.write_text("tools:\n  deploy:\n    requesters: [U0ALICE]\n")
    with pytest.raises(PolicyError) as refused:
        load_policy(path if with_file else None, approvers)
    assert refused.value.problems == expected


def test_approvers_folded_in_are_validated_as_the_file_is() -> None:
    """Rules built in code (not parsed from the setting) go through the same checks."""
    policy = parse_policy("tools:\n  deploy:\n    requesters: [U0ALICE]\n")
    with pytest.raises(PolicyError) as refused:
        policy.with_approvers(ApproverPolicy({"deploy": ("Ubob",), "lookup": ()}))
    assert refused.value.problems == [
        "DAGBOT_APPROVERS[\"deploy\"][0]: 'Ubob' is not a Slack user id (U…/W…) or user group id (S…)",
        'DAGBOT_APPROVERS["lookup"]: an empty list would mean nobody may approve; leave the key out for the '
        "default"]
    merged = policy.with_approvers(ApproverPolicy({"deploy": ("U0BOB",)}))
    assert merged.approvers_for("deploy") == ("U0BOB",) and merged.requesters_for("deploy") == ("U0ALICE",)


def test_an_unreadable_file_and_unknown_tools_are_start_up_errors(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"DAGBOT_POLICY_FILE: cannot read .*missing.yml: No such file"):
        load_policy(tmp_path / "missing.yml")
    policy = parse_policy("tools:\n  deplyo:\n    requesters: [U0ALICE]\n")
    with pytest.raises(PolicyError, match=r"policy.yml: tools.deplyo: dagbot has no tool of that name "
                                          r"\(its tools: deploy, lookup\)"):
        check_policy_tools(policy, ["lookup", "deploy"], "policy.yml")
    check_policy_tools(parse_policy(EXAMPLE), ["deploy", "send_email"], "policy.yml")


def test_standing_approvals_are_offered_unless_the_policy_says_never() -> None:
    policy = parse_policy("""\
tools:
  "*":
    standing_granters: [S0SRE]
  deploy:
    standing: false
  send_email:
    approvers: [U0BOB]
    standing_granters: [U0BOB, U0CAROL]
""")
    assert not policy.offers_standing("deploy") and policy.offers_standing("send_email")
    assert policy.offers_standing("lookup") and Policy().offers_standing("deploy")
    assert policy.standing_granters_for("send_email") == ("U0BOB", "U0CAROL")
    assert policy.standing_granters_for("lookup") == ("S0SRE",) and Policy().standing_granters_for("x") is None
    assert policy.groups() == {"S0SRE"} and "U0CAROL" in policy.users()
    assert parse_policy('tools:\n  "*":\n    standing: false\n').offers_standing("send_email") is False
    assert problems("tools:\n  deploy:\n    standing: maybe\n    standing_granters: []\n") == [
        "policy.yml:3: tools.deploy.standing: should be true or false",
        "policy.yml:4: tools.deploy.standing_granters: an empty list would mean nobody may give a standing "
        "approval (say standing: false); leave the key out for the default"]
