"""A JUnit XML report and a DNS zone file are tables (sandbox/table_rows.py): a row per test case
and per record, which a query reads in the real sandbox."""

from __future__ import annotations

import pytest

from agent.execution.gateway import GreenToolGateway
from agent.ports.sandbox import PackageJob, Sandbox, SandboxLimits
from infra.emulators.scripted_chat import ScriptedChatModel
from sandbox.reflexion import ReflexionPackageRunner
from sandbox.table_query import NAME, find_table
from sandbox.table_rows import query_rows, table_rows

JUNIT = """<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="smoke" tests="5" failures="1" errors="1" skipped="1">
  <testsuite name="checkout" tests="2">
    <testcase classname="smoke.checkout" name="add_to_cart" time="2.118"/>
    <testcase classname="smoke.checkout" name="apply_voucher" time="3.902">
      <failure message="expected HTTP 200, got 502">AssertionError</failure>
    </testcase>
  </testsuite>
  <testsuite name="search" tests="3">
    <testcase classname="smoke.search" name="facet_filters" time="0.912"><error message="connection reset"/></testcase>
    <testcase classname="smoke.search" name="sort_by_price" time="2.264"/>
    <testcase classname="smoke.search" name="suggest" time="0"><skipped>disabled on weekends</skipped></testcase>
  </testsuite>
</testsuites>
"""
ZONE = """\
; shop.example.net
$ORIGIN shop.example.net.
$TTL 3600
@        IN  SOA   ns1.example.net. hostmaster.example.net. (
                   2026112801 ; serial
                   7200 900 1209600 300 )
         IN  NS    ns1.example.net.
         IN  MX    10 mx1.mail.example.net.
         IN  MX    20 mx2.mail.example.net.
api  300 IN  A     198.51.100.20
www      IN  CNAME shop.example.net.
_dmarc   IN  TXT   "v=DMARC1; p=quarantine"
"""


def test_a_junit_report_is_a_row_per_test_case_with_its_outcome() -> None:
    columns, rows = table_rows(JUNIT, ".xml") or ([], [])
    assert columns == ["suite", "classname", "name", "time", "status", "message"]
    assert [(r["suite"], r["name"], r["status"], r["message"]) for r in rows] == [
        ("checkout", "add_to_cart", "passed", None),
        ("checkout", "apply_voucher", "failed", "expected HTTP 200, got 502"),
        ("search", "facet_filters", "errored", "connection reset"),
        ("search", "sort_by_price", "passed", None),
        ("search", "suggest", "skipped", "disabled on weekends")]
    failing = query_rows(columns, rows, "SELECT name FROM data WHERE status IN ('failed', 'errored')")
    assert failing == ["apply_voucher", "facet_filters"]
    # one suite alone at the top is a report too
    alone = '<testsuite name="unit"><testcase classname="t" name="a"/><testcase classname="t" name="b"/></testsuite>'
    assert [r["name"] for r in (table_rows(alone, ".xml") or ([], []))[1]] == ["a", "b"]


@pytest.mark.parametrize("text", [
    # entities declared: never expanded, not parsed at all
    '<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "aaaa">]><testsuite><testcase name="&a;"/></testsuite>',
    "<testsuites><testsuite><testcase name='a'>",  # cut short
    "<html><body>a report</body></html>",
])
def test_what_is_no_junit_report_is_no_table_of_tests(text: str) -> None:
    found = table_rows(text, ".xml")
    assert found is None or "status" not in found[0]


def test_a_zone_file_is_a_row_per_record_its_names_and_ttls_as_the_file_means_them() -> None:
    columns, rows = table_rows(ZONE, ".zone") or ([], [])
    assert columns == ["name", "ttl", "class", "type", "data"]
    assert rows[0] == {"name": "shop.example.net.", "ttl": "3600", "class": "IN", "type": "SOA",
                       "data": "ns1.example.net. hostmaster.example.net. 2026112801 7200 900 1209600 300"}
    assert [(r["name"], r["ttl"], r["type"], r["data"]) for r in rows[1:]] == [
        ("shop.example.net.", "3600", "NS", "ns1.example.net."),
        ("shop.example.net.", "3600", "MX", "10 mx1.mail.example.net."),
        ("shop.example.net.", "3600", "MX", "20 mx2.mail.example.net."),
        ("api", "300", "A", "198.51.100.20"),
        ("www", "3600", "CNAME", "shop.example.net."),
        ("_dmarc", "3600", "TXT", "v=DMARC1; p=quarantine")]


@pytest.mark.parametrize("text", [
    "api IN A 198.51.100.20\nwww IN CNAME shop.example.net.\n",  # no SOA and no $ line: not certain
    "$TTL 3600\napi IN A 198.51.100.20\nthis line is prose\n",
    "$TTL 3600\n@ IN SOA ns1. host. ( 1 2 3\n",  # an SOA never closed
])
def test_what_is_no_whole_zone_file_is_no_table_of_records(text: str) -> None:
    found = table_rows(text, ".zone")
    assert found is None or "type" not in found[0]


async def _none(event: object) -> None:
    return None


async def test_a_query_over_a_junit_report_runs_in_the_sandbox(
        sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits) -> None:
    """weekend failing-tests-to-file: the planner's code looked for ``test`` elements; a query
    over the report's rows finds the failing ones."""
    inputs = {"report": {"path": "ci/smoke.xml", "content": JUNIT}}
    table = find_table(inputs)
    assert table is not None and "status" in table.columns
    llm = ScriptedChatModel(replies=["```sql\nSELECT name FROM data WHERE status IN ('failed', 'errored')\n```"])
    runner = ReflexionPackageRunner(sandbox, llm, limits, max_attempts=2, table_queries=True)
    job = PackageJob(thread_id="T1", run_id="R1", node_id="failing", goal="the failing tests", code="",
                     inputs=inputs, request="which tests failed or errored in ci/smoke.xml?", final=True)
    outcome = await runner.run(job, gateway, _none)
    assert outcome.ok and outcome.output == ["apply_voucher", "facet_filters"], outcome
    assert [a.mended_by for a in outcome.attempts] == [NAME]


CERTS = """\
Saving debug log to /var/log/letsencrypt/letsencrypt.log
Found the following certs:
  Certificate Name: api.shop.example.net
    Domains: api.shop.example.net
    Expiry Date: 2026-12-04 07:31:55+00:00 (VALID: 6 days)
  Certificate Name: status.shop.example.net
    Domains: status.shop.example.net
    Expiry Date: 2026-11-27 23:59:59+00:00 (INVALID: EXPIRED)
- - - - - - - - - - - - - - - - - - - -
"""


def test_records_of_key_value_lines_opened_by_one_key_are_a_row_each() -> None:
    """weekend expired-cert: certbot's listing was no table, and the planner's code returned a path."""
    columns, rows = table_rows(CERTS, ".txt") or ([], [])
    assert columns == ["certificate_name", "domains", "expiry_date"]
    assert rows[1] == {"certificate_name": "status.shop.example.net", "domains": "status.shop.example.net",
                       "expiry_date": "2026-11-27 23:59:59+00:00 (INVALID: EXPIRED)"}
    expired = query_rows(columns, rows, "SELECT certificate_name FROM data WHERE expiry_date LIKE '%EXPIRED%'")
    assert expired == "status.shop.example.net"


@pytest.mark.parametrize("text", [
    "MemTotal: 8148324 kB\nMemFree: 301876 kB\nMemAvailable: 1833373 kB\n",  # no key opens two records
    "Name: a\nSize: 1\nsome prose in between\nName: b\nSize: 2\n",  # a line of no record inside
    "Name: a\nName: b\nName: c\n",  # records of one field: a list, not records
    "Name: a\nSize: 1\nSize: 2\nName: b\nSize: 3\n",  # a key twice in one record
])
def test_what_is_no_run_of_records_is_no_table_of_them(text: str) -> None:
    found = table_rows(text, ".txt")
    assert found is None or found[0] != ["name", "size"]


def test_a_page_of_comments_is_looked_at_in_linear_time_and_is_no_report() -> None:
    """Review: a pattern of repeated comments backtracked exponentially on a page of them."""
    found = table_rows("<!---->" * 5000 + "<html>", ".html")
    assert found is None or "status" not in found[0]
    found = table_rows("<?xml version='1.0'?><!-- made by ci --><!-- twice -->\n" + JUNIT.split("?>", 1)[1], ".xml")
    assert found is not None and found[0][-2:] == ["status", "message"]


@pytest.mark.parametrize("text", ["()\n", ")\n", "( )\n", "$ ls\nfoo A bar\nbaz A qux\n"])
def test_stray_parentheses_or_a_shell_prompt_are_no_zone_and_raise_nothing(text: str) -> None:
    found = table_rows(text, ".txt")
    assert found is None or "type" not in found[0]


def test_a_txt_records_strings_are_one_text_and_an_escaped_quote_keeps_its_comment_out() -> None:
    zone = ('$TTL 300\n@ IN SOA ns1. host. ( 1 2 3 4 5 )\n'
            'k._domainkey IN TXT ( "v=DKIM1; p=ABC" "DEF" )\n'
            'note IN TXT "say \\"hi; there\\" ok" ; a comment\n')
    rows = (table_rows(zone, ".zone") or ([], []))[1]
    assert [r["data"] for r in rows[1:]] == ["v=DKIM1; p=ABCDEF", 'say \\"hi; there\\" ok']


def test_key_value_lines_before_the_records_are_no_records_of_them() -> None:
    """Review: a meeting's Date and Attendees before its Action/Owner pairs were dropped."""
    notes = "Date: 2026-11-28\nAttendees: maja, ren\nAction: renew\nOwner: ren\nAction: reboot\nOwner: maja\n"
    found = table_rows(notes, ".txt")
    assert found is None or found[0] != ["action", "owner"]
