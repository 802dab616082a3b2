"""A real multi-process cluster on this machine, started the way an operator would, and its capacity figures.

``ProcessCluster`` starts ``prefect server start`` (own PREFECT_HOME, a free
127.0.0.1 port), ``dask scheduler`` and N ``dask worker`` processes (one worker
process, one thread each), each in its own process group so that stopping
(or killing one worker) leaves nothing behind. The tests and the capacity
bench use it; an operator runs the same commands by hand (README, "Scaling out").

    python -m bench cluster --workers 1,2,4 --calls 8

runs the same calls through ``huifang run --dask-address`` on 1, 2 and 4
worker processes and prints calls per hour, per-call cost by call length and
memory per worker (figures also written to bench/cluster_results.json).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

# What every process of the cluster gets: a Prefect that stays on this machine and quiet.
QUIET_PREFECT = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_UI_ENABLED": "false",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check, timeout: float, what: str, interval: float = 0.25):
    """Poll ``check`` until it returns something truthy; slow machines get the whole ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def kill_group(proc: subprocess.Popen, grace: float = 15.0) -> None:
    """SIGTERM the process group, SIGKILL what is left after ``grace`` seconds."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # also the group's children (a nanny's worker, uvicorn)
    except ProcessLookupError:
        pass
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        pass


def group_alive(pgid: int) -> bool:
    """Whether a live (not zombie) process of this process group is left (Linux /proc; else signal 0)."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone while we looked
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


class ProcessCluster:
    """Prefect server, Dask scheduler and ``n_workers`` Dask worker processes on 127.0.0.1."""

    def __init__(self, workdir: Path, n_workers: int = 2, worker_env: dict[str, str] | None = None,
                 worker_cwd: Path | None = None, timeout: float = 300.0, api_url: str = "") -> None:
        """``api_url``: a Prefect server already running (the tests' session server) instead of starting one."""
        self.workdir = Path(workdir)
        self.n_workers = n_workers
        self.worker_env = worker_env or {}
        self.worker_cwd = Path(worker_cwd) if worker_cwd else self.workdir / "worker-cwd"
        self.timeout = timeout
        self.server: subprocess.Popen | None = None
        self.scheduler: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self.api_url = api_url
        self.address = ""

    def _spawn(self, name: str, argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "wb")
        return subprocess.Popen(argv, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def base_env(self) -> dict[str, str]:
        """The environment of a process that talks to this cluster: the server's URL, Prefect kept quiet."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "HUIFANG_"))}
        env.update(QUIET_PREFECT)
        env["PREFECT_HOME"] = str(self.workdir / "prefect-client")
        if self.api_url:
            env["PREFECT_API_URL"] = self.api_url
        return env

    def start(self) -> "ProcessCluster":
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.worker_cwd.mkdir(parents=True, exist_ok=True)
        if self.api_url:
            wait_until(self._server_healthy, self.timeout, f"the Prefect server at {self.api_url}", 0.5)
        else:
            port = free_port()
            server_env = self.base_env() | {"PREFECT_HOME": str(self.workdir / "prefect-server")}
            self.server = self._spawn("prefect-server", [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                                      server_env, self.workdir)
            self.api_url = f"http://127.0.0.1:{port}/api"
            wait_until(self._server_healthy, self.timeout, f"the Prefect server on port {port} (see {self.workdir}/prefect-server.log)", 0.5)
        sport = free_port()
        self.address = f"tcp://127.0.0.1:{sport}"
        self.scheduler = self._spawn("dask-scheduler", [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(sport), "--no-dashboard"],
                                     self.base_env(), self.workdir)
        for _ in range(self.n_workers):
            self.add_worker()
        self.wait_for_workers(self.n_workers)
        return self

    def add_worker(self) -> subprocess.Popen:
        """One more ``dask worker`` process joining the scheduler (what an operator does during a night)."""
        index = len(self.workers) + 1
        env = self.base_env() | {"PYTHONPATH": str(ROOT)} | self.worker_env
        proc = self._spawn(f"dask-worker-{index}", [str(BIN / "dask"), "worker", self.address, "--nworkers", "1", "--nthreads", "1",
                                                    "--host", "127.0.0.1", "--no-dashboard", "--name", f"w{index}"],
                           env, self.worker_cwd)
        self.workers.append(proc)
        return proc

    def _server_healthy(self) -> bool:
        if self.server is not None and self.server.poll() is not None:
            raise RuntimeError(f"prefect server exited ({self.server.returncode}); see {self.workdir}/prefect-server.log")
        try:
            with urllib.request.urlopen(f"{self.api_url}/health", timeout=5) as response:
                return response.status == 200
        except OSError:
            return False

    def scheduler_info(self) -> dict:
        from distributed import Client

        with Client(self.address, timeout=60) as client:
            return client.scheduler_info()

    def wait_for_workers(self, n: int) -> None:
        from distributed import Client

        with Client(self.address, timeout=self.timeout) as client:
            client.wait_for_workers(n, timeout=self.timeout)

    def worker_group_of(self, pid: int) -> subprocess.Popen | None:
        """The ``dask worker`` command whose process group holds the worker process ``pid``."""
        try:
            pgid = os.getpgid(pid)
        except ProcessLookupError:
            return None
        return next((w for w in self.workers if w.pid == pgid), None)

    def kill_worker(self, proc: subprocess.Popen) -> None:
        """SIGKILL a whole ``dask worker`` (nanny and worker process): a machine that died."""
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
        wait_until(lambda: not group_alive(proc.pid), 60, "the killed worker's processes to exit", 0.1)

    def process_groups(self) -> list[int]:
        return [p.pid for p in [self.server, self.scheduler, *self.workers] if p is not None]

    def stop(self) -> None:
        for proc in [*reversed(self.workers), self.scheduler, self.server]:
            if proc is not None:
                kill_group(proc)
        groups = self.process_groups()
        try:  # a nanny's worker process or a server's child may take a moment to die after SIGKILL
            wait_until(lambda: not any(group_alive(g) for g in groups), 60, "the cluster's processes to exit", 0.2)
        except TimeoutError:
            pass  # the caller checks group_alive and names what is left

    def __enter__(self) -> "ProcessCluster":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()


def huifang_run(batch: Path, out: Path, env: dict[str, str], extra: list[str], cwd: Path | None = None, timeout: float = 1800) -> subprocess.CompletedProcess:
    """``huifang run`` as a subprocess of its own process group (killed with it on a timeout)."""
    proc = subprocess.Popen([str(BIN / "huifang"), "run", str(batch), "--out", str(out), "--no-progress", *extra],
                            env=env, cwd=cwd or ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    finally:
        kill_group(proc, grace=5)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


# --- the capacity bench ---------------------------------------------------------------------------

_WORKER_LINE = re.compile(r"worker (\S+): (\d+) calls, model loaded (\d+)x, RSS (\d+) MB \(peak (\d+) MB\), busy ([\d.]+) s")


def _length_class(seconds: float) -> str:
    return "short (<15 s)" if seconds < 15 else "medium (15-45 s)" if seconds < 45 else "long (>=45 s)"


def spread_subset(batch: Path, n: int, into: Path) -> Path:
    """``n`` calls of ``batch`` spread evenly from the shortest to the longest, so every call length is measured."""
    import csv

    from pipeline.speech.audio import decode
    from pipeline.manifest import read_manifest

    calls, _ = read_manifest(batch)
    by_length = sorted(calls, key=lambda c: decode(c.audio_file).duration_s)
    if n and n < len(by_length):
        by_length = [by_length[i] for i in sorted({round(i * (len(by_length) - 1) / max(1, n - 1)) for i in range(n)})]
    keep = {c.call_id for c in by_length}
    with open(batch / "manifest.csv", encoding="utf-8-sig") as handle:
        rows = [row for row in csv.DictReader(handle) if row["call_id"] in keep]
    for row in rows:
        target = into / row["audio_path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((batch / row["audio_path"]).read_bytes())
    with open(into / "manifest.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return into


def measure_cluster(batch: Path, n_workers: int, work: Path, options: list[str]) -> dict:
    """One batch through ``huifang run --dask-address`` on a fresh cluster of ``n_workers`` processes."""
    from pipeline.speech.audio import decode
    from pipeline.manifest import read_manifest

    calls, _ = read_manifest(batch)
    audio_s = sum(decode(call.audio_file).duration_s for call in calls)
    load_before = os.getloadavg()[0]
    with ProcessCluster(work / f"cluster-{n_workers}", n_workers) as cluster:
        out = work / f"out-{n_workers}"
        started = time.perf_counter()
        result = huifang_run(batch, out, cluster.base_env() | {"PYTHONPATH": str(ROOT)}, ["--dask-address", cluster.address, "--force", *options])
        seconds = time.perf_counter() - started
    if result.returncode not in (0, 3):
        raise SystemExit(f"huifang run on {n_workers} workers failed ({result.returncode}):\n{result.stderr[-3000:]}")
    workers = [{"worker": m[0], "calls": int(m[1]), "model_loads": int(m[2]), "rss_mb": int(m[3]), "peak_rss_mb": int(m[4]), "busy_s": float(m[5])}
               for m in _WORKER_LINE.findall(result.stdout)]
    per_call = {}
    for call in calls:
        summary = json.loads((out / "calls" / f"{call.call_id}.json").read_text())
        per_call[call.call_id] = (summary.get("duration_s") or 0.0, (summary.get("analysis") or {}).get("elapsed_s"))
    # Busy time: the longest worker's time inside its calls (model load included, start-up and report not):
    # what a long night's throughput tends to, where the fixed start-up is spread over thousands of calls.
    busy = max((w["busy_s"] for w in workers), default=seconds)
    return {"workers": n_workers, "calls": len(calls), "audio_s": round(audio_s, 1), "seconds": round(seconds, 1),
            "calls_per_hour": round(len(calls) / seconds * 3600), "audio_min_per_min": round(audio_s / seconds, 2),
            "busy_s": round(busy, 1), "busy_calls_per_hour": round(len(calls) / busy * 3600),
            "load": [round(load_before, 1), round(os.getloadavg()[0], 1)], "worker_processes": workers, "durations": per_call}


def per_call_cost(run: dict) -> list[dict]:
    """Seconds per call by call length, from the calls' own timing (``analysis.elapsed_s``) in a one-worker run."""
    rows = [{"audio_s": audio_s, "seconds": elapsed} for audio_s, elapsed in run["durations"].values() if elapsed]
    table = []
    for name in ("short (<15 s)", "medium (15-45 s)", "long (>=45 s)"):
        group = [r for r in rows if _length_class(r["audio_s"]) == name]
        if group:
            table.append({"length": name, "calls": len(group), "mean_audio_s": round(statistics.mean(r["audio_s"] for r in group), 1),
                          "mean_seconds": round(statistics.mean(r["seconds"] for r in group), 2),
                          "rtf": round(sum(r["seconds"] for r in group) / sum(r["audio_s"] for r in group), 3)})
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench cluster", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=Path, default=ROOT / "data" / "sample", help="batch folder (default data/sample)")
    parser.add_argument("--calls", type=int, default=8, help="N calls of the batch spread from shortest to longest (0 = all; default 8)")
    parser.add_argument("--workers", default="1,2,4", help="worker process counts to measure (default 1,2,4)")
    parser.add_argument("--options", default="--cpu-threads 1", help="extra huifang run options, the same for every count (default: --cpu-threads 1)")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "cluster_results.json")
    args = parser.parse_args(argv)
    options = args.options.split()
    results: dict = {"options": options, "cpus": os.cpu_count(), "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                     "load_before": os.getloadavg()[0], "runs": []}
    with tempfile.TemporaryDirectory(prefix="huifang-cluster-bench-") as tmp:
        batch = spread_subset(args.batch, args.calls, Path(tmp) / "batch")
        for n in [int(x) for x in args.workers.split(",")]:
            run = measure_cluster(batch, n, Path(tmp), options)
            results["runs"].append(run)
            print(json.dumps({k: v for k, v in run.items() if k != "durations"}), flush=True)
        one = next((run for run in results["runs"] if run["workers"] == 1), None)
        if one is not None:
            results["per_call"] = per_call_cost(one)
    results["load_after"] = os.getloadavg()[0]
    args.results.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"{'worker processes':>16} {'seconds':>8} {'calls/hour':>11} {'audio min/min':>14} {'busy calls/hour':>16} {'RSS per worker MB':>18} {'model loads':>12}")
    base = results["runs"][0]["seconds"] if results["runs"] else 0
    for run in results["runs"]:
        rss = "/".join(str(w["rss_mb"]) for w in run["worker_processes"]) or "-"
        loads = "/".join(str(w["model_loads"]) for w in run["worker_processes"]) or "-"
        print(f"{run['workers']:>16} {run['seconds']:>8} {run['calls_per_hour']:>11} {run['audio_min_per_min']:>14} {run['busy_calls_per_hour']:>16} {rss:>18} {loads:>12}"
              f"   speed-up {base / run['seconds']:.2f}x")
    for row in results.get("per_call", []):
        print(f"per call (1 worker process), {row['length']}: {row['calls']} calls, {row['mean_audio_s']} s audio -> {row['mean_seconds']} s (RTF {row['rtf']})")
    print(f"load average {results['load_before']:.1f} before, {results['load_after']:.1f} after (other users of the machine)")
    print(f"written to {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
