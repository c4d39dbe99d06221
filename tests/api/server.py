"""A real ``cpfr serve`` for tests: uvicorn in a thread on a free loopback port, stopped after."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import uvicorn

from cpfr.api.app import create_app
from cpfr.api.service import ServiceConfig
from cpfr.data.store import Store


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def running_server(store: Store, config: ServiceConfig | None = None) -> Iterator[str]:
    """Serve ``store`` on loopback and yield the base URL; the server (and the store) stop after."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(store, config), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(url, timeout=0.5)
