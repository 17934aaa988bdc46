"""A private PostgreSQL server for the hub's tests, and a fresh database on it for each test.

``pg_cluster`` (session scope) runs ``initdb`` in a temporary folder and starts the server on a free
port of 127.0.0.1, with password (scram-sha-256) authentication only and its Unix socket in that
folder; it is stopped (``pg_ctl stop -m immediate``) and the folder removed when the session ends.
Under pytest-xdist each worker process has its own session, so its own cluster. PostgreSQL refuses
to run as root: when the tests run as root (CI), the cluster belongs to the ``postgres`` system user
(``nobody`` where there is none) and its commands run as that user.

The binaries are found in ``$SPO_TUI_PG_BIN``, else the newest ``/usr/lib/postgresql/*/bin``, else
``pg_config --bindir``. When there are none at all the hub's tests are skipped, saying so
(``.ci/run`` installs PostgreSQL 15, so on CI they run).

``hub`` (function scope) makes a new database for the test and yields a :class:`Hub`:

- ``hub.admin_url``: the superuser's URL of that database;
- ``hub.login(base)``: a login name unique to this test (``base`` plus the test's suffix);
- ``hub.login_url(login, password)``: the URL that logs in to that database as ``login``;
- ``hub.connect(url=None, **kwargs)``: a psycopg connection (to ``admin_url`` by default), closed
  after the test.

Logins (roles) belong to the whole cluster, not to one database: the ones a test makes are dropped
after it, with its database, so names such as ``sam_spo`` derived by ``hub add-user`` can be used in
every test; ``hub.login`` is there for tests that want names no other test could make.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest

SUPERUSER = "postgres"
_START_TRIES = 3


def find_pg_bin() -> Path | None:
    """The folder holding initdb and pg_ctl: ``$SPO_TUI_PG_BIN``, the newest Debian one, or pg_config's."""
    env = os.environ.get("SPO_TUI_PG_BIN")
    if env:
        return Path(env)
    debian = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    if debian:
        return max(debian, key=lambda p: _version_key(p.parent.name))
    pg_config = shutil.which("pg_config")
    if pg_config:
        done = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        bindir = Path(done.stdout.strip())
        if done.returncode == 0 and (bindir / "initdb").exists():
            return bindir
    return None


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", name)) or (0,)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgCluster:
    """A running private cluster: where it is, its port, and its superuser's password."""

    bin_dir: Path
    root: Path  # the temporary folder: data/, the socket, the log, the password file
    port: int
    password: str
    run_as: list[str] = field(default_factory=list)  # the prefix running a command as the cluster's owner

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    def url(self, login: str, password: str, dbname: str = "postgres") -> str:
        return f"postgresql://{quote(login, safe='')}:{quote(password, safe='')}@127.0.0.1:{self.port}/{quote(dbname, safe='')}"

    def admin_url(self, dbname: str = "postgres") -> str:
        return self.url(SUPERUSER, self.password, dbname)

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL program as the cluster's owner, from inside its folder (root's home is
        not readable by it); fail with its output if it fails."""
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
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stdout}{done.stderr}{log}")
        return done


def _owner_prefix() -> tuple[list[str], int | None, int | None]:
    """How to run a command as a non-root user, and that user's uid and gid (None when not root)."""
    if os.geteuid() != 0:
        return [], None, None
    for name in ("postgres", "nobody"):
        try:
            user = pwd.getpwnam(name)
        except KeyError:
            continue
        if shutil.which("runuser"):
            return ["runuser", "-u", name, "--"], user.pw_uid, user.pw_gid
        return (
            ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"],
            user.pw_uid,
            user.pw_gid,
        )
    raise RuntimeError("running as root, and there is neither a postgres nor a nobody user to run PostgreSQL as")


def start_cluster(bin_dir: Path) -> PgCluster:
    """initdb a new cluster in a temporary folder and start it; the caller stops it (``stop_cluster``)."""
    run_as, uid, gid = _owner_prefix()
    root = Path(tempfile.mkdtemp(prefix="spo-pg-"))  # in /tmp: a short path, for the Unix socket
    cluster = PgCluster(bin_dir=bin_dir, root=root, port=0, password=secrets.token_urlsafe(18), run_as=run_as)
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
            "--no-sync",
            "--no-instructions",
        )
        pwfile.unlink()
        for attempt in range(_START_TRIES):
            cluster.port = _free_port()
            options = " ".join(
                [
                    "-c listen_addresses=127.0.0.1",
                    f"-c port={cluster.port}",
                    f"-c unix_socket_directories={root}",
                    "-c fsync=off",
                    "-c synchronous_commit=off",
                    "-c full_page_writes=off",
                    "-c max_connections=50",
                    "-c shared_buffers=16MB",
                ]
            )
            try:
                cluster.run(
                    "pg_ctl", "start", "-D", str(cluster.data), "-l", str(cluster.log), "-w", "-t", "30", "-o", options
                )
                break
            except RuntimeError:  # the port was taken between choosing and binding it: another one
                if attempt == _START_TRIES - 1:
                    raise
        return cluster
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


def stop_cluster(cluster: PgCluster) -> None:
    try:
        cluster.run("pg_ctl", "stop", "-D", str(cluster.data), "-m", "immediate", "-w", "-t", "30")
    finally:
        shutil.rmtree(cluster.root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """The worker's private PostgreSQL cluster (skips the test when PostgreSQL is not installed)."""
    bin_dir = find_pg_bin()
    if bin_dir is None or not (bin_dir / "initdb").exists():
        pytest.skip("no PostgreSQL server binaries (set SPO_TUI_PG_BIN, or install postgresql-15)")
    cluster = start_cluster(bin_dir)
    try:
        yield cluster
    finally:
        stop_cluster(cluster)


_counter = itertools.count(1)


@dataclass
class Hub:
    """One test's database on the worker's cluster (see the module's docstring)."""

    cluster: PgCluster
    dbname: str
    suffix: str
    _connections: list = field(default_factory=list)

    @property
    def admin_url(self) -> str:
        return self.cluster.admin_url(self.dbname)

    def login(self, base: str) -> str:
        """A login name no other test makes: ``base`` and this test's suffix."""
        return f"{base}_{self.suffix}"

    def login_url(self, login: str, password: str) -> str:
        return self.cluster.url(login, password, self.dbname)

    def connect(self, url: str | None = None, **kwargs):
        import psycopg

        kwargs.setdefault("autocommit", True)
        conn = psycopg.connect(url or self.admin_url, **kwargs)
        self._connections.append(conn)
        return conn


def _roles(conn) -> set[str]:
    return {r[0] for r in conn.execute("SELECT rolname FROM pg_roles").fetchall()}


@pytest.fixture
def hub(pg_cluster: PgCluster) -> Iterator[Hub]:
    """A fresh database for this test on the worker's cluster; what it made is dropped after it."""
    import psycopg
    from psycopg import sql

    n = next(_counter)
    suffix = f"{os.getpid() % 100000}x{n}"
    dbname = f"hub_{suffix}"
    with psycopg.connect(pg_cluster.admin_url(), autocommit=True) as admin:
        roles_before = _roles(admin)
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    made = Hub(cluster=pg_cluster, dbname=dbname, suffix=suffix)
    try:
        yield made
    finally:
        for conn in made._connections:
            with contextlib.suppress(Exception):
                conn.close()
        with psycopg.connect(pg_cluster.admin_url(), autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
            # Logins the test made, except spo_member: every hub database of this cluster shares it.
            for role in sorted(_roles(admin) - roles_before - {"spo_member"}):
                admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
