"""The kill -9 loop every sink's crash test runs (webhook, Kafka, Kinesis, objects, ...).

A sink's test supplies only what is its own: the destination, how to read back what reached
it, and which duplicates its delivery guarantee allows. This module supplies the rest:

- `parse_args`: EDDY_BINARY EDDY_LOCALDB_BINARY [--rounds N] [--seed S] (EDDY_CRASH_ROUNDS and
  EDDY_TEST_SEED in the environment set the defaults; the seed is printed so a run replays);
- `PsqlWriter`: a writer thread that commits the transactions a subclass makes, in one psql
  session, paced, until stopped (a test's own workload derives from it);
- `CounterWorkload`: a table `kv (k int PRIMARY KEY, v bigint NOT NULL, ...)` whose rows start
  at v = 1; a writer thread commits transactions that each bump three random keys by one, so
  every change is identifiable as (k, v) and a key's values are 1, 2, 3, ...;
- `CrashLoop`: starts `eddy run`, waits for the snapshot, starts the writer, then N rounds of
  "wait until something more is delivered, kill -9 at a random moment (or the sink's own
  moment), restart"; then the writer stops and the last run goes on until the destination
  holds every change, and must stop cleanly on SIGTERM;
- `check_every_value_once_or_more`: no committed change lost, no value never committed.

Waits are bounded polls on conditions, never fixed sleeps (the kill moments are random by
design, and the writer's pacing sets the load, not a wait).
"""
import argparse
import os
import random
import signal
import subprocess
import threading
import time

from e2e_common import wait_for, work_directory  # noqa: F401 (re-exported)


def parse_args(name, add_arguments=None, rounds=8):
    parser = argparse.ArgumentParser(prog=name)
    parser.add_argument("eddy")
    parser.add_argument("localdb")
    if add_arguments is not None:
        add_arguments(parser)
    parser.add_argument("--rounds", type=int,
                        default=int(os.environ.get("EDDY_CRASH_ROUNDS", str(rounds))))
    parser.add_argument("--seed", type=int,
                        default=int(os.environ.get("EDDY_TEST_SEED", str(random.randrange(1 << 30)))))
    args = parser.parse_args()
    print(f"{name}: seed {args.seed} (EDDY_TEST_SEED replays), rounds {args.rounds}", flush=True)
    return args


class PsqlWriter:
    """A writer thread: one psql session to `db` (an e2e_common.Postgres) committing
    BEGIN; transaction(rng); COMMIT; then sleeping `pace` seconds, until stop().

    A subclass's transaction(rng) returns the statements of the next transaction (and records
    what it changes); rng is random.Random(seed + 1). `env` is psql's environment."""

    def __init__(self, db, seed, pace=0.002, env=None):
        self.db, self.seed, self.pace, self.env = db, seed, pace, env
        self.transactions = 0
        self.errors = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._write, daemon=True)

    def transaction(self, rng):
        raise NotImplementedError

    def _write(self):
        proc = subprocess.Popen(["psql", self.db.url, "-v", "ON_ERROR_STOP=1", "-q"],
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True, env=self.env)
        rng = random.Random(self.seed + 1)
        try:
            while not self.stopping.is_set():
                proc.stdin.write("BEGIN;" + self.transaction(rng) + "COMMIT;\n")
                proc.stdin.flush()
                self.transactions += 1
                time.sleep(self.pace)  # pacing the workload, not a wait
            proc.stdin.write("\\q\n")
            proc.stdin.close()
            if proc.wait(timeout=60) != 0:
                self.errors.append(proc.stderr.read())
        except Exception as error:  # reported by stop()
            self.errors.append(str(error))

    def start(self):
        self.thread.start()

    def stop(self):
        """Stops the writer; a failed psql session or write fails the test."""
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join(timeout=120)
        if self.errors:
            raise AssertionError("the workload failed: " + "; ".join(self.errors))


class CounterWorkload(PsqlWriter):
    """Per-key counters in table kv of `db` (an e2e_common.Postgres): each transaction bumps
    three keys once (about 1,500 changes/s).

    `extra_columns` adds columns to the table (", part int NOT NULL") and `extra_values` their
    initial values as SQL over k (", k % 3"). `committed` maps each key to its last committed v.
    """

    def __init__(self, db, keys, seed, extra_columns="", extra_values=""):
        super().__init__(db, seed)
        self.keys = keys
        db.sql(f"CREATE TABLE kv (k int PRIMARY KEY, v bigint NOT NULL{extra_columns})")
        db.sql(f"INSERT INTO kv SELECT k, 1{extra_values} FROM generate_series(1, {keys}) k")
        self.committed = {k: 1 for k in range(1, keys + 1)}

    def transaction(self, rng):
        keys = rng.sample(range(1, self.keys + 1), 3)
        for k in keys:
            self.committed[k] += 1
        return "".join(f"UPDATE kv SET v = v + 1 WHERE k = {k};" for k in keys)

    def stop(self):
        """Stops the writer; returns {k: last committed v}."""
        super().stop()
        return dict(self.committed)


class CrashLoop:
    """Runs `command` (an `eddy run`), kills it with SIGKILL and restarts it.

    `before_start` is called before each start (a receiver opening a new epoch, say). Output
    of every run goes to WORK/eddy.log, which failures name.
    """

    def __init__(self, name, work, command, env=None, before_start=None):
        self.name, self.work, self.command, self.env = name, work, command, env
        self.before_start = before_start
        self.log = open(os.path.join(work, "eddy.log"), "a")
        self.run = None
        self.crashes = 0

    def start(self):
        if self.before_start is not None:
            self.before_start()
        self.run = subprocess.Popen(self.command, stdout=self.log, stderr=subprocess.STDOUT,
                                    env=self.env)
        return self.run

    def exited(self):
        return self.run is None or self.run.poll() is not None

    def check_alive(self):
        if self.exited():
            code = None if self.run is None else self.run.returncode
            raise AssertionError(f"eddy exited with {code}; see {self.work}/eddy.log")

    def kill(self):
        self.run.send_signal(signal.SIGKILL)
        self.run.wait()
        self.crashes += 1

    def rounds(self, count, rng, workload, delivered, snapshot_delivered, kill_moment=None,
               interval=0.05):
        """`count` kill -9 rounds. `delivered()` counts what reached the destination (it must
        grow in each round before the kill), `snapshot_delivered()` says the first run's
        snapshot rows are all there (the writer starts then, so each later value is one
        change). `kill_moment(round_index)` waits for the sink's own kill moment; by default a
        seeded random 0.3-2.5 s."""
        for round_index in range(count):
            self.start()
            if round_index == 0:
                wait_for(lambda: self.exited() or snapshot_delivered(), 120,
                         "the snapshot rows to reach the destination", interval)
                workload.start()
            before = delivered()
            wait_for(lambda: self.exited() or delivered() > before, 60,
                     f"round {round_index}: delivery to start", interval)
            self.check_alive()
            if kill_moment is not None:
                kill_moment(round_index)
            else:
                time.sleep(rng.uniform(0.3, 2.5))  # the random crash moment
            self.kill()

    def finish(self, caught_up, seconds, what, interval=0.05):
        """Runs eddy (starting it unless it runs) until caught_up(), then stops it with SIGTERM;
        a run that does not exit 0 fails the test."""
        if self.exited():
            self.start()

        def done():
            self.check_alive()
            return caught_up()

        wait_for(done, seconds, what, interval)
        self.run.send_signal(signal.SIGTERM)
        if self.run.wait(timeout=60) != 0:
            raise AssertionError(f"eddy did not stop cleanly on SIGTERM: {self.run.returncode}")
        self.run = None

    def close(self):
        if not self.exited():
            self.run.kill()
            self.run.wait()


def shut_down(workload, loop, db, *others):
    """The end of every crash test, whatever happened: the writer stops, a running eddy is
    killed, then each of `others` (objects with close() or stop()) and the database stop."""
    if workload is not None:
        workload.stopping.set()
    if loop is not None:
        loop.close()
    for other in others:
        if other is not None:
            (getattr(other, "close", None) or other.stop)()
    if db is not None:
        db.stop()


def check_every_value_once_or_more(final, pairs):
    """Every committed (k, v) with 1 <= v <= final[k] is among `pairs`, and nothing else is."""
    values = {}
    for k, v in pairs:
        values.setdefault(k, set()).add(v)
    for k, last in final.items():
        got = values.get(k, set())
        missing = set(range(1, last + 1)) - got
        extra = got - set(range(1, last + 1))
        assert not missing, f"key {k}: lost values {sorted(missing)[:10]}"
        assert not extra, f"key {k}: values never committed {sorted(extra)[:10]}"
    unknown = set(values) - set(final)
    assert not unknown, f"keys never written: {sorted(unknown)[:10]}"


def all_values_delivered(final, pairs):
    """True when every committed (k, v) is among `pairs` (the caught-up condition)."""
    seen = set(pairs)
    return all((k, v) in seen for k, last in final.items() for v in range(1, last + 1))
