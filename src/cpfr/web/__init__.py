"""The dashboard's static assets (HTML, JS, CSS, the bundled charting library), served by ``cpfr serve``."""

from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
