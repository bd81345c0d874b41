"""A table of named values (sandbox/named_values.py): one value read by its name, a share as one
value over another, not a share of rows."""

from __future__ import annotations

from agent.ports.sandbox import PackageJob
from sandbox.named_values import named_difference, named_share, named_value_rule, named_values
from sandbox.query_checks import query_faults
from sandbox.table_query import SHARE_RULE, find_table, share_rule
from sandbox.table_rows import query_rows

METRICS = """\
# TYPE node_memory_MemTotal_bytes gauge
node_memory_MemTotal_bytes 3.4359738368e+10
# TYPE node_memory_MemAvailable_bytes gauge
node_memory_MemAvailable_bytes 8.589934592e+09
# TYPE node_filesystem_avail_bytes gauge
node_filesystem_avail_bytes{mountpoint="/"} 1.073741824e+10
node_filesystem_avail_bytes{mountpoint="/srv"} 5.36870912e+11
# TYPE node_load1 gauge
node_load1 0.42
"""
REQUEST = "What percentage of web-4's memory is in use, going by metrics/web-4.prom?"


def job(request: str = REQUEST) -> PackageJob:
    return PackageJob(thread_id="T", run_id="R", node_id="computed", goal="g", code="", request=request,
                      inputs={"m": {"path": "metrics/web-4.prom", "content": METRICS}})


def test_metrics_are_a_table_of_named_values_and_a_share_is_one_value_over_another() -> None:
    table = find_table(job().inputs)
    assert table is not None and named_values(table) == ("metric", "value")
    rule = share_rule(job(), table)
    assert rule != SHARE_RULE and "COUNT(*)" not in rule.replace("not a count of rows", "")
    assert "(SELECT value FROM data WHERE metric = '<its metric>')" in rule and "its mountpoint" in rule
    # the share the rule shows: computed right, and no fault told of it
    used = ("SELECT 100.0 * (1 - (SELECT value FROM data WHERE metric = 'node_memory_MemAvailable_bytes') / "
            "(SELECT value FROM data WHERE metric = 'node_memory_MemTotal_bytes')) AS used_pct")
    assert query_rows(table.columns, table.rows, used) == 75.0
    assert query_faults(table, job(), used) == []
    # no share asked: only how one value is read
    free = share_rule(job("How much is free on /srv in metrics/web-4.prom?"), table)
    assert free.startswith("- Each row is one named value") and "percentage" not in free


def test_a_table_of_rows_keeps_the_share_of_rows() -> None:
    rows = "team,status\npayments,failed\nsearch,ok\ncheckout,ok\n"
    table = find_table({"r": {"path": "runs.csv", "content": rows}})
    assert table is not None and named_values(table) is None
    assert named_value_rule(table, share=True) == ""
    assert share_rule(job("What share of the runs failed?"), table) == SHARE_RULE


def test_a_table_of_people_or_of_repeated_names_is_no_table_of_named_values() -> None:
    hosts = find_table({"r": {"path": "hosts.csv", "content": "name,team,cpu\na,search,2\nb,web,4\nc,search,8\n"}})
    assert hosts is not None and named_values(hosts) is None
    pay = find_table({"r": {"path": "pay.csv", "content": "name,value\nalice,3\nbob,4\nalice,5\ncarol,1\n"}})
    assert pay is not None and named_values(pay) is None


MEMINFO = "MemTotal:        8148324 kB\nMemFree:          301876 kB\nMemAvailable:    1833373 kB\n" \
          "SwapTotal:       2097148 kB\n"


def test_a_share_of_one_named_value_in_another_not_divided_is_computed_one_over_the_other() -> None:
    """weekend mem-available-share: told it never used MemTotal, the model queried MemAvailable alone."""
    table = find_table({"m": {"path": "lb-02/meminfo.txt", "content": MEMINFO}})
    assert table is not None
    wrong = "SELECT value FROM data WHERE name = 'MemAvailable'"
    for asked in ("What percentage of MemTotal is MemAvailable in lb-02/meminfo.txt?",
                  "What is MemAvailable as a percentage of MemTotal?"):
        mended = named_share(table, asked, wrong)
        assert mended is not None and query_rows(table.columns, table.rows, mended) == 22.5
    # no share asked, a query that divides already, two wholes or one name: as written
    assert named_share(table, "How much is MemAvailable, and MemTotal?", wrong) is None
    assert named_share(table, "What percentage of MemTotal is MemAvailable?",
                       "SELECT 100.0 * 1833373 / 8148324") is None
    assert named_share(table, "What share of MemTotal is MemAvailable of MemFree?", wrong) is None
    assert named_share(table, "What percentage of MemTotal is free?", wrong) is None


def test_a_share_of_what_is_used_or_left_is_no_share_of_one_named_value() -> None:
    table = find_table({"m": {"path": "lb-02/meminfo.txt", "content": MEMINFO}})
    assert table is not None
    assert named_share(table, "How much swap is in use as a percentage of SwapTotal (SwapFree is what is left)?",
                       "SELECT value FROM data WHERE name = 'SwapFree'") is None


SWAP = MEMINFO + "SwapFree:        1310716 kB\nSwapCached:        61440 kB\n"


def test_what_is_used_of_a_named_whole_not_subtracted_is_its_total_less_its_free() -> None:
    """weekend swap-used-mib: the query read one value alone; the used is the total less the free,
    in the values' unit (786432 kB, which the answer shows as 768 MiB)."""
    table = find_table({"m": {"path": "lb-02/meminfo.txt", "content": SWAP}})
    assert table is not None
    for wrong in ("SELECT value FROM data WHERE name = 'SwapTotal'", "SELECT SUM(value) FROM data"):
        mended = named_difference(table, "how much swap is lb-02 using, in MiB? lb-02/meminfo.txt", wrong)
        assert mended is not None
        assert query_rows(table.columns, table.rows, mended) == "786432 kB"
    # memory: the total less what is available (before what is free)
    memory = named_difference(table, "How much memory is in use on lb-02?", "SELECT value FROM data")
    assert memory is not None and query_rows(table.columns, table.rows, memory) == f"{8148324 - 1833373} kB"


def test_no_used_asked_a_query_that_subtracts_or_no_named_whole_is_left_as_written() -> None:
    table = find_table({"m": {"path": "lb-02/meminfo.txt", "content": SWAP}})
    assert table is not None
    wrong = "SELECT value FROM data WHERE name = 'SwapTotal'"
    assert named_difference(table, "how much swap does lb-02 have?", wrong) is None
    subtracts = "SELECT (SELECT value FROM data WHERE name = 'SwapTotal') - 1310716"
    assert named_difference(table, "how much swap is used?", subtracts) is None
    assert named_difference(table, "how much disk is used?", wrong) is None  # no DiskTotal
    assert named_difference(table, "how much of the swap and the memory is used?", wrong) is None  # two
    rows = find_table({"r": {"path": "hosts.csv", "content": "name,team,cpu\na,search,2\nb,web,4\nc,x,8\n"}})
    assert rows is not None and named_difference(rows, "how much cpu is used?", "SELECT cpu FROM data") is None


def test_what_is_free_a_share_another_value_or_one_of_several_hosts_is_no_used_of_a_whole() -> None:
    table = find_table({"m": {"path": "lb-02/meminfo.txt", "content": SWAP}})
    assert table is not None
    available = "SELECT value FROM data WHERE name = 'MemAvailable'"
    assert named_difference(table, "How much memory is available on lb-02? Answer using MiB.", available) is None
    assert named_difference(table, "How much memory is used by the page cache (SwapCached)?",
                            "SELECT value FROM data WHERE name = 'SwapCached'") is None
    assert named_difference(table, "What share of swap is in use?", "SELECT value FROM data") is None
    assert named_difference(table, "what is the swap in use, over the total?",
                            "SELECT 1.0 * (SELECT value FROM data WHERE name = 'SwapFree') / 2") is None
    low = find_table({"m": {"path": "m.txt", "content": SWAP + "LowTotal: 10 kB\nLowFree: 5 kB\n"}})
    assert low is not None  # (Low… is named by "low", not by "lower")
    assert named_difference(low, "how much swap is used, at the lower end?", "SELECT value FROM data") is not None
    labelled = find_table({"m": {"path": "m.csv", "content": "host,name,value\nlb-01,SwapTotal,100\n"
                                                              "lb-01,SwapFree,90\nlb-02,SwapTotal,200\n"
                                                              "lb-02,SwapFree,50\nlb-01,SwapCached,1\n"
                                                              "lb-02,SwapCached,2\n"}})
    assert labelled is not None and named_values(labelled) is not None
    assert named_difference(labelled, "how much swap is lb-02 using?",
                            "SELECT value FROM data WHERE host = 'lb-02' AND name = 'SwapTotal'") is None
