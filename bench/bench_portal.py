"""Benchmark: a class typing in the portal's web terminals (ip-plan lab, one copy per trainee).

    .venv/bin/python bench/bench_portal.py [--trainees 24] [--seconds 20] [--instructor] [--noisy K] [--json]

Builds the class (`up --class`: its wall time, the memory the copies hold), writes the access codes
(`sheet --class --key`, DIR/access.csv), starts `serve --class --signing-key` and then, from one
asyncio loop, N browser-like clients (aiohttp, a cookie jar each, permessage-deflate offered as
browsers do): each logs in with its code, loads its page, opens pc1's terminal (the websocket),
waits for the prompt, and types at a human-fast pace (a key every 50-100 ms, random jitter) short
commands (`true # xyz`, `: xyz`, `echo xyz`) ended by Enter, for S seconds, all trainees at once,
while each page polls its state every 5 s as portal.js does. With --instructor, the instructor's
live view is open meanwhile; with --noisy K, K of the trainees run a command that prints without
end instead of typing.

Each printable key is timed from its send to the arrival of its echo (the echo of a line being
typed is exactly its characters: matched in order, the line's echo complete before its Enter);
Enter is timed to the next prompt (a builtin's round trip). Prints the latencies (median, p95,
p99, max), the server's memory (RSS of the serve process before the terminals, with them, after
typing, its peak) and the terminals' processes (nsenter + bash per terminal), then stops serve
(SIGTERM, then SIGKILL, by its pid), takes the class down and removes its files.

Target (2 cores): p95 of the keystroke-to-echo latency under 50 ms with 24 trainees typing; `up`
at bench_class's pace (48 hosts in under 30 s). The clients run on the same machine as the
server: their own work shares the two cores and is in the measured latency, and so is whatever
else the machine runs (the CPU line says how busy it was).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path

import aiohttp
import psutil

ROOT = Path(__file__).resolve().parent.parent
LAB = "ip-plan"
HOST = "pc1"
SEED = 2424
TARGET_P95_MS = 50.0
UP_TARGET_PER_48_HOSTS = 30.0  # bench_class's target for `up`: 48 hosts in under 30 s (here pro rata, 30 s at least)
KEY_INTERVAL = (0.050, 0.100)  # seconds between two keys of one trainee
PAUSE_AFTER_PROMPT = (0.2, 0.6)  # seconds a trainee waits after a prompt before typing again
ECHO_TIMEOUT = 5.0  # a key not echoed this long after it was sent is lost
PROMPT_TIMEOUT = 20.0
NOISY_COMMAND = "while :; do ls -lR /usr; done"
COMPRESS = True  # offer permessage-deflate, as browsers do (the server accepts it: frames are deflated)
STATE_POLL = 5.0  # seconds between two polls of the page's state (portal.js)
LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789"
ANSI = re.compile(rb"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")
STATE_ROOT = Path(os.environ.get("TSPCR_STATE_DIR", "/run/tspcr-lab"))
PORTAL_STATE = STATE_ROOT / "portal"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def tspcr(*args: str, ok=(0,), timeout: float | None = None) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "tspcr_lab", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout)
    elapsed = time.perf_counter() - t0
    if proc.returncode not in ok:
        raise RuntimeError(f"tspcr-lab {' '.join(args)} failed ({proc.returncode}): "
                           f"{proc.stderr.strip() or proc.stdout[-500:]}")
    return elapsed, proc


def machine_used() -> int:
    vm = psutil.virtual_memory()
    return vm.total - vm.available


def kernel_memory() -> int:
    """The kernel's own memory (slab, page tables, stacks): namespaces, links and processes of the hosts."""
    fields = {}
    with open("/proc/meminfo") as f:
        for line in f:
            name, value = line.split(":", 1)
            fields[name] = int(value.split()[0]) * 1024
    return fields["Slab"] + fields["PageTables"] + fields["KernelStack"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree_memory(pid: int) -> dict[str, int]:
    """The serve process's descendants (the terminals: nsenter and the host's shell): count, RSS, PSS."""
    count = rss = pss = 0
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return {"processes": 0, "rss": 0, "pss": 0}
    for p in children:
        try:
            info = p.memory_full_info()
        except psutil.Error:
            continue
        count += 1
        rss += info.rss
        pss += info.pss
    return {"processes": count, "rss": rss, "pss": pss}


def copies_memory(instances: list[str]) -> dict[str, int]:
    """What the lab's copies hold in memory: their hosts' processes (PSS: the image's pages shared
    by all hosts count once) and their files on the state tmpfs (overlay upper folders, snapshots)."""
    pss = files = processes = 0
    for instance in instances:
        folder = STATE_ROOT / instance
        try:
            hosts = json.loads((folder / "state.json").read_text())["hosts"]
        except (OSError, ValueError, KeyError):
            continue
        for host in hosts.values():
            try:
                root = psutil.Process(host["pid"])
                tree = [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
            for p in tree:
                try:
                    pss += p.memory_full_info().pss
                    processes += 1
                except psutil.Error:
                    pass
        for dirpath, dirnames, filenames in os.walk(folder):
            for name in filenames + dirnames:
                try:
                    st = os.lstat(os.path.join(dirpath, name))
                except OSError:
                    continue
                files += st.st_blocks * 512
    return {"processes": processes, "pss": pss, "files": files}


def pct(values: list[float], q: float) -> float | None:
    """The q-th percentile (nearest rank)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


# -- one trainee's browser ------------------------------------------------------------------------
class Trainee:
    def __init__(self, tid: str, code: str, base: str, rng: random.Random):
        self.tid, self.code, self.base, self.rng = tid, code, base, rng
        self.latencies: list[float] = []  # seconds, printable keys
        self.enters: list[float] = []  # seconds, Enter to the next prompt
        self.keys = self.lost = self.lost_prompts = 0
        self.login_time = self.open_time = 0.0
        self.error = ""
        self.end_reason = ""
        self.expect: deque[tuple[int, float]] = deque()  # (byte, sent at) not echoed yet
        self.output = bytearray()  # since the last Enter (for the prompt)
        self.prompt = b""
        self.prompt_seen = asyncio.Event()
        self.echoed = asyncio.Event()
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.page = ""
        self.received = 0  # output bytes
        self.polls = 0
        self.reader: asyncio.Future | None = None

    def feed(self, data: bytes, at: float) -> None:
        expect = self.expect
        for b in data:
            if expect and b == expect[0][0]:
                self.latencies.append(at - expect.popleft()[1])
        if not expect:
            self.echoed.set()
        self.output += data
        text = ANSI.sub(b"", bytes(self.output[-4096:]))
        if self.prompt:
            if text.endswith(self.prompt):
                self.prompt_seen.set()
        elif re.search(rb"[#$] $", text):
            self.prompt_seen.set()

    async def read(self) -> None:
        async for message in self.ws:
            if message.type == aiohttp.WSMsgType.BINARY:
                self.received += len(message.data)
                self.feed(message.data, time.perf_counter())
            elif message.type == aiohttp.WSMsgType.TEXT:
                with_end = json.loads(message.data)
                if with_end.get("t") == "end":
                    self.end_reason = str(with_end.get("reason"))
            else:
                break

    async def wait_prompt(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self.prompt_seen.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    async def connect(self, http: aiohttp.ClientSession) -> None:
        t0 = time.perf_counter()
        async with http.post(f"{self.base}/login", data={"trainee": self.tid, "code": self.code},
                             allow_redirects=False) as r:
            if r.status != 303:
                raise RuntimeError(f"login refused ({r.status})")
            self.page = r.headers["Location"].split("?")[0]
        async with http.get(f"{self.base}{self.page}") as r:  # the page, as a browser loads it
            await r.read()
            if r.status != 200:
                raise RuntimeError(f"trainee page: {r.status}")
        t1 = time.perf_counter()
        self.login_time = t1 - t0
        self.ws = await http.ws_connect(f"{self.base}/trainee/{self.tid}/terminal/{HOST}?c=200&r=50",
                                        origin=self.base, autoping=True, compress=15 if COMPRESS else 0)
        self.reader = asyncio.ensure_future(self.read())
        await self.ws.send_str(json.dumps({"t": "r", "c": 200, "r": 50}))
        if not await self.wait_prompt(PROMPT_TIMEOUT):
            raise RuntimeError(f"no prompt in {PROMPT_TIMEOUT:g} s: {bytes(self.output[-200:])!r}")
        await asyncio.sleep(0.3)  # the end of the login's output (a prompt, maybe redrawn)
        lines = re.split(rb"[\r\n]", ANSI.sub(b"", bytes(self.output)))
        self.prompt = lines[-1]
        self.open_time = time.perf_counter() - t1

    async def poll(self, http: aiohttp.ClientSession, stop_at: float) -> None:
        """What the page does meanwhile: its hosts' state, every 5 s (portal.js)."""
        while time.perf_counter() < stop_at:
            await asyncio.sleep(min(STATE_POLL, max(0.0, stop_at - time.perf_counter())))
            async with http.get(f"{self.base}{self.page}state") as r:
                await r.read()
                self.polls += r.status == 200

    async def flood(self, stop_at: float) -> None:
        """A trainee whose command prints without end (a recursive listing, in a loop) until stopped."""
        self.output.clear()
        self.prompt_seen.clear()
        await self.ws.send_str(json.dumps({"t": "i", "d": f"{NOISY_COMMAND}\r"}))
        await asyncio.sleep(max(0.0, stop_at - time.perf_counter()))
        for _ in range(10):  # Ctrl+C until the prompt is back
            self.output.clear()
            self.prompt_seen.clear()
            await self.ws.send_str(json.dumps({"t": "i", "d": "\x03"}))
            if await self.wait_prompt(2.0):
                break

    def line(self) -> str:
        word = "".join(self.rng.choice(LETTERS) for _ in range(self.rng.randint(4, 24)))
        return self.rng.choice(("true # ", ": ", "echo ")) + word

    async def type(self, stop_at: float) -> None:
        rng, ws = self.rng, self.ws
        next_key = time.perf_counter()
        while time.perf_counter() < stop_at and not ws.closed:
            self.echoed.clear()
            for ch in self.line():
                delay = next_key - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                self.expect.append((ord(ch), time.perf_counter()))
                self.echoed.clear()
                await ws.send_str(json.dumps({"t": "i", "d": ch}))
                self.keys += 1
                next_key += rng.uniform(*KEY_INTERVAL)
            try:  # the echo of the whole line before Enter (the output of the command is not echoes)
                await asyncio.wait_for(self.echoed.wait(), ECHO_TIMEOUT)
            except asyncio.TimeoutError:
                self.lost += len(self.expect)
                self.expect.clear()
            self.output.clear()
            self.prompt_seen.clear()
            t0 = time.perf_counter()
            await ws.send_str(json.dumps({"t": "i", "d": "\r"}))
            if await self.wait_prompt(PROMPT_TIMEOUT):
                self.enters.append(time.perf_counter() - t0)
            else:
                self.lost_prompts += 1
            next_key = time.perf_counter() + rng.uniform(*PAUSE_AFTER_PROMPT)


async def instructor_view(base: str, code: str, stop_at: float, events: list[int]) -> None:
    """The instructor's live view (/instructor: server-sent events, the class's rows) open meanwhile."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.post(f"{base}/instructor/login", data={"code": code}, allow_redirects=False) as r:
            if r.status != 303:
                raise RuntimeError(f"instructor login refused ({r.status})")
        async with http.get(f"{base}/instructor/events") as r:
            while time.perf_counter() < stop_at:
                try:
                    line = await asyncio.wait_for(r.content.readline(), max(0.1, stop_at - time.perf_counter()))
                except asyncio.TimeoutError:
                    break
                if not line:
                    break
                events[0] += line.startswith(b"data:")


async def run_class(trainees: list[Trainee], seconds: float, serve_pid: int, instructor: str | None,
                    noisy: int) -> dict:
    serve = psutil.Process(serve_pid)
    sessions = [aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) for _ in trainees]
    result: dict = {}
    try:
        result["rss_idle"] = serve.memory_info().rss
        outcomes = await asyncio.gather(*(t.connect(s) for t, s in zip(trainees, sessions)), return_exceptions=True)
        for t, outcome in zip(trainees, outcomes):
            if isinstance(outcome, BaseException):
                t.error = f"{type(outcome).__name__}: {outcome}"
                log(f"  {t.tid}: {t.error}")
        ready = [t for t in trainees if not t.error]
        result["rss_terminals"] = serve.memory_info().rss
        log(f"{len(ready)} terminals open (prompt {ready[0].prompt.decode(errors='replace')!r}); "
            f"typing for {seconds:g} s" if ready else "no terminal open")
        peak = result["rss_terminals"]
        me = psutil.Process()
        psutil.cpu_percent(None)
        cpu0, mine0, wall0 = serve.cpu_times(), me.cpu_times(), time.perf_counter()
        children_cpu0 = sum(sum(p.cpu_times()[:4]) for p in serve.children(recursive=True))
        stop_at = time.perf_counter() + seconds
        events = [0]
        others = [asyncio.ensure_future(t.poll(s, stop_at)) for t, s in zip(trainees, sessions) if not t.error]
        if instructor:
            others.append(asyncio.ensure_future(instructor_view(trainees[0].base, instructor, stop_at, events)))
        typing = asyncio.ensure_future(asyncio.gather(
            *(t.flood(stop_at) if i < noisy else t.type(stop_at) for i, t in enumerate(ready)),
            return_exceptions=True))
        samples = []
        while not typing.done():  # the server's peak memory, sampled while they type
            await asyncio.wait({typing}, timeout=1.0)
            samples.append(serve.memory_info().rss)
            peak = max(peak, samples[-1])
        result["rss_samples"] = samples
        for t, outcome in zip(ready, typing.result()):
            if isinstance(outcome, BaseException) and not t.error:
                t.error = f"{type(outcome).__name__}: {outcome}"
                log(f"  {t.tid}: {t.error}")
        for outcome in await asyncio.gather(*others, return_exceptions=True):
            if isinstance(outcome, BaseException):
                log(f"  page or instructor view: {type(outcome).__name__}: {outcome}")
        result["state_polls"] = sum(t.polls for t in trainees)
        result["noisy_bytes"] = sum(t.received for t in ready[:noisy])
        result["ended"] = {t.tid: t.end_reason for t in trainees if t.end_reason}
        result["instructor_events"] = events[0] if instructor else None
        cpu1, mine1, wall1 = serve.cpu_times(), me.cpu_times(), time.perf_counter()
        result["machine_cpu"] = psutil.cpu_percent(None) / 100 * psutil.cpu_count()
        result["clients_cpu"] = (mine1.user + mine1.system - mine0.user - mine0.system) / (wall1 - wall0)
        result["load_average"] = os.getloadavg()[0]
        children_cpu1 = sum(sum(p.cpu_times()[:4]) for p in serve.children(recursive=True))
        result["typing_wall"] = wall1 - wall0
        result["serve_cpu"] = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / (wall1 - wall0)
        result["terminals_cpu"] = (children_cpu1 - children_cpu0) / (wall1 - wall0)
        result["rss_after"] = serve.memory_info().rss
        result["rss_peak"] = max(peak, result["rss_after"])
        result["terminals"] = tree_memory(serve_pid)
    finally:
        for t in trainees:
            if t.ws is not None:
                await t.ws.close()
        await asyncio.gather(*(s.close() for s in sessions))
    return result


# -- the bench ------------------------------------------------------------------------------------
def start_serve(work: Path, class_file: Path, key_file: Path, port: int) -> subprocess.Popen:
    out = open(work / "serve.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tspcr_lab", "serve", LAB, "--class", str(class_file),
         "--listen", f"127.0.0.1:{port}", "--signing-key", str(key_file)],
        stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"})
    out.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"serve exited ({proc.returncode}): {(work / 'serve.log').read_text()[-500:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.2)
    stop_serve(proc)
    raise RuntimeError("serve did not listen in 30 s")


def stop_serve(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


def remove_clock(before: set[str], class_file: Path) -> None:
    """The exam clock serve saved for this class (in the portal's state folder), and only it."""
    if not PORTAL_STATE.is_dir():
        return
    for path in PORTAL_STATE.glob(f"{LAB}-*.json"):
        if path.name in before:
            continue
        try:
            roster = json.loads(path.read_text()).get("roster", "")
        except (OSError, ValueError):
            continue
        if roster.startswith(str(class_file.resolve()) + "|"):
            path.unlink()


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


def num(value: float | None, width: int = 7) -> str:
    return f"{'-':>{width}s}" if value is None else f"{value:{width}.1f}"


def interrupted(signum, frame) -> None:
    raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trainees", type=int, default=24)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--instructor", action="store_true",
                        help="Also keep the instructor's live view open (/instructor/events) while they type.")
    parser.add_argument("--noisy", type=int, default=0, metavar="K",
                        help=f"K of the trainees run a command that prints without end ({NOISY_COMMAND}) "
                             "instead of typing; the latency is the others'.")
    parser.add_argument("--json", action="store_true", help="Print the results as JSON (not the table).")
    options = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    signal.signal(signal.SIGTERM, interrupted)  # stopped: serve stopped and the class taken down all the same
    work = Path(tempfile.mkdtemp(prefix="tspcr-bench-portal-"))
    ids = [f"b{i:02d}" for i in range(1, options.trainees + 1)]
    class_file = work / "class.toml"
    class_file.write_text(f"[class]\nname = \"bench portal\"\nseed = {SEED}\n" + "".join(
        f'\n[[trainees]]\nid = "{tid}"\nname = "Trainee {tid}"\n' for tid in ids))
    key_file = work / "exam.key"
    key_file.write_bytes(os.urandom(32).hex().encode() + b"\n")
    key_file.chmod(0o600)
    hosts = 4 * len(ids)
    up_target = UP_TARGET_PER_48_HOSTS * max(1.0, hosts / 48)
    report: dict = {"lab": LAB, "trainees": len(ids), "hosts": hosts, "seconds": options.seconds}
    serve = None
    clocks_before = {p.name for p in PORTAL_STATE.glob("*.json")} if PORTAL_STATE.is_dir() else set()
    failed = False
    try:
        tspcr("down", LAB, "--class", str(class_file))
        log(f"up --class: {len(ids)} copies of {LAB} ({hosts} hosts)")
        used0, kernel0 = machine_used(), kernel_memory()
        try:
            report["up_time"], _ = tspcr("up", LAB, "--class", str(class_file), timeout=30 * 60)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            report["up_error"] = str(exc)
            print(f"{len(ids)} copies of {LAB} did not come up: {exc}")
            print(f"  machine memory: {psutil.virtual_memory().total / 2**30:.1f} GiB, "
                  f"used by the copies so far: {(machine_used() - used0) / 2**20:.0f} MiB")
            failed = True
            return
        report["up_memory"] = machine_used() - used0
        report["up_kernel_memory"] = kernel_memory() - kernel0
        report["copies"] = copies_memory([f"{LAB}-{tid}" for tid in ids])
        report["up_too_long"] = report["up_time"] > up_target
        log(f"  {report['up_time']:.1f} s, {report['up_memory'] / 2**20:.0f} MiB")

        tspcr("sheet", LAB, "--class", str(class_file), "--out", str(work / "sheets"), "--key", str(key_file))
        with open(work / "sheets" / "access.csv", newline="", encoding="utf-8") as f:
            codes = {row["id"]: row["code"] for row in csv.DictReader(f)}

        port = free_port()
        serve = start_serve(work, class_file, key_file, port)
        time.sleep(0.5)
        base = f"http://127.0.0.1:{port}"
        rng = random.Random(SEED)
        trainees = [Trainee(tid, codes[tid], base, random.Random(rng.random())) for tid in ids]
        log(f"serve pid {serve.pid} at {base}; {len(ids)} trainees log in and open {HOST}'s terminal")
        instructor = None
        if options.instructor:
            found = re.search(r"instructor: \S+\s+code (\S+)", (work / "serve.log").read_text())
            if not found:
                raise RuntimeError("no instructor code in serve's output")
            instructor = found.group(1)
        report["instructor"] = options.instructor
        report["noisy"] = options.noisy
        report.update(asyncio.run(run_class(trainees, options.seconds, serve.pid, instructor, options.noisy)))

        latencies = [x for t in trainees for x in t.latencies]
        enters = [x for t in trainees for x in t.enters]
        typed = [t for t in trainees if t.keys]
        report.update({
            "typing": len(typed), "errors": {t.tid: t.error for t in trainees if t.error},
            "keys": sum(t.keys for t in trainees), "echoed": len(latencies),
            "lost": sum(t.lost for t in trainees), "lost_prompts": sum(t.lost_prompts for t in trainees),
            "keys_per_s": len(latencies) / report["typing_wall"],
            "echo_ms": {"median": ms(pct(latencies, 50)), "p95": ms(pct(latencies, 95)),
                        "p99": ms(pct(latencies, 99)), "max": ms(max(latencies, default=None))},
            "enter_ms": {"count": len(enters), "median": ms(pct(enters, 50)), "p95": ms(pct(enters, 95)),
                         "max": ms(max(enters, default=None))},
            "login_s_max": max(t.login_time for t in trainees),
            "open_s_max": max(t.open_time for t in trainees),
            "per_trainee_p95_ms": {t.tid: round(ms(pct(t.latencies, 95)), 1) for t in typed if t.latencies},
        })
        report["target_met"] = bool(latencies) and report["echo_ms"]["p95"] < TARGET_P95_MS \
            and len(typed) == len(ids) - options.noisy and not report["lost"]
        failed = not report["target_met"]
    finally:
        if serve is not None:
            stop_serve(serve)
        remove_clock(clocks_before, class_file)
        try:
            report["down_time"], _ = tspcr("down", LAB, "--class", str(class_file))
        except RuntimeError as exc:
            log(str(exc))
            failed = True
        shutil.rmtree(work, ignore_errors=True)
        if options.json:
            print(json.dumps(report, indent=2))
        elif "echo_ms" in report:
            print_table(report, up_target)
    if failed:
        sys.exit(1)


def print_table(r: dict, up_target: float) -> None:
    e, n, term = r["echo_ms"], r["enter_ms"], r["terminals"]
    mib = 2 ** 20
    print(f"portal: {r['trainees']} trainees on {r['lab']} ({r['hosts']} hosts), a terminal each on {HOST}, "
          f"typing for {r['seconds']:g} s (a key every {KEY_INTERVAL[0] * 1000:.0f}-{KEY_INTERVAL[1] * 1000:.0f} ms)")
    c = r["copies"]
    too_long = "TOO LONG: building the class is slower than bench_class's pace"
    print(f"  up --class       {r['up_time']:7.1f} s   (target < {up_target:.0f} s: "
          f"{too_long if r['up_too_long'] else 'MET'})")
    print(f"  the copies hold  {(c['pss'] + c['files'] + r['up_kernel_memory']) / mib:7.0f} MiB: "
          f"{c['processes']} processes {c['pss'] / mib:.0f} MiB (PSS) + files on tmpfs {c['files'] / mib:.1f} MiB "
          f"+ the kernel's {r['up_kernel_memory'] / mib:.0f} MiB (slab, page tables, stacks)")
    print(f"  {'':16s} the machine's used memory grew by {r['up_memory'] / mib:.0f} MiB of "
          f"{psutil.virtual_memory().total / 2**30:.1f} GiB (everything running on it)")
    print(f"  {'trainees':>8s} {'keys':>6s} {'keys/s':>6s} {'lost':>5s} "
          f"{'median':>7s} {'p95':>7s} {'p99':>7s} {'max':>7s}")
    print(f"  {r['typing']:8d} {r['echoed']:6d} {r['keys_per_s']:6.0f} {r['lost']:5d} {num(e['median'])} "
          f"{num(e['p95'])} {num(e['p99'])} {num(e['max'])}  ms, key to echo   "
          f"(target p95 < {TARGET_P95_MS:.0f} ms: {'MET' if r['target_met'] else 'NOT MET'})")
    print(f"  {'':8s} {n['count']:6d} {'':6s} {r['lost_prompts']:5d} {num(n['median'])} {num(n['p95'])} {'':7s} "
          f"{num(n['max'])}  ms, Enter to prompt (a builtin's round trip)")
    print(f"  serve RSS        {r['rss_idle'] / mib:7.1f} MiB before the terminals, {r['rss_terminals'] / mib:.1f} MiB "
          f"with them open, {r['rss_after'] / mib:.1f} MiB after typing (peak {r['rss_peak'] / mib:.1f} MiB)")
    print(f"  terminals        {term['processes']:7d} processes (nsenter + bash), RSS {term['rss'] / mib:.1f} MiB, "
          f"PSS {term['pss'] / mib:.1f} MiB")
    if r["noisy"]:
        print(f"  {'':16s} and {r['noisy']} more trainees' terminals printing without end "
              f"({r['noisy_bytes'] / mib / r['typing_wall']:.1f} MiB/s of output received)")
    view = f", the instructor's live view open ({r['instructor_events']} updates)" if r["instructor"] else ""
    print(f"  meanwhile        {r['state_polls']} polls of the pages' state (every {STATE_POLL:g} s each){view}")
    other = r["machine_cpu"] - r["serve_cpu"] - r["terminals_cpu"] - r["clients_cpu"]
    print(f"  CPU while typing serve {r['serve_cpu'] * 100:.0f} %, terminals {r['terminals_cpu'] * 100:.0f} %, "
          f"the bench's clients {r['clients_cpu'] * 100:.0f} %, anything else {max(0, other) * 100:.0f} % "
          f"(% of one core; the machine has {psutil.cpu_count()}; load average {r['load_average']:.1f})")
    print(f"  login + page     max {r['login_s_max']:.2f} s; terminal to prompt max {r['open_s_max']:.2f} s")
    if r["ended"]:
        print(f"  terminals ended by the server: {json.dumps(r['ended'])}")
    if r["errors"]:
        print(f"  errors: {json.dumps(r['errors'])}")
    print(f"  down --class     {r.get('down_time', float('nan')):7.1f} s")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted (serve stopped, the class taken down)")
