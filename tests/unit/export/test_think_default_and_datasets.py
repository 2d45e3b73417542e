from __future__ import annotations

import inspect

import pytest

from toolforge.errors import ToolforgeError
from toolforge.export import ExportOptions
from toolforge.export.convert import DEFAULT_THINK
from toolforge.export.trl import require_datasets_json
from toolforge.hub import PushOptions


def _cli_default(fn, name):
    return inspect.signature(fn).parameters[name].default


def test_export_and_push_share_one_think_default():
    from toolforge.cli.export import export_cmd, push_cmd

    assert ExportOptions(format="trl", out="x").think == PushOptions().think == DEFAULT_THINK
    assert _cli_default(export_cmd, "think") == _cli_default(push_cmd, "think") == DEFAULT_THINK


@pytest.mark.parametrize("version", ["4.6.0", "3.6.0", "2.19.1"])
def test_old_datasets_is_a_one_line_error(version):
    with pytest.raises(ToolforgeError) as exc:
        require_datasets_json(version)
    assert "\n" not in str(exc.value) and ">=4.7" in str(exc.value) and version in str(exc.value)
    assert "pip install -U 'datasets>=4.7'" in exc.value.hint


@pytest.mark.parametrize("version", ["4.7.0", "4.10.1", "5.2.0", "6.0.0rc1"])
def test_datasets_with_json_passes(version):
    require_datasets_json(version)
