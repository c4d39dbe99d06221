"""``cpfr serve`` (the REST API and dashboard) and ``cpfr users`` (who may call it)."""

from __future__ import annotations

from typing import Annotated

import typer

from cpfr.cli.common import DEFAULT_WAIT_SECONDS, DbOption, WaitOption, console, err_console, reported_errors

users_app = typer.Typer(help="Users of the service and their API keys.", no_args_is_help=True)


def serve(
    db: DbOption = None,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (loopback by default).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.", min=1, max=65535)] = 8000,
    cors: Annotated[
        list[str] | None,
        typer.Option("--cors-origin", help="An origin allowed to call the API from a browser (repeatable)."),
    ] = None,
    wait: WaitOption = DEFAULT_WAIT_SECONDS,
) -> None:
    """Serve the REST API (/api/v1, /docs) and the dashboard (/); this process owns the store."""
    import uvicorn

    from cpfr.api.app import create_app
    from cpfr.api.service import ServiceConfig
    from cpfr.data.store import open_store

    with reported_errors():
        store = open_store(db, mode="write", wait_seconds=wait)
    app = create_app(store, ServiceConfig(cors_origins=tuple(cors or ())))
    err_console.print(
        f"cpfr serving {store.location} on http://{host}:{port}/ (API docs: /docs); Ctrl+C stops it",
        highlight=False,
    )
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)


@users_app.command("add")
def users_add(
    role: Annotated[
        str,
        typer.Option("--role", help="platform_admin, platform_planner, partner_planner or partner_viewer."),
    ],
    partner: Annotated[
        str | None,
        typer.Option("--partner", help="The brand partner's id; PLATFORM (or none) for the platform."),
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Display name.")] = None,
    db: DbOption = None,
    wait: WaitOption = DEFAULT_WAIT_SECONDS,
) -> None:
    """Create a user and print its API key once, alone on the last line (only its hash is stored)."""
    from cpfr.api.keys import add_user
    from cpfr.data.store import open_store

    with reported_errors(), open_store(db, mode="write", wait_seconds=wait) as store:
        principal, key = add_user(store, partner_id=partner, role=role, name=name)
    side = principal.partner_id or "the platform"
    console.print(
        f"created user {principal.user_id} ({principal.name}, {principal.role}, {side});"
        " its API key, shown only now:",
        highlight=False,
        soft_wrap=True,
    )
    typer.echo(key)


@users_app.command("list")
def users_list(db: DbOption = None, wait: WaitOption = DEFAULT_WAIT_SECONDS) -> None:
    """List the users: id, name, partner, role, created and revoked (never the keys)."""
    from rich.table import Table

    from cpfr.api.keys import list_users
    from cpfr.data.store import open_store

    with reported_errors(), open_store(db, mode="read", wait_seconds=wait) as store:
        users = list_users(store)
    table = Table("user", "name", "partner", "role", "created", "revoked")
    for row in users.to_dict(orient="records"):
        cells = [row["user_id"], row["name"], row["partner_id"] or "platform", row["role"], row["created_at"]]
        table.add_row(*(str(cell) for cell in cells), str(row["revoked_at"] or ""))
    console.print(table)


@users_app.command("revoke")
def users_revoke(
    user_id: Annotated[str, typer.Argument(help="The user whose key stops working.")],
    db: DbOption = None,
    wait: WaitOption = DEFAULT_WAIT_SECONDS,
) -> None:
    """Revoke a user's API key (a running server stops accepting it within 30 s)."""
    from cpfr.api.keys import revoke_user
    from cpfr.data.store import open_store

    with reported_errors(), open_store(db, mode="write", wait_seconds=wait) as store:
        principal = revoke_user(store, user_id)
    console.print(f"revoked the key of {principal.user_id} ({principal.name})", highlight=False)
