"""The tests' own PostgreSQL server: never the machine's at 5432, stopped when done."""

from __future__ import annotations

import os

import psycopg2
import pytest

from data_platform.ops.stack.process import pid_alive, port_is_free
from data_platform_tests.fixtures.postgres import PostgresServer, running_postgres

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def test_the_session_server_is_the_tests_own(postgres_server: PostgresServer):
    assert postgres_server.port != 5432
    conn = postgres_server.connect()
    with conn, conn.cursor() as cur:
        cur.execute(
            "SELECT inet_server_port(), host(inet_server_addr()),"
            " current_setting('listen_addresses'), current_setting('data_directory')"
        )
        port, address, listen, data_directory = cur.fetchone()
    conn.close()
    assert (port, address, listen) == (postgres_server.port, "127.0.0.1", "127.0.0.1")
    assert data_directory.startswith(f"{postgres_server.socket_dir}/")
    if os.geteuid() == 0:  # PostgreSQL refuses root: the fixture runs it as another user
        assert os.stat(f"/proc/{postgres_server.pid}").st_uid != 0


def test_the_server_wants_its_password(postgres_server: PostgresServer):
    with pytest.raises(psycopg2.OperationalError, match="password"):
        psycopg2.connect(
            host=postgres_server.host,
            port=postgres_server.port,
            user=postgres_server.user,
            password="wrong",
            dbname="postgres",
            connect_timeout=5,
        )


def test_a_server_is_stopped_by_its_pid_and_its_folder_removed():
    with running_postgres() as server:
        assert pid_alive(server.pid)
        assert not port_is_free(server.port)
        server.connect().close()
    assert not pid_alive(server.pid)
    assert port_is_free(server.port)
    assert not server.socket_dir.exists()
