"""Plain slips in the code the sandbox's model writes are mended before it runs
(sandbox/written_mends.py): made-up ``inputs``, a function never called, a file opened by path."""

from __future__ import annotations

from typing import Any

from sandbox.written_mends import (
    mended_written_code,
    with_standard_imports,
    without_made_up_inputs,
    without_unused_missing_imports,
)

INPUTS: dict[str, Any] = {"orders": {"path": "data/orders.csv", "content": "region,orders\nnorth,120\nsouth,95\n",
                                     "size": 33, "truncated": False}}
WRITTEN = """import csv

def compute_total_orders(inputs):
    with open(inputs['orders']['path'], 'r') as file:
        rows = list(csv.DictReader(file))
    return {'total_orders': sum(int(r['orders']) for r in rows)}

# Example usage
inputs = {
    'orders': {'path': 'data/orders.csv', 'content': 'region,orders\\nnorth,1\\n'}
}

result = compute_total_orders(inputs)
print(result)
"""


def test_the_writers_script_runs_on_the_real_inputs_and_their_text() -> None:
    """bench.quality tuning orders-total: every slip at once, as the writer wrote them."""
    mended = mended_written_code(WRITTEN, INPUTS)
    assert "inputs = {" not in mended and "open(" not in mended
    assert "io.StringIO(inputs['orders']['content'])" in mended
    scope: dict[str, Any] = {"inputs": INPUTS}
    exec(mended, scope)  # (the test's own code: what the sandbox would run)
    assert scope["result"] == {"total_orders": 215}


def test_a_function_never_called_is_called() -> None:
    code = "def total(inputs):\n    return len(inputs['orders']['content'])\n"
    assert mended_written_code(code, INPUTS).endswith("\n\nresult = total(inputs)\n")


def test_code_with_no_slip_is_left_as_it_is() -> None:
    code = "import csv, io\nrows = list(csv.DictReader(io.StringIO(inputs['orders']['content'])))\nresult = len(rows)"
    assert mended_written_code(code, INPUTS) == code
    assert without_made_up_inputs(code) is None
    assert without_made_up_inputs("inputs = (") is None  # does not parse: Python's error says why


def test_a_function_it_calls_that_sets_result_for_itself_sets_the_packages() -> None:
    """tuning orders-total: ``def compute(): … result = {…}`` then ``compute()``: the package's
    ``result`` stayed unset."""
    code = ("import csv, io\n\ndef compute():\n    rows = list(csv.DictReader(io.StringIO(inputs['orders']['content'])))\n"
            "    result = {'rows': len(rows)}\n\ncompute()\nprint(result)\n")
    mended = mended_written_code(code, INPUTS)
    assert "def compute():\n    global result\n    rows = " in mended
    scope: dict[str, Any] = {"inputs": INPUTS}
    exec(mended, scope)  # (the test's own code: what the sandbox would run)
    assert scope["result"] == {"rows": 2}
    assert mended_written_code("def f():\n    result = 1\n\nresult = 2\nf()\n", INPUTS).count("global") == 0


def test_an_import_of_a_module_the_sandbox_lacks_that_nothing_uses_goes() -> None:
    """fresh follow-up-owner: ``import requests`` above code that calls only ``tools.http_get``,
    refused for the import, and written back the same."""
    code = ("import json\nimport requests\nfrom bs4 import BeautifulSoup\nfrom pandas import DataFrame\n"
            "result = json.loads(inputs['a']['content'])\n")
    assert without_unused_missing_imports(code) == (
        "import json\nfrom bs4 import BeautifulSoup\nresult = json.loads(inputs['a']['content'])\n")
    used = "import requests\nresult = requests.get('http://x').text\n"
    assert without_unused_missing_imports(used) is None  # used: told it cannot work, not hidden
    aliased = "import numpy as np\nresult = np.mean([1, 2])\n"
    assert without_unused_missing_imports(aliased) is None
    assert without_unused_missing_imports("import json\nresult = 1\n") is None
    assert mended_written_code("import requests\nresult = 1\n", {}) == "result = 1\n"


def test_a_standard_module_used_and_never_imported_is_imported() -> None:
    """fresh follow-up-owner: ``csv.DictReader(io.StringIO(text))`` with ``import csv`` only."""
    code = "import csv\nrows = list(csv.DictReader(io.StringIO(inputs['a']['content'])))\nresult = len(rows)\n"
    assert with_standard_imports(code) == "import io\n" + code
    assert with_standard_imports("import io\nresult = io.StringIO('x').read()\n") is None
    assert with_standard_imports("result = frobnicate.run()\n") is None  # no such standard module
    assert with_standard_imports("io = inputs['a']\nresult = io.get('x')\n") is None  # a name of its own
    assert mended_written_code("result = json.loads(inputs['a']['content'])\n", {}) == (
        "import json\nresult = json.loads(inputs['a']['content'])\n")
