"""docs/deployment.md tells what the files do: its commands, names and policies are checked here.

The commands cannot run on these machines (no MinIO, Docker engine or cluster); what can be
checked offline is that they name files, settings, images, Services and ports that exist,
and that the hand-typed mc steps do what infra/local/minio-setup.sh does.
"""

from __future__ import annotations

import json
import re
import shlex
import textwrap
import tomllib

import yaml

from data_platform.settings import Settings
from data_platform_tests.infra.fakes import (
    SERVER,
    SETUP,
    actions_by_resource,
    calls,
    policy_by_resource,
    run,
)
from data_platform_tests.infra.infra_files import (
    K8S_DIR,
    REPO_ROOT,
    find_object,
    helm_values,
    load_compose,
)


def doc() -> str:
    return (REPO_ROOT / "docs/deployment.md").read_text()


def section(title: str) -> str:
    return doc().split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def commands(text: str) -> list[list[str]]:
    """Shell commands of the bash blocks (continuations joined, heredoc bodies left out)."""
    found = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        block = re.sub(r"<<'EOF'\n.*?\nEOF\n", "\n", textwrap.dedent(block), flags=re.S)
        for line in block.replace("\\\n", " ").splitlines():
            if line.strip():
                found.append(shlex.split(line, comments=True))
    return found


def test_sections_a_newcomer_looks_for_exist():
    for title in ("Run MinIO locally", "Docker Compose", "Kubernetes (kind)"):
        assert section(title)
    assert "data-platform stack up" in doc()
    assert "validated offline, not run" in doc()


def test_named_files_exist_and_named_settings_are_fields():
    created = {c[-1] for c in commands(doc()) if c[0] == "cp"}  # e.g. the compose .env
    assert created == {"infra/compose/.env"}
    for path in set(re.findall(r"\b(?:infra|docs|data_platform_tests)/[\w./-]*\w", doc())):
        assert path in created or (REPO_ROOT / path).exists(), path
    for name in set(re.findall(r"\bDP_[A-Z_]*[A-Z]\b", doc())):
        assert name.removeprefix("DP_").lower() in Settings.model_fields, name


def _normalized(command: list[str], alias: str) -> list[str]:
    """A command with the mc alias and policy file paths, which may differ, replaced."""
    words = []
    for word in command:
        if word.split("/", 1)[0] == alias:
            word = word.replace(alias, "ALIAS", 1)
        words.append("POLICY.json" if word.endswith(".json") else word)
    return words


def test_hand_typed_mc_steps_match_the_setup_script(fake_dir):
    local = section("Run MinIO locally")
    by_hand = [_normalized(c[1:], "local") for c in commands(local) if c[0] == "mc"][:8]
    env = {  # the values the docs type
        "MINIO_ENDPOINT": "http://127.0.0.1:9000",
        "MINIO_ROOT_USER": "$MINIO_ROOT_USER",
        "MINIO_ROOT_PASSWORD": "$MINIO_ROOT_PASSWORD",
        "DP_BUCKET": "lake",
        "PLATFORM_ACCESS_KEY": "data-platform",
        "PLATFORM_SECRET_KEY": "change-me-platform",
        "READONLY_ACCESS_KEY": "lake-reader",
        "READONLY_SECRET_KEY": "change-me-reader",
    }
    assert run(SETUP, fake_dir, **env).returncode == 0
    scripted = [_normalized(shlex.split(c), "dp-setup") for c in calls(fake_dir)]
    assert by_hand == scripted
    heredocs = dict(re.findall(r"cat > (\S+\.json) <<'EOF'\n(.*?)\n\s*EOF", local, re.S))
    for name in ("lake-readwrite", "lake-readonly"):
        typed_policy = json.loads(textwrap.dedent(heredocs[f"{name}.json"]))
        assert actions_by_resource(typed_policy) == policy_by_resource(fake_dir, name)


def test_local_server_command_matches_the_server_script(fake_dir, tmp_path):
    (typed,) = [c for c in commands(section("Run MinIO locally")) if c[0] == "minio"]
    env = {"MINIO_ROOT_USER": "root", "MINIO_ROOT_PASSWORD": "root-password"}
    assert run(SERVER, fake_dir, **env, MINIO_DATA_DIR=typed[2]).returncode == 0
    assert (fake_dir / "minio.args").read_text().split() == typed[1:]


def test_compose_commands_use_the_compose_file():
    compose = [c for c in commands(section("Docker Compose")) if c[:2] == ["docker", "compose"]]
    assert compose
    for command in compose:
        assert (REPO_ROOT / command[command.index("-f") + 1]).is_file()
    services = load_compose()["services"]
    execs = [c for c in compose if "exec" in c]
    assert all(c[c.index("exec") + 1] in services for c in execs)


def test_kubernetes_commands_name_what_the_files_define():
    cmds = commands(section("Kubernetes (kind)"))
    kind_config = yaml.safe_load((K8S_DIR / "kind-config.yaml").read_text())
    values = helm_values()
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    image = f"{deployment['image']['repository']}:{deployment['image']['tag']}"
    (load,) = [c for c in cmds if c[:3] == ["kind", "load", "docker-image"]]
    assert load == ["kind", "load", "docker-image", image, "--name", kind_config["name"]]
    (build,) = [c for c in cmds if c[:2] == ["docker", "build"]]
    assert build[build.index("-t") + 1] == image
    (helm,) = [c for c in cmds if c[:3] == ["helm", "upgrade", "--install"]]
    pins = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert f"dagster=={helm[helm.index('--version') + 1]}" in pins
    assert (REPO_ROOT / helm[helm.index("-f") + 1]).resolve() == K8S_DIR / "dagster-values.yaml"
    forwards = {c[4]: c[5] for c in cmds if c[3:4] == ["port-forward"]}
    # The chart names the webserver Service <release>-webserver, port 80 by default.
    assert forwards.pop(f"svc/{helm[3]}-webserver").endswith(":80")
    for target, ports in forwards.items():
        service = find_object("Service", target.removeprefix("svc/"))
        assert int(ports.split(":")[1]) in {p["port"] for p in service["spec"]["ports"]}
