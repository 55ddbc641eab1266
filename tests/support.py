"""Helpers that run real processes (servers) for tests that need real HTTP."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(url: str, headers: dict | None = None, timeout: float = 5.0):
    """(status, headers, body bytes) of a real HTTP GET, without raising on 4xx/5xx."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@contextmanager
def gunicorn_server(
    env: dict[str, str] | None = None,
    workers: int = 1,
    threads: int = 4,
    app: str = "nutrition_pro.wsgi",
    ready_path: str = "/healthz",
):
    """A real gunicorn serving the project (or another WSGI `app`) on a free port, with the
    project's gunicorn settings; yields its base URL once `ready_path` answers 200."""
    port = free_port()
    process_env = {**os.environ, **(env or {})}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            app,
            "--config",
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--max-requests",
            "0",  # no worker recycling in the middle of a test or a measurement
            "--access-logfile",
            "/dev/null",
        ],
        cwd=ROOT,
        env=process_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {process.stderr.read().decode()[-2000:]}")
            try:
                if http_get(f"{base}{ready_path}", timeout=1)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start in 30 s")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def live_env(**overrides: str) -> dict[str, str]:
    """Environment for a child process that sees the test database and this worker's Redis db."""
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    env = {
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.CACHES["default"].get("LOCATION", ""),
    }
    env.update(overrides)
    return env


def start_celery_worker(
    *,
    queue: str,
    name: str,
    concurrency: int,
    env: dict[str, str] | None = None,
    loglevel: str = "WARNING",
    include: tuple[str, ...] = (),
    stdout=subprocess.DEVNULL,
    stderr=subprocess.PIPE,
) -> subprocess.Popen:
    """A real `celery worker` (threads pool) on one queue, in its own process group."""
    command = [sys.executable, "-m", "celery", "-A", "nutrition_pro", "worker", "-Q", queue]
    command += ["-n", f"{name}@%h", "--pool", "threads", "--concurrency", str(concurrency)]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    command += ["--loglevel", loglevel]
    for module in include:
        command += ["-I", module]
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=stdout,
        stderr=stderr,
        start_new_session=True,
    )


def stop_process_group(process: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM the process group (a warm shutdown), SIGKILL it if it does not end in time."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
