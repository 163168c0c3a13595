"""A real HTTP mirror on this machine for the retrieval tests: a folder served by http.server in a thread, with a
log of every request and of the process that made it (read from /proc, so a test can say where a download ran)."""

from __future__ import annotations

import functools
import http.server
import os
import threading
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Request:
    path: str
    status: int
    client_pid: int | None
    client_ancestry: tuple[str, ...]  # command names from the client process up to init


def _socket_inode(local_port: int, remote_port: int) -> str | None:
    """The inode of the TCP socket whose local port is the client's and remote port the server's."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            if int(local.rsplit(":", 1)[1], 16) == local_port and int(remote.rsplit(":", 1)[1], 16) == remote_port:
                return inode
    return None


def _pid_holding(inode: str) -> int | None:
    target = f"socket:[{inode}]"
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            for fd in os.scandir(f"/proc/{entry.name}/fd"):
                if os.readlink(fd.path) == target:
                    return int(entry.name)
        except OSError:  # a process that ended meanwhile, or one we may not read
            continue
    return None


def ancestry(pid: int | None) -> tuple[str, ...]:
    names = []
    while pid and pid > 1:
        try:
            names.append(Path(f"/proc/{pid}/comm").read_text().strip())
            stat = Path(f"/proc/{pid}/stat").read_text()
            pid = int(stat.rsplit(")", 1)[1].split()[1])
        except OSError:
            break
    return tuple(names)


class Mirror:
    """Serves `folder` at `url` (http://127.0.0.1:PORT/) until `close()`; `requests` lists what was asked."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.requests: list[Request] = []
        mirror = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):  # quiet: the requests are recorded instead
                pass

            def send_response(self, code, message=None):
                client_port = self.client_address[1]
                pid = _pid_holding(_socket_inode(client_port, mirror.port) or "")
                mirror.requests.append(Request(self.path, code, pid, ancestry(pid)))
                super().send_response(code, message)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      functools.partial(Handler, directory=str(self.folder)))
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Mirror:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
