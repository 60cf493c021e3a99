"""A thin wrapper around the `dvc` command line, with the remote rendered from Settings.

DVC always runs as a subprocess, never imported: its logging, threads and locks stay out
of the caller's process, and it may live in a virtual environment of its own (DVC needs
hydra, which pins antlr4 4.9, while Dagster's asset-selection parser needs antlr4 4.13).
The config files are edited by DVC's own `Config` class, in the same subprocess
interpreter. The S3 remote's URL, endpoint and region go to `.dvc/config` (committed); the
keys and the machine-local cache path go to `.dvc/config.local`, which DVC's own
`.dvc/.gitignore` keeps out of git.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from data_platform.settings import Settings, child_env

DVC_REMOTE = "lake"
DVC_PREFIX = "dvc"  # key prefix of DVC's content-addressed store in the lake's bucket
TIMEOUT_S = 600


PROJECT_DVC_VENV = Path(__file__).resolve().parents[2] / ".venv-dvc"

# runs in DVC's interpreter: apply {level: {section: values}} with DVC's validating Config
CONFIG_SCRIPT = """
import json, sys
from dvc.config import Config
edits = json.load(sys.stdin)
config = Config(dvc_dir=edits.pop("dvc_dir"))
for level, sections in edits.items():
    with config.edit(level) as conf:
        for name, options in sections.get("remote", {}).items():
            conf["remote"][name] = options
        conf["core"].update(sections.get("core", {}))
"""


class DvcError(RuntimeError):
    """A dvc command failed, or DVC is not installed; the message says which and why."""


def find_dvc_python() -> str:
    """An interpreter that can `import dvc`: this one, the project's `.venv-dvc`, or PATH's.

    Raises:
        DvcError: DVC is found nowhere; the message says how to install it.
    """
    if importlib.util.find_spec("dvc") is not None:
        return sys.executable
    local = PROJECT_DVC_VENV / "bin" / "python"
    if local.exists():
        return str(local)
    on_path = shutil.which("dvc")
    if on_path and (sibling := Path(on_path).resolve().parent / "python").exists():
        return str(sibling)
    raise DvcError(
        "DVC is not installed: `python -m venv .venv-dvc && "
        ".venv-dvc/bin/pip install dvc==3.67.1 dvc-s3==3.3.0` (docs/reproducibility.md)"
    )


@dataclass(frozen=True)
class DvcRepo:
    """A DVC project at `root` (a folder holding `.dvc/`), driven by `python -m dvc`."""

    root: Path
    python: str = field(default_factory=find_dvc_python)

    @property
    def dvc_dir(self) -> Path:
        return self.root / ".dvc"

    @property
    def site_cache_dir(self) -> Path:
        """DVC's index cache; inside the project (DVC's default is the shared /var/tmp/dvc)."""
        return self.dvc_dir / "tmp" / "site_cache"

    # -- finding and creating -------------------------------------------------------------
    @classmethod
    def find(cls, path: Path, python: str | None = None) -> DvcRepo | None:
        """The DVC project that contains `path` (which need not exist yet), if any."""
        for folder in _ancestors(path):
            if (folder / ".dvc" / "config").is_file():
                return cls(folder, python or find_dvc_python())
        return None

    @classmethod
    def open_or_init(cls, path: Path, python: str | None = None) -> DvcRepo:
        """The DVC project containing `path`; else `dvc init` at the enclosing git root.

        Args:
            path: A folder (or file) in the project; it need not exist yet.
            python: An interpreter with DVC installed; found automatically by default.

        Raises:
            DvcError: `path` is in neither a DVC project nor a git repository.
        """
        found = cls.find(path, python)
        if found is not None:
            return found
        for folder in _ancestors(path):
            if (folder / ".git").exists():
                repo = cls(folder, python or find_dvc_python())
                repo.run("init", "--quiet")
                return repo
        raise DvcError(f"{path} is not inside a git repository: `git init` one, then export")

    # -- configuration --------------------------------------------------------------------
    def configure_remote(
        self, settings: Settings, name: str = DVC_REMOTE, prefix: str = DVC_PREFIX
    ) -> str:
        """Point remote `name` (the default remote) at `s3://<bucket>/<prefix>` on the store.

        Returns:
            The remote's URL.
        """
        options = remote_config(settings)
        secrets = {k: options.pop(k) for k in ("access_key_id", "secret_access_key")}
        url = settings.s3_uri(prefix)
        edits = {
            "dvc_dir": str(self.dvc_dir),
            "repo": {"remote": {name: {"url": url, **options}}, "core": {"remote": name}},
            "local": {
                "remote": {name: secrets},
                "core": {"site_cache_dir": str(self.site_cache_dir)},
            },
        }
        self._python(["-c", CONFIG_SCRIPT], stdin=json.dumps(edits), what="dvc config")
        return url

    # -- commands -------------------------------------------------------------------------
    def run(self, *args: str, timeout: float = TIMEOUT_S) -> str:
        """Run `dvc <args>` in the project; returns stdout, raises DvcError on failure."""
        return self._python(["-m", "dvc", *args], what=f"dvc {' '.join(args)}", timeout=timeout)

    def _python(
        self, args: list[str], *, what: str, stdin: str | None = None, timeout: float = TIMEOUT_S
    ) -> str:
        env = child_env(DVC_NO_ANALYTICS="1", DVC_SITE_CACHE_DIR=str(self.site_cache_dir))
        done = subprocess.run(
            [self.python, *args],
            cwd=self.root,
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise DvcError(f"`{what}` failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout

    def add(self, path: Path) -> Path:
        """Track `path` (a folder or file) with DVC; returns its `.dvc` file."""
        self.run("add", "--quiet", str(self._relative(path)))
        return path.with_name(path.name + ".dvc")

    def push(self, dvc_file: Path, remote: str = DVC_REMOTE) -> str:
        """Upload the data `dvc_file` tracks to the remote."""
        return self.run("push", "--remote", remote, str(self._relative(dvc_file)))

    def pull(self, dvc_file: Path, remote: str = DVC_REMOTE) -> str:
        """Download the data `dvc_file` tracks from the remote and check it out."""
        return self.run("pull", "--remote", remote, str(self._relative(dvc_file)))

    def _relative(self, path: Path) -> Path:
        return path.resolve().relative_to(self.root.resolve())


def _ancestors(path: Path) -> list[Path]:
    path = path.resolve()
    return [path, *path.parents]


def remote_config(settings: Settings) -> dict[str, str]:
    """Keys of a DVC S3 remote on the store; credentials belong in `.dvc/config.local` only."""
    return {
        "endpointurl": settings.endpoint,
        "region": settings.s3_region,
        "access_key_id": settings.access_key,
        "secret_access_key": settings.secret_key,
    }
