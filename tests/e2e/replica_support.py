"""Shared pieces of the replica sink's end-to-end tests (replica_pg.py, replica_mariadb_pg.py,
replica_crash_loop.py) and its benchmark (bench/sink/replica_pg.py).

- Source: a throwaway PostgreSQL 15 or MariaDB 10.11 started by eddy-localdb.
- Target: a second PostgreSQL 15 run with initdb/pg_ctl from the Debian package directly, so a
  test can stop and start it (a real restart on the same data directory), which eddy-localdb
  (whose servers live and die with it) does not offer.
Waits are bounded polls on conditions, never fixed sleeps.
"""
import os
import pwd
import re
import shutil
import subprocess
import tempfile

from e2e_common import (free_port, sink_state, start_localdb, stop_process,  # noqa: F401
                        wait_for)

PG_BIN = "/usr/lib/postgresql/15/bin"
ENV = dict(os.environ, PGTZ="UTC", PGDATESTYLE="ISO, YMD", PGCLIENTENCODING="UTF8")


class LocalServer:
    """A source server from eddy-localdb (kind: postgres or mariadb)."""

    def __init__(self, localdb, work, kind="postgres"):
        self.kind = kind
        self.process, self.url = start_localdb(localdb, kind, work, f"localdb-{kind}")

    def _mysql_args(self):
        m = re.match(r"mysql://([^:]+):([^@]*)@([^:/]+):(\d+)/?(.*)", self.url)
        user, password, host, port, database = m.groups()
        args = ["mariadb", "-u", user, f"-p{password}", "-h", host, "-P", port,
                "--default-character-set=utf8mb4"]
        return args + ([database] if database else [])

    def sql(self, statement):
        if self.kind == "postgres":
            subprocess.run(["psql", self.url, "-v", "ON_ERROR_STOP=1", "-q", "-c", statement],
                           check=True, stdout=subprocess.DEVNULL, env=ENV)
        else:
            subprocess.run(self._mysql_args() + ["-e", statement], check=True,
                           stdout=subprocess.DEVNULL)

    def query(self, statement):
        if self.kind == "postgres":
            return subprocess.run(["psql", self.url, "-v", "ON_ERROR_STOP=1", "-qAt", "-F", "\t",
                                   "-c", statement], check=True, stdout=subprocess.PIPE,
                                  text=True, env=ENV).stdout
        return subprocess.run(self._mysql_args() + ["-N", "-B", "-e", statement], check=True,
                              stdout=subprocess.PIPE, text=True).stdout

    def stop(self):
        stop_process(self.process)


class TargetPostgres:
    """A PostgreSQL 15 target that can be stopped and started again (pg_ctl)."""

    def __init__(self, work):
        self.dir = tempfile.mkdtemp(prefix="eddy-replica-target-", dir=work)
        self.data = self.dir + "/data"
        self.port = free_port()
        self.run_as = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            os.chmod(work, 0o755)
            self.run_as = ["runuser", "-u", "postgres", "--"]
        pwfile = self.dir + "/pw"
        with open(pwfile, "w") as f:
            f.write("target\n")
        if self.run_as:
            shutil.chown(pwfile, "postgres", "postgres")
        subprocess.run(self.run_as + [PG_BIN + "/initdb", "-D", self.data, "-U", "eddy",
                                      "--pwfile", pwfile, "--auth-local=trust",
                                      "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"postgresql://eddy:target@127.0.0.1:{self.port}/postgres"
        self.start()

    def start(self):
        subprocess.run(self.run_as + [PG_BIN + "/pg_ctl", "-D", self.data, "-l", self.dir + "/log",
                                      "-w", "-t", "60", "-o",
                                      f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                                      "-c fsync=off -c max_connections=50",
                                      "start"], check=True, stdout=subprocess.DEVNULL)

    def stop(self, mode="fast"):
        subprocess.run(self.run_as + [PG_BIN + "/pg_ctl", "-D", self.data, "-m", mode, "-w",
                                      "stop"], check=False, stdout=subprocess.DEVNULL)

    def sql(self, statement):
        subprocess.run(["psql", self.url, "-v", "ON_ERROR_STOP=1", "-q", "-c", statement],
                       check=True, stdout=subprocess.DEVNULL, env=ENV)

    def query(self, statement, check=True):
        result = subprocess.run(["psql", self.url, "-v", "ON_ERROR_STOP=1", "-qAt", "-F", "\t",
                                 "-c", statement], check=check, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=ENV)
        return result.stdout if result.returncode == 0 else None

    def close(self):
        self.stop("immediate")


def start_eddy(eddy, source_url, data_dir, sink_url, tables, log, metrics_port=None,
               extra=()):
    command = [eddy, "run", "--source", source_url, "--data-dir", data_dir, "--stream", "rep",
               "--tables", tables, "--api-listen", "127.0.0.1:0", "--sink", sink_url]
    if metrics_port:
        command += ["--metrics-listen", f"127.0.0.1:{metrics_port}"]
    return subprocess.Popen(command + list(extra), stdout=log, stderr=subprocess.STDOUT)
