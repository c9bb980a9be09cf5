"""What every end-to-end test and benchmark script shares: a free loopback port, waits on a
condition with a deadline (never a fixed sleep), a temporary work directory, stopping a
process, a sink's state from eddy's /metrics, and a throwaway PostgreSQL 15 or MariaDB 10.11
started by eddy-localdb. A database that cannot start is a failure, never a skip."""
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_for(condition, seconds, what, interval=0.05):
    """Returns condition()'s first truthy value; AssertionError naming `what` at the deadline."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)  # polling a condition with a deadline
    raise AssertionError(f"timed out after {seconds}s waiting for {what}")


def stop_process(process, seconds=60):
    """SIGTERM, then SIGKILL after `seconds`; a process already gone is left alone."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def work_directory(name):
    """A temporary directory, removed at the end unless EDDY_KEEP_WORK is set."""
    work = tempfile.mkdtemp(prefix=f"eddy-{name}-")
    try:
        yield work
    finally:
        if os.environ.get("EDDY_KEEP_WORK"):
            print(f"{name}: work directory kept: {work}", flush=True)
        else:
            shutil.rmtree(work, ignore_errors=True)


def stop_all(items):
    """Stops, last first, processes (stop_process) and servers with a stop() (Postgres, ...)."""
    for item in reversed(items):
        if isinstance(item, subprocess.Popen) or item is None:
            stop_process(item)
        else:
            item.stop()


def sink_state(metrics_port, sink):
    """The sink's state from eddy's /metrics (eddy_sink_state{sink=...,state=...} 1)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("eddy_sink_state{") and f'sink="{sink}"' in line and \
                line.endswith(" 1"):
            match = re.search(r'state="([A-Z]+)"', line)
            if match:
                return match.group(1)
    return None


def start_localdb(localdb, kind, work, name, options=()):
    """eddy-localdb start KIND in the background; returns (process, url) once it serves."""
    url_file = f"{work}/{name}.url" if name else f"{work}/url"
    log = f"{work}/{name}.log" if name else f"{work}/localdb.log"
    process = subprocess.Popen([localdb, "start", kind, *options, "--url-file", url_file],
                               stdout=subprocess.DEVNULL, stderr=open(log, "w"))
    try:
        url = wait_for(lambda: process.poll() is None and os.path.exists(url_file)
                       and open(url_file).read().strip(), 120, f"{kind} to start")
    except BaseException:
        stop_process(process)
        raise
    return process, url


class Postgres:
    """A throwaway PostgreSQL 15 (eddy-localdb start postgres) in `work`; stop() removes it."""

    def __init__(self, localdb, work, name=None):
        """`name` names its files WORK/NAME.url and WORK/NAME.log (default: url, localdb.log)."""
        self.process, self.url = start_localdb(localdb, "postgres", work, name)

    def sql(self, statement):
        subprocess.run(["psql", self.url, "-v", "ON_ERROR_STOP=1", "-q", "-c", statement],
                       check=True, stdout=subprocess.DEVNULL)

    def query(self, statement):
        return subprocess.run(["psql", self.url, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", statement],
                              check=True, stdout=subprocess.PIPE, text=True).stdout

    def stop(self):
        stop_process(self.process)


class MariaDB:
    """A throwaway MariaDB 10.11 (eddy-localdb start mariadb) in `work`; stop() removes it.

    `url` is eddy's source URL (mysql://USER:PASSWORD@HOST:PORT/DATABASE), `port` and
    `database` its parts, `client` the mariadb CLI's arguments for that server; `options` are
    more eddy-localdb options (--no-log-bin for a target)."""

    def __init__(self, localdb, work, name="mariadb", options=()):
        self.process, self.url = start_localdb(localdb, "mariadb", work, name, options)
        parsed = urllib.parse.urlparse(self.url)
        self.port = parsed.port
        self.database = parsed.path.lstrip("/")
        self.client = ["mariadb", "-h", parsed.hostname, "-P", str(parsed.port), "-u",
                       urllib.parse.unquote(parsed.username or "root"),
                       "--default-character-set=utf8mb4"]
        if parsed.password:
            self.client.append("-p" + urllib.parse.unquote(parsed.password))

    def sql(self, statement):
        subprocess.run(self.client + [self.database, "-e", statement], check=True,
                       stdout=subprocess.DEVNULL)

    def query(self, statement, options=("-N", "-B"), quiet=False):
        """The output (tab-separated, no column names by default); `quiet` drops stderr."""
        return subprocess.run(self.client + [*options, self.database, "-e", statement],
                              check=True, stdout=subprocess.PIPE, text=True,
                              stderr=subprocess.DEVNULL if quiet else None).stdout

    def stop(self):
        stop_process(self.process)


class EddyProcess:
    """`eddy ARGS...` in the background, its output in a new WORK/eddy-N.log. With `port`, the
    constructor returns once eddy's API answers there (wait_serving); eddy exiting first is an
    AssertionError holding its log. `env`: variables set for eddy (a value of None unsets one).
    stop() stops it and asserts a clean exit."""

    def __init__(self, eddy, args, work, port=None, env=None):
        environment = dict(os.environ)
        for key, value in (env or {}).items():
            if value is None:
                environment.pop(key, None)
            else:
                environment[key] = value
        self.log_path = os.path.join(work, f"eddy-{len(os.listdir(work))}.log")
        self.process = subprocess.Popen([eddy, *args], env=environment,
                                        stdout=open(self.log_path, "w"), stderr=subprocess.STDOUT)
        if port is not None:
            self.wait_serving(port)

    def wait_serving(self, port):
        wait_for(lambda: port_open(port) or self.process.poll() is not None, 60, "eddy's API")
        assert self.process.poll() is None, self.log()

    def log(self):
        return open(self.log_path).read()

    def stop(self):
        stop_process(self.process)
        assert self.process.returncode == 0, \
            f"eddy exited {self.process.returncode}:\n{self.log()}"
