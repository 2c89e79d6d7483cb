"""``tspcr-lab serve``: start the portal (web, and SSH with ``--ssh-port``) and run until stopped.

The labs are not the server's: stopping it (Ctrl+C, SIGTERM) closes the terminals it opened and
nothing else; started again with the same options, it finds the same labs, the same clock
(:mod:`.exam`) and the same codes.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ipaddress
import signal
import ssl
from pathlib import Path
from typing import Callable

from aiohttp import web

from ..errors import UserError
from .app import check_vendor, make_app
from .service import Portal, Settings


@dataclasses.dataclass(frozen=True)
class Listen:
    host: str
    port: int

    @classmethod
    def parse(cls, text: str, option: str = "--listen") -> "Listen":
        host, sep, port = text.rpartition(":")
        if not sep or not port.isdigit() or not 0 < int(port) < 65536:
            raise UserError(f"{option} {text}: give ADDRESS:PORT (e.g. 127.0.0.1:8080, 0.0.0.0:8080)")
        host = host.strip("[]")
        try:
            ipaddress.ip_address(host)
        except ValueError:
            if host != "localhost":
                raise UserError(f"{option} {text}: the address must be an IP address of this machine") from None
        return cls(host, int(port))


def tls_context(cert: str | None, key: str | None) -> ssl.SSLContext | None:
    if not cert and not key:
        return None
    if not (cert and key):
        raise UserError("TLS needs both --cert and --key")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise UserError(f"cannot load the TLS certificate {cert} / key {key}: {exc}") from None
    return context


async def _serve(settings: Settings, listen: Listen, tls: ssl.SSLContext | None, ssh_port: int | None,
                 state_dir: Path, announce: Callable[[Portal, str, str | None], None], trusted_proxy: str) -> None:
    portal = Portal(settings, state_dir=state_dir)
    app = make_app(portal, secure=tls is not None, trusted_proxy=trusted_proxy)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    ssh_server = None
    try:
        site = web.TCPSite(runner, listen.host, listen.port, ssl_context=tls, reuse_address=True)
        try:
            await site.start()
        except OSError as exc:
            raise UserError(f"cannot listen on {listen.host}:{listen.port}: {exc.strerror}") from None
        if ssh_port:
            from .sshd import start_ssh

            ssh_server = await start_ssh(portal, listen.host, ssh_port, state_dir)
        scheme = "https" if tls else "http"
        host = f"[{listen.host}]" if ":" in listen.host else listen.host
        ssh = f"ssh -p {ssh_port} ID@{listen.host} (host key {ssh_server.fingerprint})" if ssh_server else None
        announce(portal, f"{scheme}://{host}:{listen.port}/", ssh)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        if ssh_server is not None:
            ssh_server.close()
            with contextlib.suppress(Exception):
                await ssh_server.wait_closed()
        await runner.cleanup()


def serve(settings: Settings, listen: Listen, *, tls: ssl.SSLContext | None, ssh_port: int | None,
          state_dir: Path, announce: Callable[[Portal, str, str | None], None], trusted_proxy: str = "") -> None:
    check_vendor()
    if trusted_proxy:
        try:
            ipaddress.ip_address(trusted_proxy)
        except ValueError:
            raise UserError(f"--trusted-proxy {trusted_proxy}: give the reverse proxy's IP address") from None
    asyncio.run(_serve(settings, listen, tls, ssh_port, state_dir, announce, trusted_proxy))
