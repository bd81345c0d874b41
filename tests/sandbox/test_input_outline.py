"""The reflexion model's view of a package's inputs: paths, types, examples
(sandbox/input_outline.py)."""

from __future__ import annotations

import json

from sandbox.input_outline import outline

STATUS = {"updated": "2026-11-22T09:55:00Z", "services": [
    {"name": "api", "status": "ok", "p99_ms": 120},
    {"name": "checkout", "status": "degraded", "p99_ms": 870, "note": "p99 above its SLO"}]}


def test_a_json_body_is_shown_down_to_each_field_of_its_lists_items() -> None:
    """bench.quality average-p99: shown a preview cut at 400 characters, the rewrite read
    data['response_times'], which the page never had."""
    shown = outline({"status": {"status": 200, "text": json.dumps(STATUS), "json": STATUS}}).splitlines()
    assert "inputs['status']['status']: int, e.g. 200" in shown
    assert "inputs['status']['json']['services']: list of 2 objects, each:" in shown
    assert "inputs['status']['json']['services'][i]['p99_ms']: int, e.g. 120" in shown
    assert "inputs['status']['json']['services'][i]['note']: str, e.g. 'p99 above its SLO' (in 1 of 2)" in shown
    assert any(line.startswith("inputs['status']['text']: str, 1") for line in shown)


def test_a_files_text_is_shown_by_its_size_lines_and_start() -> None:
    text = "region,orders\n" + "".join(f"r{i},{i}\n" for i in range(100))
    line, columns = outline({"orders": {"content": text}}).splitlines()
    assert columns.startswith("inputs['orders']['content'] is CSV text with a header row: 100 data rows")
    assert line.startswith(f"inputs['orders']['content']: str, {len(text)} chars, 102 lines, starting 'region,orders\\nr0,0\\n")
    assert line.endswith("…")


def test_plain_values_lists_and_nothing() -> None:
    shown = outline({"n": 7, "flag": None, "rows": [[1, "x"], [2, "y"]], "tags": [], "cfg": {}})
    assert shown.splitlines() == [
        "inputs['n']: int, e.g. 7", "inputs['flag']: NoneType, e.g. None",
        "inputs['rows']: list of 2 (list): [[1, 'x'], [2, 'y']]", "inputs['tags']: empty list",
        "inputs['cfg']: empty dict"]
    assert outline({}) == "(no inputs)"


def test_the_outline_is_bounded() -> None:
    wide = {f"k{i}": i for i in range(40)}
    shown = outline({"wide": wide})
    assert "inputs['wide']['k11']: int, e.g. 11" in shown and "k12" not in shown
    assert "inputs['wide']: … and 28 more keys" in shown
    deep: dict[str, object] = {"v": 1}
    for _ in range(10):
        deep = {"d": deep}
    assert len(outline({"deep": deep}).splitlines()) == 1
    many = {f"x{i}": "y" * 500 for i in range(50)}
    assert len(outline(many, total=1000)) <= 1000 + len("\n[… truncated]")


def test_a_json_text_is_shown_parsed_and_a_csv_text_by_its_columns() -> None:
    """dev stalled-consumers: a 1.5B rewrite, shown only the start of a JSON file's text, read
    the object as a list of rows; and a CSV's columns were guessed."""
    body = {"cluster": "events-eu", "consumers": [{"name": "billing", "lag": 120}, {"name": "audit", "lag": 9}]}
    shown = outline({"queue": {"path": "queue/consumers.json", "content": json.dumps(body, indent=2)}}).splitlines()
    assert "inputs['queue']['content'] is JSON text; parsed, json.loads(inputs['queue']['content']) holds:" in shown
    assert "json.loads(inputs['queue']['content'])['consumers']: list of 2 objects, each:" in shown
    assert "json.loads(inputs['queue']['content'])['consumers'][i]['lag']: int, e.g. 120" in shown
    csv_text = "build,pipeline,result\nb-1,api,passed\nb-2,web,failed\n"
    assert outline({"builds": {"content": csv_text}}).splitlines()[1] == (
        "inputs['builds']['content'] is CSV text with a header row: 2 data rows, columns "
        "['build', 'pipeline', 'result'] (csv.DictReader's keys); first data row 'b-1,api,passed'")
    assert len(outline({"log": {"content": "10:00 GET / 200\n10:01 GET /x 404\n"}}).splitlines()) == 1


def test_a_yaml_text_is_shown_parsed_and_a_text_that_only_looks_like_keys_is_not() -> None:
    """fresh rollout: a 1.5B rewrite read ``safe_load(…)['new-checkout']`` of a YAML file whose
    flags are under ``flags``: the path to each value is shown."""
    flags = "owner: growth-team\nflags:\n  new-checkout:\n    enabled: true\n    rollout: 25\n"
    shown = outline({"flags": {"path": "config/flags.yaml", "content": flags}}).splitlines()
    assert "inputs['flags']['content'] is YAML text; parsed, yaml.safe_load(inputs['flags']['content']) holds:" in shown
    assert "yaml.safe_load(inputs['flags']['content'])['flags']['new-checkout']['rollout']: int, e.g. 25" in shown
    assert "yaml.safe_load(inputs['flags']['content'])['owner']: str, e.g. 'growth-team'" in shown
    for text in ("ERROR: disk full\nERROR: disk full again\nINFO: done\n",  # a key twice: a log, no mapping
                 "hello: world",  # one line
                 "# Notes\nOwner: Omar\n",  # its first line no key
                 "a,b\n1,2\n"):
        assert "YAML" not in outline({"x": {"content": text}}), text
