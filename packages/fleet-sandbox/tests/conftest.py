"""The sandbox's own fixtures: one server on a loopback port for the run, emptied before
each test, its admin API, a client with the service token, and a Postgres database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr
from sandbox_testing import TLS, TOKEN, Admin

from fleet_sandbox.config import SandboxConfig
from fleet_sandbox.server import BackgroundSandbox

PG_ADMIN_URL = os.environ.get(
    "FLEET_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[BackgroundSandbox]:
    with BackgroundSandbox(SandboxConfig(service_token=SecretStr(TOKEN), seed=7)) as server:
        yield server


@pytest.fixture(scope="session")
def session_admin(sandbox_server: BackgroundSandbox) -> Iterator[Admin]:
    admin = Admin(sandbox_server.url)
    yield admin
    admin.close()


@pytest.fixture
def admin(session_admin: Admin) -> Admin:
    """The admin API of an empty sandbox with its start-up controls."""
    session_admin.reset()
    return session_admin


@pytest.fixture
def sandbox(sandbox_server: BackgroundSandbox, admin: Admin) -> BackgroundSandbox:
    """The running sandbox, emptied for this test."""
    return sandbox_server


@pytest.fixture
def api(sandbox: BackgroundSandbox) -> Iterator[httpx.Client]:
    """A raw HTTP client with the service token."""
    with httpx.Client(
        base_url=sandbox.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10, verify=TLS
    ) as client:
        yield client


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """An empty database of the run's own on the machine's Postgres (FLEET_TEST_POSTGRES),
    dropped at the end."""
    import psycopg  # the sandbox's postgres extra

    name = f"sandbox_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        server = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"Postgres is not reachable at {PG_ADMIN_URL}: {exc}")
    with server:
        server.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
