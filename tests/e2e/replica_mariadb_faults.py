#!/usr/bin/env python3
"""Target faults of the replica sink into MariaDB, made deterministic, against real PostgreSQL 15
(source) and MariaDB 10.11 (target) servers from eddy-localdb.

    replica_mariadb_faults.py EDDY_BINARY EDDY_LOCALDB_BINARY

1. A deadlock in the target: another session holds row 2 and has written 5,000 rows (so InnoDB
   picks the sink's lighter transaction as the victim); the sink's batch locks row 1 and waits
   for row 2 (seen in information_schema.INNODB_TRX); the other session then asks for row 1:
   deadlock (error 1213). The sink turns IMPAIRED naming error 1213, retries once the other
   session commits, turns ACTIVE, and the target equals the source.
2. A COMMIT whose outcome is unknown: the sink talks to MariaDB through a TCP proxy in this
   test that cuts the connection at the batch's COMMIT, either before the server gets it (the
   batch is not committed: it must be applied again) or right after the server committed it,
   dropping the server's OK (committed, but eddy cannot know: the checkpoint row must settle
   it, without applying the batch again). The table has no primary key (plain INSERTs), so a
   batch applied twice would double its rows: the target must hold exactly the source's rows.
A failing server start is a failure, never a skip.
"""
import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import threading

from replica_support import LocalServer, free_port, sink_state, start_eddy, stop_process, wait_for


class Mariadb:
    """The target database `replica` on the MariaDB server at `url` (mysql://u:p@h:port/db)."""

    def __init__(self, url, database, port=None):
        rest = url.split("://", 1)[1]
        credentials, address = rest.split("@", 1)
        self.user, self.password = credentials.split(":", 1)
        self.host, self.port = address.split("/", 1)[0].split(":")
        self.database = database
        self.url_port = port or self.port

    def url(self):
        return (f"mariadb://{self.user}:{self.password}@{self.host}:{self.url_port}/"
                f"{self.database}?ssl_mode=disable")

    def args(self):
        return ["mariadb", "-u", self.user, f"-p{self.password}", "-h", self.host, "-P",
                self.port, "--default-character-set=utf8mb4", self.database]

    def query(self, statement):
        result = subprocess.run(self.args() + ["-N", "-B", "-e", statement], check=False,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return result.stdout if result.returncode == 0 else None


class CommitCutter:
    """A TCP proxy to MariaDB that, when armed, cuts the connection carrying the next COMMIT
    (COM_QUERY "COMMIT"): mode "before" drops the COMMIT unsent; mode "after" sends it and drops
    the server's reply. Client packets are parsed (3-byte length, sequence, payload); TLS is
    off (ssl_mode=disable), so the bytes are readable."""

    def __init__(self, upstream_port):
        self.upstream_port = int(upstream_port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.mode = None  # None, "before" or "after"
        self.cuts = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, mode):
        with self.lock:
            self.mode = mode

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.upstream_port))
            state = {"commit_sent": False}
            threading.Thread(target=self._client_to_server, args=(client, server, state),
                             daemon=True).start()
            threading.Thread(target=self._server_to_client, args=(client, server, state),
                             daemon=True).start()

    @staticmethod
    def _close(client, server):
        for s in (client, server):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _client_to_server(self, client, server, state):
        buffer = b""
        try:
            while True:
                data = client.recv(65536)
                if not data:
                    break
                buffer += data
                while len(buffer) >= 4:
                    length = int.from_bytes(buffer[:3], "little")
                    if len(buffer) < 4 + length:
                        break
                    packet, buffer = buffer[:4 + length], buffer[4 + length:]
                    with self.lock:
                        cut = self.mode if packet[4:] == b"\x03COMMIT" else None
                        if cut:
                            self.mode = None
                    if cut == "before":
                        self.cuts += 1
                        self._close(client, server)
                        return
                    if cut == "after":
                        state["commit_sent"] = True
                    server.sendall(packet)
        except OSError:
            pass
        self._close(client, server)

    def _server_to_client(self, client, server, state):
        try:
            while True:
                data = server.recv(65536)
                if not data:
                    break
                if state["commit_sent"]:  # the COMMIT's reply: the commit happened
                    self.cuts += 1
                    self._close(client, server)
                    return
                client.sendall(data)
        except OSError:
            pass
        self._close(client, server)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("eddy")
    parser.add_argument("localdb")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="eddy-replica-faults-")
    maria = pg = run = None
    ok = False
    try:
        maria = LocalServer(args.localdb, work, "mariadb")
        pg = LocalServer(args.localdb, work, "postgres")
        maria.sql("CREATE DATABASE replica")
        proxy_probe = Mariadb(maria.url, "replica")
        proxy = CommitCutter(proxy_probe.port)
        target = Mariadb(maria.url, "replica", port=proxy.port)
        pg.sql("CREATE TABLE kv (k int PRIMARY KEY, v int NOT NULL); "
               "INSERT INTO kv VALUES (1, 0), (2, 0); "
               "CREATE TABLE appended (n int NOT NULL, note text)")
        target_sql = Mariadb(maria.url, "replica")
        log = open(work + "/eddy.log", "a")
        metrics_port = free_port()
        run = start_eddy(args.eddy, pg.url, work + "/data",
                         target.url() + "&name=replica&max_batching_window=0",
                         "public.kv,public.appended", log, metrics_port=metrics_port)

        def alive():
            if run.poll() is not None:
                raise AssertionError(f"eddy exited with {run.returncode}; see {work}/eddy.log")
            return True

        def target_rows(sql):
            return target_sql.query(sql)

        def source_rows(sql):
            return pg.query(sql)

        wait_for(lambda: alive() and target_rows("SELECT k, v FROM kv ORDER BY k") == "1\t0\n2\t0\n",
                 120, "the snapshot in the target")
        wait_for(lambda: sink_state(metrics_port, "replica") == "ACTIVE", 60, "ACTIVE")

        # 1. A deadlock in the target.
        target_sql.query("CREATE TABLE scratch (n int) ENGINE=InnoDB")
        holder = subprocess.Popen(target_sql.args() + ["--batch", "--skip-column-names",
                                                       "--unbuffered"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        holder.stdin.write("START TRANSACTION; INSERT INTO scratch SELECT seq FROM seq_1_to_5000; "
                           "SELECT v FROM kv WHERE k = 2 FOR UPDATE; SELECT 'holding';\n")
        holder.stdin.flush()
        wait_for(lambda: "holding" in holder.stdout.readline(), 30, "the other session's lock")
        pg.sql("BEGIN; UPDATE kv SET v = 1 WHERE k = 1; UPDATE kv SET v = 2 WHERE k = 2; COMMIT")

        def sink_waits_for_row_2():
            # information_schema.INNODB_TRX does not always list the waiting transaction on
            # MariaDB 10.11 (seen while the InnoDB monitor showed it waiting); the monitor's
            # report is the authority.
            status = target_rows("SHOW ENGINE INNODB STATUS") or ""
            waiting = status.replace("\\n", "\n")
            return ("TRX HAS BEEN WAITING" in waiting and "INSERT INTO `replica`.`kv`" in waiting) \
                or target_rows("SELECT COUNT(*) FROM information_schema.INNODB_TRX "
                               "WHERE trx_state = 'LOCK WAIT'") == "1\n"

        wait_for(lambda: alive() and sink_waits_for_row_2(), 60,
                 "the sink's batch to wait for row 2")
        holder.stdin.write("SELECT v FROM kv WHERE k = 1 FOR UPDATE; SELECT 'got row 1';\n")
        holder.stdin.flush()
        wait_for(lambda: "got row 1" in holder.stdout.readline(), 60,
                 "the other session to get row 1 (the sink chosen as the deadlock victim)")
        wait_for(lambda: alive() and sink_state(metrics_port, "replica") == "IMPAIRED", 60,
                 "the sink to turn IMPAIRED on the deadlock")
        log.flush()
        assert "1213" in open(work + "/eddy.log").read(), "the log does not name error 1213"
        holder.stdin.write("COMMIT;\n")
        holder.stdin.close()
        holder.wait(timeout=30)
        wait_for(lambda: alive() and sink_state(metrics_port, "replica") == "ACTIVE" and
                 target_rows("SELECT k, v FROM kv ORDER BY k") == "1\t1\n2\t2\n", 120,
                 "the sink to apply the batch after the deadlock")
        print("replica_mariadb_faults: deadlock (error 1213): IMPAIRED, then ACTIVE, equal",
              flush=True)

        # 2. COMMITs with an unknown outcome, cut before and after the server committed. The
        # first row creates the target table (DDL commits on its own) before the proxy arms.
        pg.sql("INSERT INTO appended VALUES (0, 'first')")
        wait_for(lambda: alive() and target_rows("SELECT COUNT(*) FROM appended") == "1\n", 60,
                 "the appended table in the target")
        next_n = 1
        for mode in ("before", "after"):
            cuts = proxy.cuts
            proxy.arm(mode)
            values = ", ".join(f"({next_n + i}, '{mode}')" for i in range(50))
            next_n += 50
            pg.sql(f"INSERT INTO appended VALUES {values}")
            wait_for(lambda: proxy.cuts > cuts, 60, f"the proxy to cut a COMMIT ({mode})")
            pg.sql(f"INSERT INTO appended VALUES ({next_n}, 'after the cut')")
            next_n += 1
            want = source_rows("SELECT n, note FROM appended ORDER BY n")
            wait_for(lambda: alive() and
                     target_rows("SELECT COUNT(*) FROM appended") == f"{next_n}\n", 120,
                     f"the target to hold every appended row once (cut {mode} COMMIT)")
            got = target_rows("SELECT n, note FROM appended ORDER BY n")
            if got != want:
                raise AssertionError(f"appended rows differ after the cut {mode} COMMIT")
        log.flush()
        if "commit had succeeded; not applying it again" not in open(work + "/eddy.log").read():
            raise AssertionError("the COMMIT cut after the server committed was not settled by "
                                 "the checkpoint row")
        print("replica_mariadb_faults: COMMIT cut before and after the server committed: "
              "settled by the checkpoint row, every row once", flush=True)
        ok = True
        return 0
    finally:
        stop_process(run)
        for server in (maria, pg):
            if server:
                server.stop()
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"replica_mariadb_faults: kept {work}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
