"""A CSV split by semicolons (decimal commas): found as such by every reader of tables
(agent/tools/files.delimiter_of, sandbox/table_rows, sandbox/csv_delimiters, the outlines)."""

from __future__ import annotations

import csv
import io

import pytest

from agent.execution.gateway import GreenToolGateway
from agent.model.file_shapes import shape_of
from agent.ports.sandbox import PackageJob, Sandbox, SandboxLimits
from agent.tools.files import delimiter_of
from infra.emulators.scripted_chat import ScriptedChatModel
from sandbox.csv_delimiters import inputs_delimiter, with_delimiters
from sandbox.input_outline import outline
from sandbox.reflexion import ReflexionPackageRunner
from sandbox.table_query import NAME, find_table
from sandbox.table_rows import column_types, query_rows, table_rows

BILL = ("period;project;amount_eur;owner\n"
        "2026-11;storefront;24,90;maja@example.net\n"
        "2026-11;storefront;1.089,00;oskar@example.net\n"
        "2026-11;search;707,40;maja@example.net\n")
COMMAS = "team,cost_usd\npayments,1240.50\nsearch,2210.00\n"


@pytest.mark.parametrize(("content", "suffix", "expected"), [
    (BILL, ".csv", ";"),
    (COMMAS, ".csv", ","),
    ("a|b|c\n1|2|3\n4|5|6\n", ".csv", "|"),
    ("a\tb\n1\t2\n", ".tsv", "\t"),
    ("a\tb\n1\t2\n", ".csv", "\t"),
    ("name\nalpha\nbeta\n", ".csv", ","),  # one column: nothing splits it, the suffix's stands
    ("a;b\n1;2;3\n", ".csv", ","),  # rows split unlike the header: not a table by ';' either
    ("", ".csv", ","),
])
def test_a_files_delimiter_is_its_suffixs_unless_another_splits_every_line_alike(
        content: str, suffix: str, expected: str) -> None:
    assert delimiter_of(content, suffix) == expected


def test_a_semicolon_csv_is_a_table_whose_decimal_commas_are_numbers_a_query_sums() -> None:
    assert table_rows(BILL, ".csv") is None  # (by commas: one column, no table)
    columns, rows = table_rows(BILL, ".csv", ";") or ([], [])
    assert columns == ["period", "project", "amount_eur", "owner"]
    assert [r["amount_eur"] for r in rows] == ["24.90", "1089.00", "707.40"]
    assert column_types(columns, rows)["amount_eur"] == "REAL"
    assert column_types(columns, rows)["period"] == "TEXT"  # (2026-11 is no decimal comma number)
    totals = query_rows(columns, rows, "SELECT owner, SUM(amount_eur) FROM data GROUP BY owner ORDER BY owner")
    assert totals == {"maja@example.net": 732.3, "oskar@example.net": 1089.0}


def test_a_comma_csvs_values_are_kept_as_written() -> None:
    """Decimal commas are read only where the fields are split by something else: in a comma
    CSV, a quoted ``"1,240"`` is a thousands separator, and it stays as written."""
    _, rows = table_rows('team,cost\npayments,"1,240"\nsearch,"2,210"\n', ".csv") or ([], [])
    assert [r["cost"] for r in rows] == ["1,240", "2,210"]


def test_a_column_of_words_and_numbers_is_left_as_written() -> None:
    _, rows = table_rows("host;load\nweb-1;0,5\nweb-2;n/a\n", ".csv", ";") or ([], [])
    assert [r["load"] for r in rows] == ["0,5", "n/a"]


CODE = """import csv, io
rows = list(csv.DictReader(io.StringIO(inputs['bill']['content'])))
named = csv.DictReader(io.StringIO(inputs['bill']['content']), delimiter=',')
result = sum(float(r['amount_eur'].replace('.', '').replace(',', '.')) for r in rows)
"""


def test_package_code_reads_a_semicolon_csv_by_its_semicolons() -> None:
    inputs = {"bill": {"path": "billing/nov.csv", "content": BILL}}
    assert inputs_delimiter(inputs) == ";"
    mended = with_delimiters(CODE, inputs)
    assert mended is not None
    assert "csv.DictReader(io.StringIO(inputs['bill']['content']), delimiter=';')" in mended
    assert "delimiter=',')" in mended  # a call naming its delimiter is left as written
    assert mended.count("delimiter=") == 2 and with_delimiters(mended, inputs) is None  # once


@pytest.mark.parametrize("inputs", [
    {"bill": {"path": "costs.csv", "content": COMMAS}},  # commas already
    {"a": {"path": "a.csv", "content": BILL}, "b": {"path": "b.csv", "content": COMMAS}},  # two ways
    {"bill": {"path": "notes.txt", "content": BILL}},  # no CSV read
    {"bill": "period;amount\n"},
])
def test_code_is_left_alone_unless_every_csv_is_split_by_one_other_delimiter(inputs: dict[str, object]) -> None:
    assert with_delimiters(CODE, inputs) is None


def test_code_that_does_not_parse_is_left_alone() -> None:
    assert with_delimiters("rows = csv.DictReader(", {"bill": {"path": "b.csv", "content": BILL}}) is None


def test_the_outlines_say_how_a_semicolon_csv_is_split() -> None:
    described = outline({"bill": {"path": "billing/nov.csv", "content": BILL}})
    assert "columns ['period', 'project', 'amount_eur', 'owner']" in described
    assert "delimiter=';'" in described
    shape = shape_of("billing/nov.csv", BILL) or ""
    assert shape.startswith("CSV split by ';'; columns: period, project, amount_eur, owner")
    assert "CSV split" not in (shape_of("costs.csv", COMMAS) or "")
    rows = list(csv.DictReader(io.StringIO(BILL), delimiter=delimiter_of(BILL, ".csv")))
    assert rows[1]["owner"] == "oskar@example.net"


async def test_a_query_over_a_semicolon_csv_sums_it_in_the_sandbox(
        sandbox: Sandbox, gateway: GreenToolGateway, limits: SandboxLimits) -> None:
    """The whole path: the table found outside, the query compiled with the delimiter, and run
    in the real sandbox, which reads the file as dagbot did (weekend mail-cost-owners)."""
    inputs = {"bill": {"path": "billing/nov.csv", "content": BILL}}
    table = find_table(inputs)
    assert table is not None and table.delimiter == ";" and table.types["amount_eur"] == "REAL"
    llm = ScriptedChatModel(replies=["```sql\nSELECT owner, SUM(amount_eur) AS total FROM data GROUP BY owner\n```"])
    runner = ReflexionPackageRunner(sandbox, llm, limits, max_attempts=2, table_queries=True)
    job = PackageJob(thread_id="T1", run_id="R1", node_id="totals", goal="each owner's total", code="",
                     inputs=inputs, request="What is each owner's total in billing/nov.csv?", final=True)

    async def _none(event: object) -> None:
        return None

    outcome = await runner.run(job, gateway, _none)
    assert outcome.ok and outcome.output == {"maja@example.net": 732.3, "oskar@example.net": 1089.0}, outcome
    assert [a.mended_by for a in outcome.attempts] == [NAME]


def test_a_tsvs_numbers_are_kept_as_written_and_a_huge_first_line_is_no_table() -> None:
    """Review: a TSV's 1,200 was read as 1.2; a line over csv's field limit raised."""
    _, rows = table_rows("host\tamount\tports\na\t1,200\t80,443\nb\t350\t22\n", ".tsv") or ([], [])
    assert [(r["amount"], r["ports"]) for r in rows] == [("1,200", "80,443"), ("350", "22")]
    assert delimiter_of("x" * 200_000 + "\n1\n", ".csv") == ","


def test_the_delimiter_goes_after_the_argument_and_code_splitting_its_own_way_is_left_alone() -> None:
    inputs = {"bill": {"path": "billing/nov.csv", "content": BILL}}
    trailing = "import csv, io\nrows = csv.DictReader(\n    io.StringIO(inputs['bill']['content']),  # the bill\n)\n"
    mended = with_delimiters(trailing, inputs)
    assert mended is not None and "io.StringIO(inputs['bill']['content']), delimiter=';'," in mended
    compile(mended, "<package>", "exec")
    own = "import csv, io\nrows = csv.DictReader(io.StringIO(inputs['bill']['content'].replace(';', ',')))\n"
    assert with_delimiters(own, inputs) is None
