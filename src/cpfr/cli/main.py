"""The ``cpfr`` application: every command, grouped as the package is."""

from __future__ import annotations

import warnings

import typer

from cpfr.cli.allocate_command import allocate
from cpfr.cli.c2m_commands import c2m_app
from cpfr.cli.collab_commands import collab_app, report_app
from cpfr.cli.data_commands import db_app, export, ingest
from cpfr.cli.demo_commands import demo_app, summary
from cpfr.cli.errors import CpfrGroup
from cpfr.cli.forecast_commands import backtest, forecast, uplift
from cpfr.cli.inventory_commands import inventory_app, replenish, simulate_command
from cpfr.cli.launch_commands import launch_app
from cpfr.cli.network_commands import network_app
from cpfr.cli.network_cost_command import cost
from cpfr.cli.plan_command import plan
from cpfr.cli.serve_commands import serve, users_app
from cpfr.cli.target_commands import targets_app
from cpfr.cli.tradein_commands import tradein_app

app = typer.Typer(
    name="cpfr",
    help=(
        "Collaborative planning, forecasting and replenishment for a retail platform and its brand partners."
    ),
    no_args_is_help=True,
    cls=CpfrGroup,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _entry() -> None:
    # statsmodels' seasonality test divides by a zero variance on a flat series and says so; the
    # forecast handles the series, so the note would only alarm people at the command line.
    warnings.filterwarnings("ignore", message="invalid value encountered in divide", module="statsmodels")


app.command("ingest")(ingest)
app.command("export")(export)
app.command("summary")(summary)
app.command("forecast")(forecast)
app.command("backtest")(backtest)
app.command("uplift")(uplift)
app.command("replenish")(replenish)
app.command("simulate")(simulate_command)
app.command("plan")(plan)
app.command("serve")(serve)
network_app.command("cost")(cost)
app.command("allocate")(allocate)
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(inventory_app, name="inventory")
app.add_typer(launch_app, name="launch")
app.add_typer(network_app, name="network")
app.add_typer(targets_app, name="targets")
app.add_typer(collab_app, name="collab")
app.add_typer(report_app, name="report")
app.add_typer(users_app, name="users")
app.add_typer(tradein_app, name="tradein")
app.add_typer(c2m_app, name="c2m")


if __name__ == "__main__":
    app()
