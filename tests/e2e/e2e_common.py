"""What every end-to-end test and benchmark script shares: a free loopback port, waits on a
condition with a deadline (never a fixed sleep), and a throwaway PostgreSQL 15 started by
eddy-localdb. A database that cannot start is a failure, never a skip."""
import os
import signal
import socket
import subprocess
import time


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


class Postgres:
    """A throwaway PostgreSQL 15 (eddy-localdb start postgres) in `work`; stop() removes it."""

    def __init__(self, localdb, work):
        self.process = subprocess.Popen([localdb, "start", "postgres", "--url-file", work + "/url"],
                                        stdout=subprocess.DEVNULL,
                                        stderr=open(work + "/localdb.log", "w"))
        self.url = wait_for(lambda: self.process.poll() is None and os.path.exists(work + "/url")
                            and open(work + "/url").read().strip(), 120, "PostgreSQL to start")

    def sql(self, statement):
        subprocess.run(["psql", self.url, "-v", "ON_ERROR_STOP=1", "-q", "-c", statement],
                       check=True, stdout=subprocess.DEVNULL)

    def query(self, statement):
        return subprocess.run(["psql", self.url, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", statement],
                              check=True, stdout=subprocess.PIPE, text=True).stdout

    def stop(self):
        stop_process(self.process)
