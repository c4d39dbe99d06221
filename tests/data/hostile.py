"""Hostile and careless input files with a known verdict, for the property tests and ``benchmarks/fuzz.py``.

A case starts from a valid file of two rows for one table of the tiny alliance (``tests/conftest.py``),
then applies one mutation whose verdict is known without running cpfr: a value that breaks a rule of
its column (and where the report must point), a structural fault of the file, or a change that keeps
it valid (a formula-like name, a byte-order mark, a column left out, a hostile file name). Each case
runs through the command line like a user's, and :func:`judge` says what went wrong, if anything.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from cpfr.data import schema

Choose = Callable[[Sequence[Any]], Any]

# Two valid rows per table, consistent with the tiny alliance's reference data.
BASE_ROWS: dict[str, list[dict[str, str]]] = {
    "partners": [
        {"partner_id": "LENOVO", "name": "Lenovo", "name_local": "联想", "categories": "3C"},
        {"partner_id": "JIUMU", "name": "Jiumu", "name_local": "九牧", "categories": "HA"},
    ],
    "categories": [
        {"category_id": "TV", "name": "TVs", "parent_id": "HA", "level": "2", "partner_id": ""},
        {"category_id": "WEAR", "name": "Smart wear", "parent_id": "3C", "level": "2", "partner_id": ""},
    ],
    "agreements": [
        {
            "agreement_id": "AG-XM2",
            "partner_id": "XIAOMI",
            "name": "Xiaomi 2027",
            "start_date": "2027-01-01",
            "end_date": "2029-12-31",
            "channels": "platform_online",
        },
        {
            "agreement_id": "AG-MD2",
            "partner_id": "MIDEA",
            "name": "Midea 2027",
            "start_date": "2027-01-01",
            "end_date": "2027-12-31",
            "channels": "",
        },
    ],
    "targets": [
        {
            "target_id": "T-P1",
            "agreement_id": "AG-XM",
            "partner_id": "XIAOMI",
            "period_start": "2025-01-01",
            "period_end": "2025-12-31",
            "metric": "gmv_yuan",
            "value": "1000000",
            "category_id": "PHONE",
            "channel_kind": "platform_online",
            "description": "2025 online phones",
        },
        {
            "target_id": "T-A1",
            "agreement_id": "AG-MD",
            "partner_id": "MIDEA",
            "period_start": "2025-01-01",
            "period_end": "2025-06-30",
            "metric": "units",
            "value": "5000",
            "category_id": "",
            "channel_kind": "",
            "description": "H1 units",
        },
    ],
    "products": [
        {
            "sku_id": "P7",
            "partner_id": "XIAOMI",
            "name": "Xiaomi 17",
            "category_id": "PHONE",
            "list_price": "4999",
            "price_band": "4000-4999",
            "launch_date": "2025-10-01",
            "end_date": "",
            "attributes": '{"colour": "black"}',
            "is_c2m": "false",
        },
        {
            "sku_id": "A7",
            "partner_id": "MIDEA",
            "name": "Midea AC 2HP",
            "category_id": "AC",
            "list_price": "3999",
            "price_band": "3000-3999",
            "launch_date": "2024-03-01",
            "end_date": "2026-03-01",
            "attributes": "",
            "is_c2m": "true",
        },
    ],
    "channels": [
        {
            "channel_id": "XH",
            "name": "Xiaomi Home",
            "kind": "brand_store",
            "format": "Xiaomi Home",
            "partner_id": "XIAOMI",
        },
        {
            "channel_id": "JDHA",
            "name": "JD Home Appliance",
            "kind": "platform_offline",
            "format": "JD Home Appliance",
            "partner_id": "",
        },
    ],
    "warehouses": [
        {
            "warehouse_id": "FDC-WH",
            "name": "Wuhan FDC",
            "tier": "FDC",
            "parent_warehouse_id": "RDC-N",
            "city": "Wuhan",
            "province": "Hubei",
            "region": "Central",
            "lead_time_days": "2",
            "holding_cost_rate": "0.2",
            "order_cost_yuan": "50",
            "capacity_units": "10000",
            "partner_id": "",
        },
        {
            "warehouse_id": "RDC-S",
            "name": "Guangzhou RDC",
            "tier": "RDC",
            "parent_warehouse_id": "",
            "city": "Guangzhou",
            "province": "Guangdong",
            "region": "South",
            "lead_time_days": "7",
            "holding_cost_rate": "0.15",
            "order_cost_yuan": "300",
            "capacity_units": "500000",
            "partner_id": "",
        },
    ],
    "locations": [
        {
            "location_id": "S-777",
            "name": "JD MALL Wuhan",
            "kind": "store",
            "channel_id": "MALL",
            "city": "Wuhan",
            "province": "Hubei",
            "region": "Central",
            "city_tier": "2",
            "warehouse_id": "RDC-N",
            "open_date": "2023-05-01",
            "partner_id": "",
        },
        {
            "location_id": "Z-S-3",
            "name": "South tier 3 online",
            "kind": "online_zone",
            "channel_id": "JD",
            "city": "",
            "province": "",
            "region": "South",
            "city_tier": "3",
            "warehouse_id": "",
            "open_date": "",
            "partner_id": "",
        },
    ],
    "events": [
        {
            "event_id": "618-2024",
            "name": "618",
            "kind": "promotion",
            "start_date": "2024-06-01",
            "end_date": "2024-06-18",
            "peak_date": "2024-06-18",
            "category_id": "",
            "partner_id": "",
        },
        {
            "event_id": "SUB-AC-2024",
            "name": "AC trade-in",
            "kind": "subsidy",
            "start_date": "2024-08-01",
            "end_date": "2024-12-31",
            "peak_date": "",
            "category_id": "AC",
            "partner_id": "MIDEA",
        },
    ],
    "sales": [
        {
            "date": "2024-03-01",
            "sku_id": "P1",
            "location_id": "Z-N-1",
            "partner_id": "XIAOMI",
            "units": "4",
            "list_price": "3999",
            "paid_price": "3599",
            "discount": "0.1",
            "subsidy_yuan": "0",
        },
        {
            "date": "2024-03-01",
            "sku_id": "A1",
            "location_id": "S-001",
            "partner_id": "",
            "units": "0",
            "list_price": "2999",
            "paid_price": "2999",
            "discount": "",
            "subsidy_yuan": "300",
        },
    ],
    "inventory": [
        {
            "date": "2024-03-01",
            "sku_id": "P1",
            "site_id": "RDC-N",
            "partner_id": "XIAOMI",
            "on_hand": "40",
            "in_transit": "10",
            "stockout": "false",
        },
        {
            "date": "2024-03-01",
            "sku_id": "A1",
            "site_id": "S-001",
            "partner_id": "",
            "on_hand": "0",
            "in_transit": "",
            "stockout": "true",
        },
    ],
    "orders": [
        {
            "order_id": "PO-1",
            "kind": "purchase",
            "sku_id": "P1",
            "partner_id": "XIAOMI",
            "from_site_id": "",
            "to_site_id": "RDC-N",
            "order_date": "2024-03-01",
            "due_date": "2024-03-08",
            "quantity": "100",
            "status": "open",
        },
        {
            "order_id": "TR-1",
            "kind": "transfer",
            "sku_id": "A1",
            "partner_id": "",
            "from_site_id": "RDC-N",
            "to_site_id": "S-001",
            "order_date": "2024-03-02",
            "due_date": "",
            "quantity": "5",
            "status": "received",
        },
    ],
    "promotions": [
        {
            "promotion_id": "PR-1",
            "sku_id": "P1",
            "partner_id": "XIAOMI",
            "channel_id": "JD",
            "start_date": "2024-06-01",
            "end_date": "2024-06-18",
            "discount": "0.15",
            "event_id": "",
        },
        {
            "promotion_id": "PR-1",
            "sku_id": "A1",
            "partner_id": "",
            "channel_id": "",
            "start_date": "2024-06-01",
            "end_date": "2024-06-20",
            "discount": "",
            "event_id": "",
        },
    ],
    "partner_forecasts": [
        {
            "partner_id": "XIAOMI",
            "sku_id": "P1",
            "channel_id": "JD",
            "ds": "2024-03-04",
            "units": "12.5",
            "submitted_on": "2024-02-26",
        },
        {
            "partner_id": "MIDEA",
            "sku_id": "A1",
            "channel_id": "MALL",
            "ds": "2024-03-04",
            "units": "0",
            "submitted_on": "",
        },
    ],
}

# Values that break a column's rule, by the kind of column (each one certainly invalid there).
BAD_NUMBERS = ["abc", "1e400", "nan", "inf", "-inf", "12,5", "--1", "1 000"]
BAD_DATES = [
    "infinity",
    "-infinity",
    "2024-02-30",
    "294247-01-01",
    "1899-12-31",
    "2101-01-01",
    "0044-03-15 (BC)",
    "not a date",
    "2024-13-01",
]
BAD_IDENTIFIERS = [
    "=cmd|' /C calc'!A0",
    "a b",
    "-x",
    "@x",
    "+1",
    "x" * 129,
    "P1\u200b",
    "P/../\x00",
    "'; DROP TABLE sales; --",
    "P1\x1b[31m",
]
BAD_TEXT = ["a\x00b", "bell\x07", "\x1b[2J cleared", "x" * 1_001, "line\u0085break", "del\x7f"]
BAD_JSON = ["[1, 2]", "{", "null", "42", '"text"']
BAD_BOOLS = ["maybe", "2", "yes please"]
# Values that look hostile but are valid free text: stored as they are, neutralised on CSV export.
ODD_TEXT = [
    "=SUM(A1:A9)",
    "@home",
    "-3 dB",
    "+86 10 1234",
    "小米 16 Pro Ⅱ",
    'comma, "quoted"',
    "x" * 1_000,
    "emoji 📱",
    "tab-free\u00a0nbsp",
]
ODD_NAMES = [
    "sales*.{ext}",
    "sales?.{ext}",
    "[x].{ext}",
    "with space.{ext}",
    "ünïcödé 数据.{ext}",
    "{long}.{ext}",
    "-dash.{ext}",
    "semi;colon'quote.{ext}",
]


@dataclass(frozen=True)
class Case:
    """One input file for one table, with the verdict cpfr must reach.

    Attributes
    ----------
    table : str
        The table ingested into.
    mutation : str
        What was done to the valid file (for the campaign's table).
    file_name : str
        Name of the file to write.
    content : bytes
        The file's bytes (CSV or Parquet).
    valid : bool
        Whether cpfr must accept it.
    location : tuple of (row, column) or None
        Where the report must point, for an invalid value.
    """

    table: str
    mutation: str
    file_name: str
    content: bytes
    valid: bool
    location: tuple[int, str] | None = None


@dataclass
class Verdict:
    """What happened to one case: every field False (or 0) is a pass."""

    crash: bool = False
    hang: bool = False
    partial_write: bool = False
    unclear_message: bool = False
    bad_input_accepted: bool = False
    good_input_refused: bool = False
    seconds: float = 0.0
    details: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the case ended as it must."""
        return not (
            self.crash
            or self.hang
            or self.partial_write
            or self.unclear_message
            or self.bad_input_accepted
            or self.good_input_refused
        )


def build_case(choose: Choose) -> Case:
    """Draw one case; ``choose`` picks one element of a sequence (``random.choice`` or a hypothesis draw)."""
    table = choose(sorted(BASE_ROWS))
    spec = schema.table(table)
    rows = [dict(row) for row in BASE_ROWS[table]]
    fmt = choose(["csv", "csv", "parquet"])
    kind = choose(["bad_value", "bad_value", "bad_value", "structure", "odd_but_valid", "name"])
    header = list(rows[0])
    name = f"{table}.{fmt}"
    location: tuple[int, str] | None = None
    valid = True
    mutation = kind
    if kind == "bad_value":
        index = choose([0, 1])
        column = choose([column for column in spec.columns if column.name in header])
        value = choose(_bad_values(column))
        rows[index][column.name] = value
        valid = False
        location = (index + (2 if fmt == "csv" else 1), column.name)
        mutation = f"bad {column.type}{' id' if column.is_identifier else ''} in {column.name}"
    elif kind == "odd_but_valid":
        text_columns = [
            c.name
            for c in spec.columns
            if c.type == "text"
            and not c.is_identifier
            and not c.choices
            and not c.json_object
            and c.name in header
        ]
        if text_columns:
            column_name = choose(text_columns)
            rows[choose([0, 1])][column_name] = choose(ODD_TEXT)
            mutation = f"odd text in {column_name}"
        else:
            mutation = "unchanged"
    elif kind == "name":
        template = choose(ODD_NAMES)
        name = template.format(ext=fmt, long="n" * 240)
        mutation = f"file name {template}"
    else:
        return _structural(table, rows, header, fmt, choose)
    content = _write(rows, header, fmt)
    return Case(table, mutation, name, content, valid, location)


def _bad_values(column: schema.Column) -> list[str]:
    if column.type in ("int", "float"):
        values = list(BAD_NUMBERS)
        if column.minimum is not None:
            values.append(repr(column.minimum - 1))
        if column.maximum is not None:
            values.append(repr(column.maximum * 10 + 1))
        if column.type == "int":
            values.append("1.5")
        return values
    if column.type == "date":
        return BAD_DATES
    if column.type == "bool":
        return BAD_BOOLS
    if column.choices:
        return ["other", column.choices[0] + "x", "=" + column.choices[0]]
    if column.is_identifier:
        return BAD_IDENTIFIERS if column.references is None else [*BAD_IDENTIFIERS, "NOPE-404"]
    if column.json_object:
        return BAD_JSON
    return BAD_TEXT


def _structural(table: str, rows: list[dict[str, str]], header: list[str], fmt: str, choose: Choose) -> Case:
    spec = schema.table(table)
    name = f"{table}.{fmt}"
    fault = choose(
        [
            "empty",
            "header_only",
            "unknown_column",
            "missing_required",
            "duplicate_key",
            "blank_key",
            "bom",
            "crlf",
            "reordered",
            "optional_left_out",
            "ragged",
            "latin1",
            "duplicate_header",
        ]
    )
    first_row = 2 if fmt == "csv" else 1
    header_row = 1 if fmt == "csv" else 0
    if fault in ("ragged", "latin1", "duplicate_header", "bom", "crlf"):
        fmt, name = "csv", f"{table}.csv"  # faults of text files
        first_row, header_row = 2, 1
    if fault == "empty":
        return Case(table, fault, name, b"" if fmt == "csv" else _parquet([], header), False, None)
    if fault == "header_only":
        return Case(table, fault, name, _write([], header, fmt), False, None)
    if fault == "unknown_column":
        for row in rows:
            row["colour"] = "red"
        return Case(table, fault, name, _write(rows, [*header, "colour"], fmt), False, (header_row, "colour"))
    if fault == "missing_required":
        required = [
            c.name for c in spec.columns if c.required and not (c.name == "partner_id" and spec.partner_from)
        ]
        dropped = choose(required)
        kept = [column for column in header if column != dropped]
        return Case(table, fault, name, _write(rows, kept, fmt), False, (header_row, dropped))
    if fault == "duplicate_key":
        rows = [rows[0], rows[1], dict(rows[0])]
        keys = ", ".join(spec.key)
        return Case(table, fault, name, _write(rows, header, fmt), False, (first_row + 2, keys))
    if fault == "blank_key":
        rows[1][spec.key[0]] = ""
        return Case(table, fault, name, _write(rows, header, fmt), False, (first_row + 1, spec.key[0]))
    if fault == "optional_left_out":
        optional = [c.name for c in spec.columns if not c.required and not c.key and c.name in header]
        kept = [column for column in header if column != choose(optional)] if optional else header
        return Case(table, fault, name, _write(rows, kept, fmt), True, None)
    if fault == "reordered":
        return Case(table, fault, name, _write(rows, list(reversed(header)), fmt), True, None)
    text = _write(rows, header, "csv")
    if fault == "bom":
        return Case(table, fault, name, b"\xef\xbb\xbf" + text, True, None)
    if fault == "crlf":
        return Case(table, fault, name, text.replace(b"\n", b"\r\n"), True, None)
    if fault == "ragged":
        lines = text.split(b"\n")
        lines[2] = lines[2] + b",extra"
        return Case(table, fault, name, b"\n".join(lines), False, (3, ""))
    if fault == "latin1":
        column = choose([c.name for c in spec.columns if c.type == "text" and c.name in header])
        rows[0][column] = "caf\udce9"  # a lone Latin-1 byte, as a file saved in the wrong encoding
        data = _write(rows, header, "csv", errors="surrogateescape")
        return Case(table, fault, name, data, False, (2, column))
    doubled = [*header, header[0]]
    data = ",".join(doubled).encode() + b"\n" + text.split(b"\n", 1)[1]
    return Case(table, fault, name, data, False, (1, header[0]))


def _write(rows: list[dict[str, str]], header: list[str], fmt: str, errors: str = "strict") -> bytes:
    if fmt == "parquet":
        return _parquet(rows, header)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(column, "") for column in header])
    return buffer.getvalue().encode("utf-8", errors=errors)


def _parquet(rows: list[dict[str, str]], header: list[str]) -> bytes:
    """All columns as text (empty cells as nulls): the same verdicts as the CSV file."""
    table = pa.table(
        {column: pa.array([row.get(column) or None for row in rows], pa.string()) for column in header}
    )
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def judge(
    case: Case,
    folder: Path,
    ingest: Callable[[Path], tuple[int, str]],
    digest: Callable[[], dict[str, str]],
    *,
    hang_seconds: float = 20.0,
) -> Verdict:
    """Run one case through ``ingest`` (returns exit code and output) and say what went wrong."""
    verdict = Verdict()
    path = folder / case.file_name
    try:
        path.write_bytes(case.content)
    except OSError as error:  # a name the file system refuses: then cpfr must refuse it too
        path = folder / case.file_name
        verdict.details.append(f"not written: {error.strerror}")
    before = digest()
    started = time.perf_counter()
    code, output = ingest(path)
    verdict.seconds = time.perf_counter() - started
    after = digest()
    verdict.hang = verdict.seconds > hang_seconds
    verdict.crash = code not in (0, 1, 2) or "Traceback" in output
    written = after != before
    if case.valid and path.exists():
        verdict.good_input_refused = code != 0
    elif code == 0:
        verdict.bad_input_accepted = True
    if code != 0:
        verdict.partial_write = written
        if not output.strip() or (path.exists() and str(path) not in output):
            verdict.unclear_message = True  # every refusal names the file
        elif case.location is not None and path.exists():
            row, column = case.location
            verdict.unclear_message = f"{path}:{row}:{column}" not in output
    if not verdict.ok:
        verdict.details.append(
            f"{case.table} {case.mutation} {case.file_name[:40]!r}: exit {code}: {output[:300]}"
        )
    path.unlink(missing_ok=True)
    return verdict


# -- hostile command lines for the commands that read the store ---------------------------------------

HOSTILE_WORDS = [
    "",
    " ",
    "XIAOMI",
    "NOPE",
    "-1",
    "0",
    "1e400",
    "nan",
    "=1+1",
    "../../etc/passwd",
    "x" * 300,
    "2024-02-30",
    "294247-01-01",
    "2024-01-01",
    "infinity",
    "a,b,,c",
    "'; DROP TABLE sales; --",
    "\x00",
    "小米",
    "T-XM",
    "partner_id",
    "month,city_tier",
    "sales",
]


def build_command(choose: Choose, folder: Path) -> list[str]:
    """Draw a command line of a store-reading command with hostile values; it may end 0 to 4, never 5."""
    word = lambda: choose(HOSTILE_WORDS)  # noqa: E731
    command = choose(["summary", "export", "track", "decompose", "attainment", "rankings", "uplift", "info"])
    output = str(
        folder / choose(["out.csv", "out.parquet", "out.xlsx", "sub/dir/out.csv", "o" * 300 + ".csv"])
    )
    if command == "summary":
        return ["summary", "--partner", word(), "--as-of", word()]
    if command == "export":
        return ["export", word(), "-o", output, "--partner", word()]
    if command == "track":
        return ["targets", "track", word(), "--as-of", word(), "--by", word()]
    if command == "decompose":
        return ["targets", "decompose", word(), "--override", word(), "--by", word()]
    if command == "attainment":
        return ["targets", "attainment", word(), "--as-of", word(), "--json"]
    if command == "rankings":
        return ["targets", "rankings", "--start", word(), "--end", word(), "--bands", word(), "--top", word()]
    if command == "uplift":
        return ["uplift", "--by", word(), "--kind", word(), "-o", output]
    return ["db", "info"]
