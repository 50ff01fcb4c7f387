#!/usr/bin/python3
"""Baseline: `1+1` execute round trips straight to an ipykernel over ZMQ.

This measures the floor that the websocket path (Node -> jupyter-server ->
kernel) is compared against. There is no HTTP or websocket hop: jupyter_client
talks to the kernel's ZMQ sockets directly.

A round trip ends the same way as on the websocket path: the execute_reply
(shell) *and* the status=idle (iopub) for the request's msg_id have both
arrived. The kernel is always shut down in `finally`.

Usage (Debian's python; jupyter_client and ipykernel come from apt):
    /usr/bin/python3 bench/baseline_zmq.py [--n 200] [--warmup 10]

stdout: a single JSON object
    {"n": ..., "median_ms": ..., "p95_ms": ..., "samples_ms": [...],
     "kernel_cpu_ms_per_round_trip": the kernel process's CPU per round trip (Linux /proc; else null)}
All diagnostics (and the kernel's own stdout/stderr) go to stderr.
"""

import argparse
import json
import math
import os
import statistics
import sys
import time


def _wait_for_reply_and_idle(kc, msg_id, timeout):
    """Block until both execute_reply and iopub idle for msg_id have arrived."""
    deadline = time.monotonic() + timeout
    got_reply = False
    got_idle = False
    while not (got_reply and got_idle):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no reply/idle for {msg_id} within {timeout}s")
        if not got_idle:
            # Messages queue up on the ZMQ sockets, so reading iopub first and
            # then shell does not add latency: whichever arrives last
            # determines the end time.
            msg = kc.get_iopub_msg(timeout=remaining)
            if (
                msg.get("parent_header", {}).get("msg_id") == msg_id
                and msg.get("msg_type") == "status"
                and msg.get("content", {}).get("execution_state") == "idle"
            ):
                got_idle = True
            continue
        msg = kc.get_shell_msg(timeout=remaining)
        if (
            msg.get("parent_header", {}).get("msg_id") == msg_id
            and msg.get("msg_type") == "execute_reply"
        ):
            status = msg.get("content", {}).get("status")
            if status != "ok":
                raise RuntimeError(f"execute_reply status {status!r}")
            got_reply = True


def _round_trip(kc, code, timeout):
    t0 = time.perf_counter()
    msg_id = kc.execute(code)
    _wait_for_reply_and_idle(kc, msg_id, timeout)
    return (time.perf_counter() - t0) * 1000.0


def _kernel_cpu_ms(km):
    """CPU time (user + system) the kernel process has used, in ms; None where /proc cannot tell."""
    try:
        pid = km.provisioner.process.pid
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(") ", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000.0 / os.sysconf("SC_CLK_TCK")
    except Exception:
        return None


def _until_sigterm(round_trip):
    """Round trips until SIGTERM (a load beside something else); the one in flight ends first."""
    import signal

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    print("ready", file=sys.stderr, flush=True)
    samples = []
    while not stop:
        samples.append(round_trip())
    return samples


# What --idle-subscriber runs: one more process on the kernel's IOPub that only receives, as a
# Jupyter server's own subscription does (its activity watcher).
_IDLE_SUBSCRIBER = """
import json, sys, zmq
info = json.load(open(sys.argv[1]))
socket = zmq.Context().socket(zmq.SUB)
socket.setsockopt(zmq.SUBSCRIBE, b"")
socket.connect("%s://%s:%s" % (info["transport"], info["ip"], info["iopub_port"]))
while True:
    socket.recv_multipart()
"""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200, help="measured round trips (default 200)")
    ap.add_argument("--warmup", type=int, default=10, help="unmeasured warm-up executes (default 10)")
    ap.add_argument("--kernel-name", default="python3")
    ap.add_argument(
        "--memory-history",
        action="store_true",
        help="start the kernel with IPython's history in memory (as nbclient and jlab-mcp run theirs), not in the profile's history.sqlite",
    )
    ap.add_argument(
        "--idle-subscriber",
        action="store_true",
        help="also run a process that subscribes to the kernel's IOPub and only receives (what a Jupyter server's activity watcher adds)",
    )
    ap.add_argument("--code", default="1+1")
    ap.add_argument("--startup-timeout", type=float, default=60.0)
    ap.add_argument("--timeout", type=float, default=30.0, help="per round trip timeout, seconds")
    ap.add_argument(
        "--until-signal",
        action="store_true",
        help="after the warm-up, say 'ready' on stderr and run the code back to back until SIGTERM; --n is ignored",
    )
    args = ap.parse_args(argv)
    if args.n < 1:
        ap.error("--n must be >= 1")

    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name=args.kernel_name)
    kc = None
    subscriber = None
    try:
        # Keep the kernel's stdout off our stdout, which carries only the JSON.
        extra = ["--HistoryManager.hist_file=:memory:"] if args.memory_history else []
        km.start_kernel(extra_arguments=extra, stdout=sys.stderr, stderr=sys.stderr)
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=args.startup_timeout)
        if args.idle_subscriber:
            import subprocess

            subscriber = subprocess.Popen([sys.executable, "-c", _IDLE_SUBSCRIBER, km.connection_file], stdout=sys.stderr)
            time.sleep(0.5)  # connected before the warm-up ends (ZMQ's slow joiner)

        for _ in range(args.warmup):
            _round_trip(kc, args.code, args.timeout)

        cpu_before = _kernel_cpu_ms(km)
        if args.until_signal:
            samples = _until_sigterm(lambda: _round_trip(kc, args.code, args.timeout))
            args.n = len(samples)
        else:
            samples = [_round_trip(kc, args.code, args.timeout) for _ in range(args.n)]
        cpu_after = _kernel_cpu_ms(km)
        ordered = sorted(samples)
        p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]  # nearest rank
        result = {
            "n": args.n,
            "median_ms": round(statistics.median(samples), 3),
            "p95_ms": round(p95, 3),
            "samples_ms": [round(s, 3) for s in samples],
            "kernel_cpu_ms_per_round_trip": None if cpu_before is None or cpu_after is None else round((cpu_after - cpu_before) / len(samples), 3),
        }
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()
        return 0
    finally:
        if subscriber is not None:
            subscriber.kill()
            subscriber.wait()
        if kc is not None:
            try:
                kc.stop_channels()
            except Exception as e:  # pragma: no cover
                print(f"stop_channels failed: {e!r}", file=sys.stderr)
        try:
            if km.has_kernel:
                km.shutdown_kernel(now=False)
        except Exception as e:
            print(f"graceful shutdown failed ({e!r}); killing kernel", file=sys.stderr)
            try:
                km.shutdown_kernel(now=True)
            except Exception as e2:  # pragma: no cover
                print(f"kernel kill failed: {e2!r}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
