"""infra/compose/argilla: a well-formed compose file whose variables all have examples."""

from __future__ import annotations

from pathlib import Path

import yaml

from data_platform_tests.infra.infra_files import compose_problems, read_env_file

ARGILLA = Path(__file__).resolve().parents[2] / "infra" / "compose" / "argilla"


def test_argilla_compose_file_has_no_problems():
    compose = yaml.safe_load((ARGILLA / "docker-compose.yml").read_text())
    assert compose_problems(compose, read_env_file(ARGILLA / ".env.example"), ARGILLA) == []
    assert set(compose["services"]) == {"argilla", "worker", "postgres", "elasticsearch", "redis"}
    assert compose["services"]["argilla"]["image"] == "argilla/argilla-server:v2.8.0"
    # only Argilla is published, and only on loopback
    published = {n: s["ports"] for n, s in compose["services"].items() if s.get("ports")}
    assert list(published) == ["argilla"]
    assert published["argilla"][0].startswith("127.0.0.1:")
