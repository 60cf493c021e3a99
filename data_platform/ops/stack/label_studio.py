"""The local Label Studio: its own virtual env, on 127.0.0.1, with a generated admin and token.

Label Studio pins Django and ~1 GB of packages, so it lives in its own venv (created once,
by default under `~/.cache/data_platform/label-studio-<version>`, shared by every
checkout). Its first start runs ~400 database migrations (1-2 minutes); the venv keeps a
migrated, user-less database as a template, so every new data directory starts from a
copy in seconds and still gets its own admin, password and token.
"""

from __future__ import annotations

import fcntl
import json
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from data_platform.ops.stack.process import (
    ManagedServer,
    free_port,
    pid_alive,
    port_is_free,
    start_process,
    stop_pid,
)
from data_platform.settings import Settings, child_env, user_cache_dir

LABEL_STUDIO_VERSION = "1.23.2"
# what Label Studio 1.23 leaves unpinned and a later release broke: sentry-sdk 3.0 (2026-12)
# refuses the `send_default_pii` option that Label Studio's settings pass at import
LABEL_STUDIO_PINS = ("sentry-sdk<3",)
INSTALLED_STAMP = " ".join((LABEL_STUDIO_VERSION, *LABEL_STUDIO_PINS))
READY_TIMEOUT_S = 240.0  # a first start without the template runs every migration
INSTALL_TIMEOUT_S = 1200.0
TEMPLATE = "dp-template/label_studio.sqlite3"


def default_venv() -> Path:
    """`$DP_LABEL_STUDIO_VENV`, else `<XDG cache>/data_platform/label-studio-<version>`."""
    if configured := Settings().label_studio_venv:
        return configured.expanduser()
    return user_cache_dir() / "data_platform" / f"label-studio-{LABEL_STUDIO_VERSION}"


@dataclass(frozen=True)
class LabelStudioState:
    """What `labeling up` writes and the labeling settings read: where and how to log in."""

    url: str
    port: int
    pid: int
    username: str
    password: str
    token: str
    data_dir: str
    version: str


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive file lock: parallel test workers install and template only once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _server_env(data_dir: Path) -> dict[str, str]:
    return child_env(
        ("PATH", "LANG", "LC_ALL", "TZ", "TMPDIR"),
        HOME=str(data_dir),  # Label Studio writes ~/.config/label-studio: keep it here
        LABEL_STUDIO_BASE_DATA_DIR=str(data_dir),
        LABEL_STUDIO_LATEST_VERSION_CHECK="false",  # no call to pypi.org on start
        LABEL_STUDIO_COLLECT_ANALYTICS="false",
        PYTHONUNBUFFERED="1",
    )


class LabelStudioInstall:
    """The venv with a pinned `label-studio`, and its migrated database template."""

    def __init__(self, venv: Path | None = None) -> None:
        self.venv = (venv or default_venv()).expanduser().resolve()
        self.binary = self.venv / "bin" / "label-studio"
        self.stamp = self.venv / ".dp-installed"
        self.template = self.venv / TEMPLATE

    @property
    def ready(self) -> bool:
        return self.stamp.exists() and self.template.exists()

    def ensure(self, log: Path | None = None) -> Path:
        """Create the venv and the template if missing (minutes, once). Returns the venv."""
        with _locked(self.venv.parent / f".{self.venv.name}.lock"):
            if not self.stamp.exists() or self.stamp.read_text().strip() != INSTALLED_STAMP:
                self._install(log)
            if not self.template.exists():
                self._make_template()
        return self.venv

    def _install(self, log: Path | None) -> None:
        base = Path(getattr(sys, "_base_executable", sys.executable))
        out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
        try:
            subprocess.run([str(base), "-m", "venv", "--clear", str(self.venv)], check=True)
            python = str(self.venv / "bin" / "python")
            uv = Path(sys.executable).parent / "uv"  # installed with the platform; much faster
            pip = (
                [str(uv), "pip", "install", "-q", "--python", python]
                if uv.exists()
                else [python, "-m", "pip", "install", "-q"]
            )
            subprocess.run(
                [*pip, f"label-studio=={LABEL_STUDIO_VERSION}", *LABEL_STUDIO_PINS],
                check=True,
                stdout=out,
                stderr=out,
                timeout=INSTALL_TIMEOUT_S,
            )
        finally:
            if not isinstance(out, int):  # a log file, not subprocess.DEVNULL
                out.close()
        self.stamp.write_text(INSTALLED_STAMP)

    def _make_template(self) -> None:
        """Start once on a scratch directory without a user, stop, keep the migrated DB."""
        with tempfile.TemporaryDirectory(prefix="label-studio-template-") as scratch:
            data = Path(scratch)
            port = free_port()
            pid = start_process(
                self.command(port),
                log_file=data / "server.log",
                pid_file=data / "server.pid",
                env=_server_env(data),
                cwd=data,
            )
            try:
                _wait_healthy(f"http://127.0.0.1:{port}", pid, data / "server.log")
            finally:
                stop_pid(pid)
            self.template.parent.mkdir(parents=True, exist_ok=True)
            partial = self.template.with_suffix(".partial")
            shutil.copy2(data / "label_studio.sqlite3", partial)
            partial.replace(self.template)

    def command(self, port: int, *extra: str) -> list[str]:
        return [
            str(self.binary),
            "start",
            "--no-browser",
            "--internal-host",
            "127.0.0.1",  # the default is 0.0.0.0
            "-p",
            str(port),
            *extra,
        ]


def _wait_healthy(url: str, pid: int, log: Path, timeout: float = READY_TIMEOUT_S) -> None:
    """Poll `/health` until it answers; fail at once (with the log's tail) if the server exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
            raise RuntimeError(f"label-studio exited during start; log {log} ends:\n{tail}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass  # not listening yet
        time.sleep(0.5)
    raise TimeoutError(f"Label Studio not up at {url} after {timeout:.0f}s; see {log}")


class LocalLabelStudio(ManagedServer):
    """One Label Studio server whose database, files, credentials and PID live under `root`."""

    state_type = LabelStudioState

    def __init__(self, root: Path, install: LabelStudioInstall | None = None) -> None:
        self.root = root.expanduser().resolve()
        self.install = install or LabelStudioInstall()
        self.data_dir = self.root / "data"
        self.state_file = self.root / "state.json"
        self.pid_file = self.root / "label-studio.pid"
        self.log_file = self.root / "label-studio.log"
        self.credentials_file = self.root / "credentials.json"

    def up(self, port: int | None = None) -> LabelStudioState:
        """Start the server (or return the running one); installs the venv on first use."""
        running = self.state()
        if running is not None:
            return running
        self.install.ensure(log=self.root / "install.log")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        database = self.data_dir / "label_studio.sqlite3"
        if not database.exists():
            shutil.copy2(self.install.template, database)
        creds = self._credentials()
        port = port or self._reuse_or_pick_port()
        env = _server_env(self.data_dir)
        # credentials by environment, not argv: command lines are visible to every user
        env["LABEL_STUDIO_USERNAME"] = creds["username"]
        env["LABEL_STUDIO_PASSWORD"] = creds["password"]
        env["LABEL_STUDIO_USER_TOKEN"] = creds["token"]
        pid = start_process(
            self.install.command(port, "--enable-legacy-api-token"),
            log_file=self.log_file,
            pid_file=self.pid_file,
            env=env,
            cwd=self.data_dir,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(url, pid, self.log_file)
        except Exception:
            stop_pid(pid)
            raise
        state = LabelStudioState(
            url=url, port=port, pid=pid, data_dir=str(self.data_dir),
            version=LABEL_STUDIO_VERSION, **creds,
        )  # fmt: skip
        self.state_file.write_text(json.dumps(asdict(state), indent=2))
        self.state_file.chmod(0o600)
        return state

    def _credentials(self) -> dict[str, str]:
        """The admin's login and token: generated once, kept (the database remembers them)."""
        if self.credentials_file.exists():
            return json.loads(self.credentials_file.read_text())
        self.root.mkdir(parents=True, exist_ok=True)
        creds = {
            "username": "admin@data-platform.local",
            "password": secrets.token_urlsafe(12),
            "token": secrets.token_hex(20),
        }
        self.credentials_file.write_text(json.dumps(creds, indent=2))
        self.credentials_file.chmod(0o600)
        return creds

    def _reuse_or_pick_port(self) -> int:
        previous = self.root / "port"
        if previous.exists() and port_is_free(int(previous.read_text())):
            return int(previous.read_text())
        port = free_port()
        previous.write_text(str(port))
        return port
