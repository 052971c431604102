"""Helpers the bench scripts share: ports, readiness, the release build, nginx, pictures."""
import os
import socket
import subprocess
import sys
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
