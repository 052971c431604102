"""Helpers the bench scripts share: ports, readiness, the release build, nginx, pictures."""
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# nginx answering /hi with the demo's bytes for visitor 1: a fixed body, no counter.
NGINX_CONF = """daemon off;
{extra}worker_processes {workers};
pid nginx.pid;
error_log error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path body;
    proxy_temp_path proxy;
    fastcgi_temp_path fastcgi;
    uwsgi_temp_path uwsgi;
    scgi_temp_path scgi;
    keepalive_requests 100000000;
    server {{
        listen 127.0.0.1:{port} reuseport;
        location = /hi {{
            default_type 'text/html; charset=utf-8';
            return 200 "<h1 style='color: red'>Welcome!</h1>You are visitor number 1!";
        }}
    }}
}}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            sys.exit(f"server exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def release_hiserve(build_dir):
    """Path to hiserve in a release build dir (relative to the repo), set up and built."""
    build = os.path.join(ROOT, build_dir)
    if not os.path.exists(os.path.join(build, "build.ninja")):
        subprocess.run(["meson", "setup", build, "--buildtype=release", "-Dtests=false"], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
    subprocess.run(["meson", "compile", "-C", build, "hiserve"], check=True, stdout=subprocess.DEVNULL)
    return os.path.join(build, "hiserve")


PEERS = os.path.join(ROOT, "bench", "peers")
TICK = os.sysconf("SC_CLK_TCK")


def run(cmd, **kw):
    subprocess.run(cmd, check=True, **kw)


class Server:
    def __init__(self, name, url, pid=None, proc=None, cleanup=None):
        self.name, self.url, self.pid, self.proc, self.cleanup = name, url, pid, proc, cleanup

    def cpu_seconds(self):
        """utime+stime of the server process and every descendant (nginx workers)."""
        parents = {}
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open(f"/proc/{d}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                    parents[int(d)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
                except (OSError, IndexError):
                    pass
        tree, total, grew = {self.pid}, 0, True
        while grew:
            grew = False
            for p, (ppid, _) in parents.items():
                if ppid in tree and p not in tree:
                    tree.add(p)
                    grew = True
        for p in tree:
            total += parents.get(p, (0, 0))[1]
        return total / TICK

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if self.cleanup:
            self.cleanup()


def start(name, argv, port, cpus, cleanup=None, path="/hi?color=red"):
    """Starts argv pinned to cpus and waits until it listens on port."""
    proc = subprocess.Popen(["taskset", "-c", cpus] + argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_listening(port, proc)
    return Server(name, f"http://127.0.0.1:{port}{path}", proc.pid, proc, cleanup)


def start_hiserve(args):
    """hiserve from the release build, with args.threads loops and args.hiserve_args."""
    port = free_port()
    extra = shlex.split(args.hiserve_args)
    argv = [release_hiserve(args.build), "--port", str(port), "--threads", str(args.threads)] + extra
    if any(a.split("=")[0] == "--counter" for a in extra):
        return start("hiserve", argv, port, args.server_cpus)
    # The default store, the file, in a directory of its own rather than the caller's.
    tmp = tempfile.mkdtemp(prefix="hiserve-load-")
    argv += ["--counter", f"file:{tmp}/hiserve.counter"]
    return start("hiserve", argv, port, args.server_cpus, lambda: shutil.rmtree(tmp, ignore_errors=True))


def start_peer(args, against):
    """nginx, go-step6, null, or a command with {port} (NAME=COMMAND names it in the
    table), pinned as hiserve is."""
    label = None
    if re.match(r"[\w.+-]+=", against):
        label, against = against.split("=", 1)
    port = free_port()
    build = os.path.join(ROOT, args.build)
    os.makedirs(build, exist_ok=True)
    if against == "nginx":
        prefix = tempfile.mkdtemp(prefix="hiserve-load-nginx-")
        os.makedirs(os.path.join(prefix, "logs"))
        conf = os.path.join(prefix, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(extra="", workers=args.threads, port=port))
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        return start("nginx", [nginx, "-p", prefix + "/", "-c", conf], port, args.server_cpus,
                     cleanup=lambda: shutil.rmtree(prefix, ignore_errors=True))
    if against == "go-step6":
        exe = os.path.join(build, "go-step6")
        run(["go", "build", "-o", exe, "./step6"], cwd=os.path.join(PEERS, "go"))
        return start("go-step6", ["env", f"GOMAXPROCS={args.threads}", exe, "-addr", f"127.0.0.1:{port}"], port,
                     args.server_cpus)
    if against == "null":
        exe = os.path.join(build, "null_server")
        run(["cc", "-O2", "-pthread", "-o", exe, os.path.join(PEERS, "null_server.c")])
        return start("null", [exe, str(port), str(args.threads)], port, args.server_cpus)
    argv = shlex.split(against.replace("{port}", str(port)))
    name = os.path.basename(argv[0])
    return start(label or ("peer" if name == "hiserve" else name), argv, port, args.server_cpus)



def _pyplot():
    import matplotlib  # Debian's python3-matplotlib (setup.sh)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot_bars(path, title, scenarios, names, results):
    """Requests/s and CPU us/request per scenario, one bar per server: the median, with
    min-max whiskers. results[(name, scenario)] = {"rps": [...], "us_per_req": [...]}."""
    import statistics
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    width = 0.8 / len(names)
    for ax, key, label in ((axes[0], "rps", "requests/s"), (axes[1], "us_per_req", "server CPU µs per request")):
        for i, name in enumerate(names):
            meds, lows, highs = [], [], []
            for sc in scenarios:
                v = [x for x in results[(name, sc)][key] if x == x] or [0]
                m = statistics.median(v)
                meds.append(m), lows.append(m - min(v)), highs.append(max(v) - m)
            xs = [j + (i - (len(names) - 1) / 2) * width for j in range(len(scenarios))]
            ax.bar(xs, meds, width, yerr=[lows, highs], capsize=3, label=name)
        ax.set_xticks(range(len(scenarios)), scenarios)
        ax.set_yscale("log")  # pipelined and -c1 differ from keep-alive tenfold
        ax.set_ylabel(label + " (log)")
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def plot_lines(path, title, xs, series, xlabel, ylabel):
    """One line per series: series[name] = [y for each x]."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for name, ys in series.items():
        ax.plot(xs, ys, marker="o", label=name)
    ax.set_xticks(xs)
    ax.set_ylim(bottom=0)  # from zero, so a gap of some percent looks like one
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
