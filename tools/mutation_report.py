"""Per-module kill rates of the last `mutmut run` (`make mutation`), and the surviving mutants by name.

`python tools/mutation_report.py [--floor 0.85]` reads `mutmut results --all true` and exits 1 when a
module's kill rate is below the floor.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

# "    agents.schedules.x_as_schedule__mutmut_6: survived" or "...xǁLinearDecayǁ__call____mutmut_13: killed"
LINE = re.compile(r"^\s*(?P<name>(?P<module>[\w.]+?)\.x[_ǁ]\S*__mutmut_\d+): (?P<status>.+)$")
KILLED = {"killed", "timeout"}  # a mutant that hangs the tests is caught too


def parse(text: str) -> dict[str, dict[str, list[str]]]:
    """module -> status -> mutant names, from `mutmut results --all true`."""
    table: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for line in text.splitlines():
        match = LINE.match(line)
        if match:
            table[match["module"]][match["status"].strip()].append(match["name"])
    return table


def report(table: dict[str, dict[str, list[str]]], floor: float) -> tuple[str, bool]:
    lines = ["| module | mutants | killed | kill rate |", "|---|---|---|---|"]
    ok = True
    for module in sorted(table):
        statuses = table[module]
        total = sum(len(names) for status, names in statuses.items() if status != "not checked")
        killed = sum(len(names) for status, names in statuses.items() if status in KILLED)
        rate = killed / total if total else 1.0
        ok &= rate >= floor
        lines.append(f"| {module} | {total} | {killed} | {rate:.1%}{'' if rate >= floor else ' (below floor)'} |")
    survivors = [name for module in sorted(table) for name in table[module].get("survived", [])]
    lines.append(f"\nsurvivors ({len(survivors)}; `mutmut show NAME` prints the change):")
    lines += [f"  {name}" for name in survivors]
    return "\n".join(lines), ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--floor", type=float, default=0.85)
    args = parser.parse_args(argv)
    mutmut = Path(sys.executable).with_name("mutmut")
    text = subprocess.run([str(mutmut), "results", "--all", "true"], capture_output=True, text=True,
                          check=True).stdout
    table, ok = report(parse(text), args.floor)
    print(table)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
