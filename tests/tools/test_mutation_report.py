"""tools/mutation_report.py (`make mutation`'s summary): kill rates per module from mutmut's listing."""

from __future__ import annotations

import importlib.util
from pathlib import Path

TOOL = Path(__file__).resolve().parents[2] / "tools" / "mutation_report.py"
_spec = importlib.util.spec_from_file_location("mutation_report", TOOL)
mutation_report = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mutation_report)


def test_mutation_report_counts_kill_rates_per_module():
    parse, report = mutation_report.parse, mutation_report.report
    text = """    agents.schedules.x_as_schedule__mutmut_1: killed
    agents.schedules.xǁLinearDecayǁ__call____mutmut_2: survived
    agents.schedules.x_as_schedule__mutmut_3: timeout
    nets.losses.x_l2_penalty__mutmut_1: killed
    nets.losses.x_l2_penalty__mutmut_2: not checked
"""
    table, ok = report(parse(text), floor=0.85)
    assert "| agents.schedules | 3 | 2 | 66.7% (below floor) |" in table
    assert "| nets.losses | 1 | 1 | 100.0% |" in table
    assert "agents.schedules.xǁLinearDecayǁ__call____mutmut_2" in table and not ok
