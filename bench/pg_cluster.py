"""A private PostgreSQL cluster for the hub benchmark, in a temporary folder, on a free port.

The same approach as the tests' ``tests/pg_server.py`` (which bench may not import): ``initdb`` with
password (scram-sha-256) authentication, ``pg_ctl start`` on 127.0.0.1 with the Unix socket in that
folder, run as the ``postgres`` (else ``nobody``) system user when we are root, since PostgreSQL
refuses to run as root. Unlike the tests' cluster it keeps PostgreSQL's durable defaults (fsync,
synchronous_commit, full_page_writes, 128 MB of shared buffers) unless ``durable=False``: these are
the numbers a hub would give.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

SUPERUSER = "postgres"


def find_pg_bin() -> Path | None:
    """The folder holding initdb and pg_ctl: ``$SPO_TUI_PG_BIN``, the newest Debian one, or pg_config's."""
    env = os.environ.get("SPO_TUI_PG_BIN")
    if env:
        return Path(env)
    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    if found:
        return max(found, key=lambda p: tuple(int(x) for x in re.findall(r"\d+", p.parent.name)) or (0,))
    pg_config = shutil.which("pg_config")
    if pg_config:
        done = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if done.returncode == 0 and (Path(done.stdout.strip()) / "initdb").exists():
            return Path(done.stdout.strip())
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _owner() -> tuple[list[str], int | None, int | None]:
    """How to run a command as a non-root user, and its uid and gid (None when we are not root)."""
    if os.geteuid() != 0:
        return [], None, None
    for name in ("postgres", "nobody"):
        try:
            user = pwd.getpwnam(name)
        except KeyError:
            continue
        if shutil.which("runuser"):
            return ["runuser", "-u", name, "--"], user.pw_uid, user.pw_gid
        prefix = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]
        return prefix, user.pw_uid, user.pw_gid
    raise RuntimeError("running as root, and there is neither a postgres nor a nobody user to run PostgreSQL as")


@dataclass
class Cluster:
    bin_dir: Path
    root: Path
    port: int
    password: str
    run_as: list[str] = field(default_factory=list)

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, login: str, password: str, dbname: str = "postgres") -> str:
        return f"postgresql://{quote(login, safe='')}:{quote(password, safe='')}@127.0.0.1:{self.port}/{quote(dbname, safe='')}"

    def admin_url(self, dbname: str = "postgres") -> str:
        return self.url(SUPERUSER, self.password, dbname)

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [*self.run_as, str(self.bin_dir / args[0]), *args[1:]],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={**os.environ, "LC_ALL": "C", "LANG": "C"},
        )
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stdout}{done.stderr}{tail}")
        return done

    def stop(self) -> None:
        try:
            self.run("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w", "-t", "60")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start(bin_dir: Path, *, durable: bool = True) -> Cluster:
    """initdb a new cluster in a temporary folder and start it; the caller calls ``stop()``."""
    run_as, uid, gid = _owner()
    root = Path(tempfile.mkdtemp(prefix="spo-hub-bench-"))
    cluster = Cluster(bin_dir, root, 0, secrets.token_urlsafe(18), run_as)
    try:
        pwfile = root / "pwfile"
        pwfile.write_text(cluster.password + "\n")
        if uid is not None and gid is not None:
            for path in (root, pwfile):
                os.chown(path, uid, gid)
        cluster.run(
            "initdb",
            "-D",
            str(cluster.data),
            "-U",
            SUPERUSER,
            f"--pwfile={pwfile}",
            "--auth=scram-sha-256",
            "--encoding=UTF8",
            "--no-locale",
            "--no-instructions",
            *([] if durable else ["--no-sync"]),
        )
        pwfile.unlink()
        options = ["-c listen_addresses=127.0.0.1", f"-c unix_socket_directories={root}", "-c max_connections=120"]
        if not durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        for attempt in range(3):
            cluster.port = _free_port()
            try:
                cluster.run(
                    "pg_ctl",
                    "start",
                    "-D",
                    str(cluster.data),
                    "-l",
                    str(root / "server.log"),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    " ".join([*options, f"-c port={cluster.port}"]),
                )
                break
            except RuntimeError:  # the port was taken between choosing and binding it
                if attempt == 2:
                    raise
        return cluster
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
