"""The warehouse-network benchmarks in one run: facility location, SKU placement, hot-launch allocation.

Each part is its own script (run one alone with its options); this runs them one after another
with their defaults and prints their tables:

- ``network_facility.py``: capacitated facility location of growing size, MILP vs add/drop greedy;
- ``network_placement.py``: SKU x FDC placement up to 10,000 SKUs x 8 FDCs, MILP and Lagrangian vs greedy;
- ``network_allocation.py``: the demo's hot launches replayed, cpfr's split vs pro-rata-to-forecast.

    python benchmarks/network.py [facility] [placement] [allocation]
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PARTS = {
    "facility": "network_facility.py",
    "placement": "network_placement.py",
    "allocation": "network_allocation.py",
}


def main() -> None:
    chosen = sys.argv[1:] or list(PARTS)
    unknown = [name for name in chosen if name not in PARTS]
    if unknown:
        sys.exit(f"unknown part {unknown[0]!r}; expected any of {', '.join(PARTS)}")
    here = Path(__file__).parent
    failed = []
    for name in chosen:
        print(f"\n== {name} ({PARTS[name]})", flush=True)
        if subprocess.run([sys.executable, str(here / PARTS[name])], check=False).returncode:
            failed.append(name)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
