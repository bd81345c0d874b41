"""The part of a request a file's table answers (sandbox/request_parts.py): each question on its
own file, the table's query shown only its own."""

from __future__ import annotations

import dataclasses

import pytest

from agent.ports.sandbox import PackageJob
from sandbox.request_parts import part_about
from sandbox.table_query import TWO_VALUES_RULE, find_table, query_task, two_values_rule

TWO_FILES = ("How much RAM does db-01 have (metrics/db-01.prom), and which relay host does postfix send "
             "through (mail/main.cf)?")


def test_each_question_goes_to_the_file_it_names() -> None:
    assert part_about(TWO_FILES, "metrics/db-01.prom", ["mail/main.cf"]) == (
        "How much RAM does db-01 have (metrics/db-01.prom)")
    assert part_about(TWO_FILES, "mail/main.cf", ["metrics/db-01.prom"]) == (
        "which relay host does postfix send through (mail/main.cf)?")


def test_questions_after_a_file_that_name_none_go_on_about_it() -> None:
    request = ("In data/costs.csv, what did payments spend? How much of it was compute? "
               "Who is primary in team/oncall.yaml?")
    assert part_about(request, "data/costs.csv", ["team/oncall.yaml"]) == (
        "In data/costs.csv, what did payments spend? How much of it was compute?")
    # a file named by its name alone counts as named
    assert part_about("What's the total in costs.csv? Who is on call per oncall.yaml?", "data/costs.csv",
                      ["team/oncall.yaml"]) == "What's the total in costs.csv?"


def test_nothing_is_left_out_where_the_questions_are_not_each_on_their_own_file() -> None:
    # one file: the whole request is its own
    assert part_about(TWO_FILES, "metrics/db-01.prom", []) is None
    # a question naming both files: it is not the table's alone
    assert part_about("Compare metrics/db-01.prom and mail/main.cf: which is newer?", "metrics/db-01.prom",
                      ["mail/main.cf"]) is None
    # no question names the table's file
    assert part_about("What is the total, and who is on call?", "data/costs.csv", ["team/oncall.yaml"]) is None
    # every question is about the table's file
    assert part_about("How many rows does data/costs.csv have, and what is their total?", "data/costs.csv",
                      ["team/oncall.yaml"]) is None


def test_the_query_over_one_of_two_files_is_shown_its_own_question_alone() -> None:
    metrics = ("# TYPE node_memory_MemTotal_bytes gauge\nnode_memory_MemTotal_bytes 6.8719476736e+10\n"
               "# TYPE node_load15 gauge\nnode_load15 2.51\n")
    inputs = {"db": {"path": "metrics/db-01.prom", "content": metrics},
              "main": {"path": "mail/main.cf", "content": "# relay\nrelayhost = [smtp.example.org]:587\n"
                                                   "maximal_queue_lifetime = 2d\n"}}
    table = find_table(inputs)
    assert table is not None and table.source == "metrics/db-01.prom" and table.others == ("mail/main.cf",)
    job = PackageJob(thread_id="T", run_id="R", node_id="computed", code="", inputs=inputs, request=TWO_FILES,
                     goal=f"Compute from the inputs every value this request asks for: {TWO_FILES}")
    task = query_task(job, table)
    assert "relay" not in task and "mail/main.cf" not in task
    assert task.count("How much RAM does db-01 have (metrics/db-01.prom)") == 2  # (the goal's and the request's)
    assert task.endswith("Compute the value the request needs from this table (metrics/db-01.prom).")


@pytest.mark.parametrize(("request_text", "path", "others", "part"), [
    # a file named after its question belongs to it
    ("How much RAM does db-01 have? (metrics/db-01.prom) Which relay does postfix use? (mail/main.cf)",
     "metrics/db-01.prom", ["mail/main.cf"], "How much RAM does db-01 have? (metrics/db-01.prom)"),
    ("What's the total spend? Use costs.csv. Who is on call? See oncall.yaml.", "data/costs.csv",
     ["team/oncall.yaml"], "What's the total spend? Use costs.csv."),
    # abbreviations end no sentence
    ("What is the total in e.g. costs.csv? What is in x.json?", "costs.csv", ["x.json"],
     "What is the total in e.g. costs.csv?"),
    # one question over two files, and relative clauses: nothing to leave out
    ("Which users are in users.csv and are not in admins.csv?", "users.csv", ["admins.csv"], None),
    ("For each host in hosts.csv, what is its owner in owners.csv?", "hosts.csv", ["owners.csv"], None),
    ("Which hosts in hosts.csv, which are listed in maint.csv, are down?", "hosts.csv", ["maint.csv"], None),
    ("How does billing.csv compare vs. the budget in budget.json?", "billing.csv", ["budget.json"], None),
])
def test_parts_follow_the_questions_not_every_full_stop_or_comma(
        request_text: str, path: str, others: list[str], part: str | None) -> None:
    assert part_about(request_text, path, others) == part


def test_two_quantities_on_two_files_are_one_each_for_each_files_query() -> None:
    request = "How much did payments spend in data/costs.csv, and how many pages are in data/pages.csv?"
    inputs = {"costs": {"path": "data/costs.csv", "content": "team,cost\npayments,3\nsearch,4\n"},
              "pages": {"path": "data/pages.csv", "content": "not,a\n"}}
    table = find_table({"costs": inputs["costs"]})
    assert table is not None
    job = PackageJob(thread_id="T", run_id="R", node_id="n", goal="g", code="", inputs=inputs, request=request)
    assert two_values_rule(job) == TWO_VALUES_RULE  # (the whole request asks two)
    beside = dataclasses.replace(table, others=("data/pages.csv",))
    assert two_values_rule(job, beside) == ""  # (its own file's question asks one)
