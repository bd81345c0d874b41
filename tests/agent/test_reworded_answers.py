"""A joiner that pasted the results list is asked once to word them (agent/answer/stream.py's
``reworded``); pasted again, dagbot's own account of the steps stands."""

from __future__ import annotations

from langchain_core.messages import AIMessage

from agent.answer.stream import REWORD, SAY_WHAT
from agent.answer.vetting import says_nothing
from agent.events import AnswerReady
from agent.model.matching_lines import matching_lines_reply, matching_lines_section, pasted_other_lines
from infra.emulators.scripted_chat import ScriptedChatModel
from tests.agent.harness import asked_once
from tests.agent.test_named_rows import ROTATION, rotation_registry
from tests.fakes.tools import files_registry


async def test_a_joiner_that_pasted_the_results_list_is_asked_once_to_word_them() -> None:
    """wide find-wal: the joiner wrote ``- note_read: done → {…}``, and the person got dagbot's
    summary of every step instead of a sentence."""
    plan = {"nodes": [{"id": "rotation", "read_file": {"path": "ops/rotation.yaml"}}]}
    pasted = '- rotation: done → {"path": "ops/rotation.yaml", "content": "rotation: platform-primary"}'
    llm = ScriptedChatModel(replies=[plan, pasted, "The rotation is platform-primary."])
    events = await asked_once(llm, rotation_registry(), "worded", "Which rotation does ops/rotation.yaml hold?")
    assert [e.answer for e in events if isinstance(e, AnswerReady)] == ["The rotation is platform-primary."]
    assert isinstance(llm.calls[-1][-2], AIMessage) and llm.calls[-1][-2].content == pasted
    assert llm.calls[-1][-1].content == REWORD
    # pasted again: dagbot's own account of the steps, as before
    llm = ScriptedChatModel(replies=[plan, pasted, pasted])
    events = await asked_once(llm, rotation_registry(), "worded", "Which rotation does ops/rotation.yaml hold?")
    [answer] = [e.answer for e in events if isinstance(e, AnswerReady)]
    assert answer.startswith("Here is what the steps did") and "rotation: platform-primary" in answer
    assert len(llm.calls) == 3


async def test_a_joiner_that_only_repeated_the_request_is_asked_once_to_say_what_the_results_hold() -> None:
    """monday search-unscheduled: "why won't the new search pod get scheduled?" was answered "The
    new search pod is not scheduled because it is in the `k8s/events-shop-prod.txt` file."."""
    ask = "who is the secondary in week 2026-W50 of ops/rotation.yaml?"
    plan = {"nodes": [{"id": "rotation", "read_file": {"path": "ops/rotation.yaml"}}]}
    empty = "The secondary in week 2026-W50 is listed in the `ops/rotation.yaml` file."
    llm = ScriptedChatModel(replies=[plan, empty, "It is farah."])
    events = await asked_once(llm, rotation_registry(), "said", ask)
    assert [e.answer for e in events if isinstance(e, AnswerReady)] == ["It is farah."]
    assert llm.calls[-1][-2].content == empty and llm.calls[-1][-1].content == SAY_WHAT
    # empty again: dagbot shows the lines of the read that share the most of the request's words
    # (nothing is asked a third time)
    llm = ScriptedChatModel(replies=[plan, empty, "The secondary for 2026-W50 is in ops/rotation.yaml."])
    events = await asked_once(llm, rotation_registry(), "said", ask)
    [answer] = [e.answer for e in events if isinstance(e, AnswerReady)]
    assert "listed in the `ops/rotation.yaml` file" not in answer and len(llm.calls) == 3
    assert answer.startswith("I could not word an answer") and "```\n  - week: 2026-W50\n```" in answer


def test_the_lines_that_share_the_most_of_the_requests_words_are_shown() -> None:
    events = ("52m   Normal    Scheduled          pod/checkout-1   Successfully assigned shop/checkout-1\n"
              "9m    Warning   FailedScheduling   pod/search-2     0/6 nodes are available: 2 Insufficient memory\n"
              "2m    Normal    SuccessfulRescale  hpa/catalog      New size: 5\n")
    read = {"events": {"status": "done", "output": {"path": "k8s/events.txt", "content": events}}}
    shown = matching_lines_reply("why won't the new search pod get scheduled? see k8s/events.txt", read)
    assert shown is not None and "Insufficient memory" in shown and "checkout-1" not in shown
    # one word of the request, or every line as good as another: no line is the answer
    assert matching_lines_reply("why is search slow?", read) is None
    assert matching_lines_reply("which pod events are there?", read) is None
    assert matching_lines_reply("why won't the search pod get scheduled?", {"events": {"status": "failed"}}) is None


def test_an_answer_says_something_when_it_gives_a_word_or_number_of_a_result_the_request_lacks() -> None:
    results = {"rotation": {"status": "done", "output": {"path": "ops/rotation.yaml", "content": ROTATION}}}
    ask = "who is the secondary in week 2026-W50 of ops/rotation.yaml?"
    assert says_nothing("The secondary in week 2026-W50 is in ops/rotation.yaml.", results, ask)
    for said in ("farah", "The secondary in 2026-W50 is Farah.", "Yes.", "No, nobody is.",
                 "The rotation is platform-primary; its weeks start at 2026-W48."):
        assert not says_nothing(said, results, ask), said
    # a failure's words are what the results hold too; no result, nothing to say
    failed = {"rotation": {"status": "failed", "error": "read_file failed: no such file"}}
    assert not says_nothing("There is no such file: ops/rotation.yaml.", failed, ask)
    assert not says_nothing("The secondary in week 2026-W50 is in ops/rotation.yaml.", {}, ask)


EVENTS = "".join(f"{n}m   Normal   Pulled   pod/web-{n}   Successfully pulled image web:{n}\n" for n in range(8)) + (
    "2m   Normal   ScalingReplicaSet   deployment/checkout   Scaled up replica set checkout-5c6 to 1\n"
    "2m   Normal   SuccessfulRescale   horizontalpodautoscaler/catalog   New size: 5; reason: cpu above target\n")
ASKED_SIZE = "what size did the catalog autoscaler go to according to k8s/events.txt?"


def test_the_joiner_is_shown_the_lines_of_a_longer_read_that_match_the_request() -> None:
    """monday rollback-time-and-catalog-size: asked of the events file alone, the joiner gave the
    first line's "to 1" (a replica set's) for the autoscaler's ``New size: 5``."""
    read = {"events": {"status": "done", "output": {"path": "k8s/events.txt", "content": EVENTS}}}
    assert matching_lines_section(ASKED_SIZE, read) == (
        "## Lines of the files read that share the most words with the request\nk8s/events.txt:\n"
        "2m   Normal   SuccessfulRescale   horizontalpodautoscaler/catalog   New size: 5; reason: cpu above target")
    # marked as data where the result is; a short read is read whole; no line stands out: none
    marked = {"events": {**read["events"], "untrusted": "read_file"}}
    assert '<untrusted source="read_file">2m   Normal   SuccessfulRescale' in matching_lines_section(ASKED_SIZE,
                                                                                                   marked)
    short = {"events": {"status": "done", "output": {"path": "k8s/events.txt", "content": EVENTS[-200:]}}}
    assert matching_lines_section(ASKED_SIZE, short) == ""
    assert matching_lines_section("which pods are there in k8s/events.txt?", read) == ""


async def test_the_joiners_prompt_holds_the_matching_lines_before_the_request() -> None:
    plan = {"nodes": [{"id": "events", "read_file": {"path": "k8s/events.txt"}}]}
    llm = ScriptedChatModel(replies=[plan, "The catalog autoscaler went to 5."])
    events = await asked_once(llm, files_registry(EVENTS), "lines", ASKED_SIZE)
    assert [e.answer for e in events if isinstance(e, AnswerReady)] == ["The catalog autoscaler went to 5."]
    prompt = str(llm.calls[1][-1].content)
    section = prompt.index("## Lines of the files read that share the most words with the request")
    assert prompt.index("## Results") < section < prompt.index("## Request")
    assert "horizontalpodautoscaler/catalog   New size: 5" in prompt[section:prompt.index("## Request")]



HANDOVER = (
    "# On-call handover\n\n- **From:** Mei Chen (mei.chen@example.net)\n- **To:** Ravi Patel (ravi.patel@example.net)\n"
    "- **Secondary:** Kwame Asante (kwame.asante@example.net)\n\n## Open issues\n\n"
    "- **clickstream_hourly** has been failing since 02:00. Owner: @slindqvist (sofia.lindqvist@example.net)\n"
    "- **billing_export** failed twice overnight; the rerun passed. Owner: @dnovak (dana.novak@example.net)\n"
    "- **orders_daily_etl** backfill failed on a lock timeout. Owner: @kasante (kwame.asante@example.net)\n")


def test_a_name_joined_by_underscores_picks_its_line_and_a_tables_header_is_no_match() -> None:
    """tuesday follow-up-mail-dana: "Who is looking after the billing_export failures, per …?" was
    answered with the handover's first three people; the issue's own line names its owner."""
    read = {"notes": {"status": "done", "output": {"path": "notes/handover.md", "content": HANDOVER}}}
    shown = matching_lines_section("Who is looking after the billing_export failures, per notes/handover.md?", read)
    assert shown.endswith("- **billing_export** failed twice overnight; the rerun passed. Owner: @dnovak "
                          "(dana.novak@example.net)")
    assert "Mei Chen" not in shown and "orders_daily_etl" not in shown
    # a hyphenated word is one plain word: no line stands out for "the bill" alone
    assert matching_lines_section("Who looks after billing-export, per notes/handover.md?", read) == ""
    # the header of a CSV names columns: it is no line of values the request asks for
    rows = "team,service,month,cost_usd\n" + "".join(f"team_{n},svc{n},2026-11,{n}0\n" for n in range(9))
    table = {"costs": {"status": "done", "output": {"path": "finance/costs.csv", "content": rows}}}
    assert matching_lines_section("What is the total cost_usd per team in finance/costs.csv?", table) == ""
    assert matching_lines_section("Which service does team_3 run, per finance/costs.csv?", table).endswith(
        "finance/costs.csv:\nteam_3,svc3,2026-11,30")


def test_a_longer_word_few_lines_of_a_log_hold_picks_those_lines_and_not_in_other_files() -> None:
    """tuesday checkpoint-and-handover-author: "how long did the checkpoint in … take all told?"
    was answered from a PostgreSQL log's first line; two of its lines name the checkpoint."""
    statements = "".join(f"2026-12-01 0{n}:00:00 UTC LOG:  duration: {n}1.5 ms  statement: SELECT {n}\n"
                         for n in range(8))
    checkpoint = ("2026-12-01 04:25:30 UTC LOG:  checkpoint starting: time\n"
                  "2026-12-01 04:30:00 UTC LOG:  checkpoint complete: wrote 9120 buffers; total=270.112 s\n")
    asked = "how long did the checkpoint in postgres/slow.log take all told"
    log = {"log": {"status": "done", "output": {"path": "postgres/slow.log", "content": statements + checkpoint}}}
    assert matching_lines_section(asked, log).endswith(checkpoint.rstrip())
    # the same words in a YAML file: its lines are no events, and one word is no match
    settings = {"cfg": {"status": "done", "output": {"path": "pg/settings.yaml", "content": statements + checkpoint}}}
    assert matching_lines_section(asked, settings) == ""


TOP_OF_HANDOVER = ("- **From:** Mei Chen (mei.chen@example.net)\n- **To:** Ravi Patel (ravi.patel@example.net)\n"
                   "- **Secondary:** Kwame Asante (kwame.asante@example.net)")
ASKED_OWNER = "Who is looking after the billing_export failures, per notes/handover.md?"


async def test_a_joiner_that_pasted_lines_other_than_those_that_match_gives_way_to_them() -> None:
    """tuesday follow-up-mail-dana: the answer was the handover's first three lines; "send her …"
    then mailed those three people."""
    plan = {"nodes": [{"id": "notes", "read_file": {"path": "notes/handover.md"}}]}
    llm = ScriptedChatModel(replies=[plan, TOP_OF_HANDOVER])
    events = await asked_once(llm, files_registry(HANDOVER), "pasted", ASKED_OWNER)
    [answer] = [e.answer for e in events if isinstance(e, AnswerReady)]
    assert "Owner: @dnovak (dana.novak@example.net)" in answer and "mei.chen" not in answer


def test_an_answer_in_its_own_words_or_quoting_the_matching_line_is_no_paste() -> None:
    read = {"notes": {"status": "done", "output": {"path": "notes/handover.md", "content": HANDOVER}}}
    assert pasted_other_lines(TOP_OF_HANDOVER, ASKED_OWNER, read)
    assert not pasted_other_lines("Dana Novak (dana.novak@example.net) looks after billing_export.", ASKED_OWNER,
                                  read)
    quoted = "- **billing_export** failed twice overnight; the rerun passed. Owner: @dnovak (dana.novak@example.net)"
    assert not pasted_other_lines(f"{TOP_OF_HANDOVER}\n{quoted}", ASKED_OWNER, read)
    assert not pasted_other_lines(TOP_OF_HANDOVER, "Who wrote notes/handover.md?", read)  # (no line matches)
