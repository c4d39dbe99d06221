"""A writable small demo store per test module, and the platform's weekly forecast on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cpfr.collab.compare import PlatformForecast, platform_forecast
from cpfr.data.demo import DemoConfig, DemoScenario, generate_scenario
from cpfr.data.store import Store

from ..conftest import demo_store


@pytest.fixture(scope="module")
def scenario() -> DemoScenario:
    return generate_scenario(DemoConfig.small())


@pytest.fixture(scope="module")
def collab_store(tmp_path_factory: pytest.TempPathFactory, scenario: DemoScenario) -> Iterator[Store]:
    store = demo_store(scenario, tmp_path_factory.mktemp("collab"))
    yield store
    store.close()


@pytest.fixture(scope="module")
def platform(collab_store: Store) -> PlatformForecast:
    return platform_forecast(collab_store)  # the default weekly models: a few seconds here


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path
