"""kafka-mock-cluster as a Python context manager, for tests and benchmarks.

    with KafkaMockCluster(binary, brokers=1) as cluster:
        cluster.bootstrap          # "127.0.0.1:PORT,..."
        cluster.create("t", 3)     # a topic with 3 partitions
        cluster.down(1); cluster.up(1)

Each command waits for the tool's `OK` line (with a deadline), so a test never races it.
"""
import queue
import subprocess
import threading


class KafkaMockCluster:
    def __init__(self, binary, brokers=1):
        self.binary = binary
        self.brokers = brokers
        self.process = None
        self.bootstrap = None
        self._lines = queue.Queue()

    def __enter__(self):
        self.process = subprocess.Popen([self.binary, "--brokers", str(self.brokers)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        first = self._next(30, "the mock cluster to print its brokers")
        if not first.startswith("BROKERS="):
            raise AssertionError(f"kafka-mock-cluster printed {first!r}, expected BROKERS=...")
        self.bootstrap = first[len("BROKERS="):]
        return self

    def __exit__(self, *exc):
        self.stop()

    def _read(self):
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def _next(self, seconds, what):
        try:
            line = self._lines.get(timeout=seconds)
        except queue.Empty:
            raise AssertionError(f"timed out after {seconds}s waiting for {what}")
        if line is None:
            raise AssertionError(f"kafka-mock-cluster exited while waiting for {what}")
        return line

    def command(self, text):
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()
        reply = self._next(30, f"the reply to '{text}'")
        if not reply.startswith("OK"):
            raise AssertionError(f"kafka-mock-cluster: '{text}' -> {reply}")

    def create(self, topic, partitions, replication=1):
        self.command(f"create {topic} {partitions} {replication}")

    def down(self, broker):
        self.command(f"down {broker}")

    def up(self, broker):
        self.command(f"up {broker}")

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        try:
            self.process.stdin.write("stop\n")
            self.process.stdin.close()
            self.process.wait(timeout=30)
        except Exception:
            self.process.kill()
            self.process.wait()
