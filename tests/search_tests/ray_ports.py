"""What the Ray processes of one process tree listen on, and whether each port demands Ray's token.

Linux only (/proc), so tests can restrict themselves to the processes they started while other Ray
instances run on the same machine.
"""
from __future__ import annotations

import http.client
import ipaddress
import os
import urllib.error
import urllib.request
from pathlib import Path

import grpc

# a read-only call of each Ray gRPC service: a server that has the method answers UNAUTHENTICATED
# without a token when token authentication is on, anything but UNIMPLEMENTED otherwise
PROBES = ("/ray.rpc.NodeInfoGcsService/GetClusterId", "/ray.rpc.NodeManagerService/GetSystemConfig",
          "/ray.rpc.CoreWorkerService/NumPendingTasks", "/ray.rpc.ObjectManagerService/Pull")
LOOPBACK = ("127.0.0.1", "::1")


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(children.get(p, []))
    return tree


def _address(hex_address: str) -> tuple[str, int]:
    ip_hex, port_hex = hex_address.split(":")
    raw = bytes.fromhex(ip_hex)
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))  # /proc stores 32-bit words host-endian
    return str(ipaddress.ip_address(words)), int(port_hex, 16)


def listening(pids: list[int]) -> list[tuple[int, str, int]]:
    """(pid, ip, port) of each TCP socket in LISTEN state held by one of `pids`."""
    by_inode = {}
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            f = line.split()
            if f[3] == "0A":  # LISTEN
                by_inode[f[9]] = _address(f[1])
    found = []
    for pid in pids:
        try:
            links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        except OSError:
            continue
        found += [(pid, *by_inode[link[8:-1]]) for link in links if link.startswith("socket:[")
                  and link[8:-1] in by_inode]
    return found


def demands_token(ip: str, port: int) -> bool | None:
    """True: the port refuses a request without Ray's token; False: it answers one; None: not a Ray service."""
    host = "127.0.0.1" if ip in ("0.0.0.0", "::") else (f"[{ip}]" if ":" in ip else ip)
    with grpc.insecure_channel(f"{host}:{port}") as channel:
        for method in PROBES:
            try:
                channel.unary_unary(method)(b"", timeout=5)
                return False
            except grpc.RpcError as e:
                if e.code() == grpc.StatusCode.UNAUTHENTICATED:
                    return True
                if e.code() not in (grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.UNAVAILABLE,
                                    grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.INTERNAL):
                    return False
    try:  # Ray's HTTP agents (runtime env) check the token in a middleware
        urllib.request.urlopen(f"http://{host}:{port}/", timeout=5)
        return False
    except urllib.error.HTTPError as e:
        return True if e.code == 401 else False if e.code < 500 else None
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError):
        return None
