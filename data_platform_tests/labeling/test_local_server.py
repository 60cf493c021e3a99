"""The platform's own Label Studio: loopback only, credentials kept, data kept across restarts."""

from __future__ import annotations

import os

import pytest

from data_platform.labeling.label_studio import LabelStudioBackend
from data_platform.ops.stack.label_studio import LocalLabelStudio
from data_platform_tests.defs.helpers import sample_contract

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_restart_keeps_login_token_port_and_projects(tmp_path):
    server = LocalLabelStudio(tmp_path / "label-studio")
    first = server.up()
    assert server.up() == first  # already running: the same server
    assert first.url.startswith("http://127.0.0.1:")
    assert oct(os.stat(server.state_file).st_mode)[-3:] == "600"
    with open(f"/proc/{first.pid}/cmdline", "rb") as cmd:
        assert first.password.encode() not in cmd.read()  # secrets are not on the command line
    reviews = sample_contract("reviews")
    LabelStudioBackend(first.url, first.token).ensure_project(reviews)
    assert server.down()
    assert server.state() is None
    assert not server.down()
    second = server.up()
    try:
        assert (second.url, second.token, second.username) == (
            first.url,
            first.token,
            first.username,
        )
        assert LabelStudioBackend(second.url, second.token).find_project(reviews) is not None
    finally:
        server.down()
