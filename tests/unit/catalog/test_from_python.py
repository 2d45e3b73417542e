from __future__ import annotations

import json
from pathlib import Path

import pytest

from toolforge.catalog import check_tools
from toolforge.catalog.from_python import SchemaGenerationError, catalog_from_module

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "pytools"


def test_five_functions_match_hand_written_schemas():
    got = catalog_from_module(FIX / "sample_tools.py")
    expected = json.loads((FIX / "expected.json").read_text())
    assert got == expected
    assert check_tools(got["tools"]) == []


def test_cli_writes_catalog(run_cli, tmp_path):
    out = tmp_path / "cat.json"
    proc = run_cli("tools", "from-python", FIX / "sample_tools.py", "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text()) == json.loads((FIX / "expected.json").read_text())
    proc = run_cli("tools", "validate", out)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("def f(x: int):\n    return x\n", "function 'f' has no docstring"),
        ('def g(x, y: int):\n    """Do g.\n\n    Args:\n        x: an x.\n        y: a y.\n    """\n', "parameter 'x' has no type hint"),
        ('def h(x: int):\n    """Do h."""\n', "parameter 'x' has no description"),
    ],
)
def test_clear_errors_name_function_and_problem(tmp_path, run_cli, source, message):
    mod = tmp_path / "bad.py"
    mod.write_text(source)
    with pytest.raises(SchemaGenerationError, match=message):
        catalog_from_module(mod)
    proc = run_cli("tools", "from-python", mod)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and message in proc.stderr
    assert "Traceback" not in proc.stderr
