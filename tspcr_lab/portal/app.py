"""The portal's web application (aiohttp): login with an access code, a trainee's page with a
terminal per host (websockets), self-check, exam clock, and the instructor's live view.

Who may do what is decided here, once, in :func:`_trainee` and :func:`_instructor`: every trainee
URL names its trainee (``/trainee/t01/...``) and is refused (403) to any session but that
trainee's, while their time lasts; the instructor's URLs need the instructor's session. Every POST
carries the session's CSRF token and a websocket must come from the portal's own origin
(cookies are also ``SameSite=Strict``). Pages are built by :mod:`.pages` (everything escaped).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import hashlib
import json
import logging
import re
import time
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from ..errors import UserError
from ..i18n import LANGS
from . import pages
from .recording import IDLE_GAP, VENDOR, cast_info, node_modules, read_cast, replay_data
from .service import Portal

log = logging.getLogger("tspcr_lab.portal")

COOKIE = "tspcr_session"
MAX_FRAME = 64 << 10  # output bytes joined into one websocket frame, at most (about: one read more)
MAX_BUFFERED = 4 << 20  # output bytes waiting for a slow viewer; beyond, it is dropped (it reattaches)
SSE_PERIOD = 2.0
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")

PORTAL_KEY = web.AppKey("portal", Portal)
SOCKETS_KEY = web.AppKey("sockets", dict)
SECURE_KEY = web.AppKey("secure", bool)
PROXY_KEY = web.AppKey("proxy", str)  # the reverse proxy's address, whose X-Forwarded-* are believed
STOPPING_KEY = web.AppKey("stopping", asyncio.Event)  # the server is stopping: long requests end

STATIC_TYPES = {".js": "text/javascript", ".css": "text/css"}
STATIC_FILES = {"portal.js", "portal.css", "instructor.js", "replay.js", "replay.css"}
CAST_TYPE = "application/x-asciicast"


def check_vendor() -> None:
    missing = [rel for rel in VENDOR.values() if not (node_modules() / rel).is_file()]
    if missing:
        raise UserError(f"xterm.js is not installed ({node_modules() / missing[0]} is missing): run make setup")


# -- helpers ----------------------------------------------------------------------------------------
def _lang(request: web.Request) -> str:
    lang = request.query.get("lang") or request.cookies.get("tspcr_lang") or "fr"
    return lang if lang in LANGS else "fr"


def _html(text: str, status: int = 200, request: web.Request | None = None) -> web.Response:
    response = web.Response(text=text, status=status, content_type="text/html", charset="utf-8")
    if request is not None and request.query.get("lang") in LANGS:
        response.set_cookie("tspcr_lang", request.query["lang"], httponly=True, samesite="Strict",
                            secure=_secure(request), max_age=365 * 86400)
    return response


def _address(request: web.Request) -> str:
    """The client's address: the peer's, or behind the trusted reverse proxy the one it forwards."""
    remote = request.remote or "?"
    if remote == request.app[PROXY_KEY]:
        forwarded = request.headers.get("X-Forwarded-For", "").split(",")[-1].strip()
        return forwarded or remote
    return remote


def _secure(request: web.Request) -> bool:
    if request.app[SECURE_KEY]:
        return True
    return request.remote == request.app[PROXY_KEY] and request.headers.get("X-Forwarded-Proto") == "https"


def _session(request: web.Request):
    return request.app[PORTAL_KEY].sessions.get(request.cookies.get(COOKIE))


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return request.method in ("GET", "HEAD") and not request.headers.get("Upgrade")
    return urlsplit(origin).netloc == request.host


def _forbidden(request: web.Request, key: str = "forbidden") -> web.Response:
    lang = _lang(request)
    if request.path.startswith(("/trainee/", "/instructor/")) and request.method != "GET":
        return web.json_response({"error": pages.s(key, lang)}, status=403)
    return _html(pages.message_page(lang, pages.s("title", lang), pages.s(key, lang)), status=403)


def _trainee(request: web.Request, *, post: bool = False):
    """The session of the trainee the URL names, or the response that refuses it."""
    portal = request.app[PORTAL_KEY]
    tid = request.match_info["trainee"]
    session = _session(request)
    if session is None:
        if request.method == "GET" and not request.headers.get("Upgrade"):
            raise web.HTTPSeeOther(f"/?lang={_lang(request)}")
        return None, _forbidden(request)
    if session.role != "trainee" or session.trainee != tid or tid not in portal.seats:
        return None, _forbidden(request)
    if not portal.may_work(tid):
        portal.sessions.close(session.token)
        return None, _forbidden(request, "over")
    if post and (request.headers.get("X-CSRF-Token") != session.csrf or not _same_origin(request)):
        return None, _forbidden(request)
    portal.seen(tid)
    return session, None


def _instructor(request: web.Request, *, post: bool = False):
    session = _session(request)
    if session is None or session.role != "instructor":
        if request.method == "GET" and session is None:
            raise web.HTTPSeeOther(f"/instructor/login?lang={_lang(request)}")
        return None, _forbidden(request)
    if post and (request.headers.get("X-CSRF-Token") != session.csrf or not _same_origin(request)):
        return None, _forbidden(request)
    return session, None


def _set_session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", secure=_secure(request), path="/")


# -- trainee --------------------------------------------------------------------------------------
async def index(request: web.Request) -> web.StreamResponse:
    portal = request.app[PORTAL_KEY]
    session = _session(request)
    if session is not None and session.role == "trainee" and portal.may_work(session.trainee):
        raise web.HTTPSeeOther(f"/trainee/{session.trainee}/?lang={_lang(request)}")
    return _html(pages.login_page(_lang(request), portal.lab.title_in(_lang(request))), request=request)


async def login(request: web.Request) -> web.StreamResponse:
    portal = request.app[PORTAL_KEY]
    form = await request.post()
    lang = form.get("lang") if form.get("lang") in LANGS else _lang(request)
    trainee, code = str(form.get("trainee", "")), str(form.get("code", ""))
    outcome, value = portal.login(trainee, code, _address(request))
    title = portal.lab.title_in(lang)
    if outcome == "ok":
        response = web.HTTPSeeOther(f"/trainee/{value.trainee}/?lang={lang}")
        _set_session_cookie(request, response, value.token)
        raise response
    if outcome == "limited":
        page = pages.login_page(lang, title, error=pages.s("limited", lang, s=int(value) + 1), trainee=trainee)
        response = _html(page, status=429)
        response.headers["Retry-After"] = str(int(value) + 1)
        return response
    if outcome == "over":
        return _html(pages.message_page(lang, title, pages.s("over", lang)), status=403)
    return _html(pages.login_page(lang, title, error=pages.s("refused", lang), trainee=trainee), status=401)


async def logout(request: web.Request) -> web.StreamResponse:
    portal = request.app[PORTAL_KEY]
    form = await request.post()
    session = _session(request)
    if session is not None and form.get("csrf") == session.csrf and _same_origin(request):
        portal.sessions.close(session.token)
        for ws in list(request.app[SOCKETS_KEY].get(session.token, ())):  # other tabs of this session
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_json({"t": "end", "reason": "logout"})
            await ws.close(code=4001, message=b"logged out")
    target = "/instructor/login" if session is not None and session.role == "instructor" else "/"
    response = web.HTTPSeeOther(f"{target}?lang={_lang(request)}")
    response.del_cookie(COOKIE, path="/")
    raise response


async def trainee_page(request: web.Request) -> web.StreamResponse:
    session, refusal = _trainee(request)
    if refusal is not None:
        return refusal
    portal, lang = request.app[PORTAL_KEY], _lang(request)
    seat = portal.seats[session.trainee]
    page = pages.trainee_page(
        lang, lab_title=portal.lab.title_in(lang), trainee_id=seat.trainee.id, trainee_name=seat.trainee.name,
        instructions=portal.instructions(seat.trainee.id, lang), hosts=portal.hosts(seat.trainee.id),
        exam=portal.settings.exam, csrf=session.csrf, remaining=portal.clock.remaining(seat.trainee.id))
    return _html(page, request=request)


async def trainee_state(request: web.Request) -> web.StreamResponse:
    session, refusal = _trainee(request)
    if refusal is not None:
        return refusal
    portal = request.app[PORTAL_KEY]
    return web.json_response({"hosts": portal.hosts(session.trainee),
                              "remaining": portal.clock.remaining(session.trainee)})


async def trainee_reboot(request: web.Request) -> web.StreamResponse:
    session, refusal = _trainee(request, post=True)
    if refusal is not None:
        return refusal
    return await _reboot(request, session.trainee, request.match_info["host"])


async def _reboot(request: web.Request, tid: str, host: str) -> web.StreamResponse:
    portal = request.app[PORTAL_KEY]
    if host not in portal.lab.hosts:
        return web.json_response({"error": "no such host"}, status=404)
    try:
        await portal.reboot(tid, host)
    except UserError as exc:
        log.warning("reboot of %s/%s: %s", tid, host, exc)
        return web.json_response({"ok": False}, status=500)
    return web.json_response({"ok": True})


async def trainee_check(request: web.Request) -> web.StreamResponse:
    session, refusal = _trainee(request, post=True)
    if refusal is not None:
        return refusal
    portal, lang = request.app[PORTAL_KEY], _lang(request)
    outcome, value = await portal.self_check(session.trainee, lang)
    if outcome == "ok":
        return web.json_response({"status": "ok", **value})
    if outcome == "closed":
        return _forbidden(request)
    if outcome == "busy":
        return web.json_response({"status": "busy", "message": pages.s("check_busy", lang)}, status=429)
    if outcome == "wait":
        return web.json_response({"status": "wait", "message": pages.s("check_wait", lang, s=int(value) + 1)},
                                 status=429, headers={"Retry-After": str(int(value) + 1)})
    return web.json_response({"status": "error", "message": pages.s("check_error", lang)}, status=503)


async def terminal_socket(request: web.Request) -> web.StreamResponse:
    """A host's terminal over a websocket. Client → server: JSON text ``{"t": "i", "d": keys}`` and
    ``{"t": "r", "c": cols, "r": rows}``; server → client: the terminal's output as binary frames,
    and ``{"t": "end", "reason": "exit" | "over" | "down" | "slow" | "logout"}`` before closing."""
    session, refusal = _trainee(request)
    if refusal is not None:
        return refusal
    if not _same_origin(request):
        return _forbidden(request)
    portal, host = request.app[PORTAL_KEY], request.match_info["host"]
    if host not in portal.lab.hosts:
        return web.json_response({"error": "no such host"}, status=404)
    # No compression: terminal output is small and wants speed (aiohttp compresses big frames in
    # a thread, and the memory it takes is kept by the allocator).
    ws = web.WebSocketResponse(heartbeat=30.0, max_msg_size=1 << 20, compress=False)
    await ws.prepare(request)
    sockets = request.app[SOCKETS_KEY].setdefault(session.token, set())
    sockets.add(ws)
    try:
        await _serve_terminal(ws, portal, session.trainee, host, _size(request.query))
    finally:
        sockets.discard(ws)
        if not sockets:
            request.app[SOCKETS_KEY].pop(session.token, None)
    return ws


def _size(values) -> tuple[int, int]:
    try:
        return max(2, min(int(values.get("c") or values.get("cols") or 80), 1000)), \
            max(1, min(int(values.get("r") or values.get("rows") or 24), 500))
    except (TypeError, ValueError):
        return 80, 24


async def _serve_terminal(ws: web.WebSocketResponse, portal: Portal, tid: str, host: str,
                          size: tuple[int, int]) -> None:
    from ..virtual.lab import HostNotRunning

    try:
        terminal = portal.terminal(tid, host, "web", *size)
    except HostNotRunning:
        await ws.send_json({"t": "end", "reason": "down"})
        await ws.close()
        return
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()
    buffered = [0]

    def viewer(data: bytes | None) -> None:
        if data is not None:
            buffered[0] += len(data)
        queue.put_nowait(data)

    backlog = terminal.attach(viewer)
    terminal.resize(*size)

    async def pump() -> str:
        if backlog:
            for start in range(0, len(backlog), MAX_FRAME):
                await ws.send_bytes(backlog[start:start + MAX_FRAME])
        while True:
            data = await queue.get()
            if data is None:
                return "over" if not portal.may_work(tid) else "exit"
            chunks, size = [data], len(data)
            while size < MAX_FRAME and not queue.empty():  # what came meanwhile goes in one frame
                more = queue.get_nowait()
                if more is None:
                    queue.put_nowait(None)
                    break
                chunks.append(more)
                size += len(more)
            frame = b"".join(chunks)
            buffered[0] -= len(frame)
            if buffered[0] > MAX_BUFFERED:
                return "slow"
            await ws.send_bytes(frame)

    sender = asyncio.ensure_future(pump())
    try:
        receiver = asyncio.ensure_future(_receive(ws, terminal, lambda: portal.seen(tid, typed=True)))
        done, _ = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        if sender in done and not ws.closed:
            reason = sender.result()
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_json({"t": "end", "reason": reason})
            await ws.close()
        receiver.cancel()
    finally:
        sender.cancel()
        terminal.detach(viewer)


async def _receive(ws: web.WebSocketResponse, terminal, typed) -> None:
    async for message in ws:
        if message.type != WSMsgType.TEXT:
            continue
        try:
            data = json.loads(message.data)
        except ValueError:
            continue
        if not isinstance(data, dict):
            continue
        if data.get("t") == "i" and isinstance(data.get("d"), str):
            terminal.write(data["d"].encode("utf-8", "surrogateescape"))
            typed()
        elif data.get("t") == "r":
            terminal.resize(*_size(data))


# -- instructor -----------------------------------------------------------------------------------
async def instructor_login_page(request: web.Request) -> web.StreamResponse:
    portal, lang = request.app[PORTAL_KEY], _lang(request)
    return _html(pages.login_page(lang, portal.lab.title_in(lang), instructor=True, action="/instructor/login"),
                 request=request)


async def instructor_login(request: web.Request) -> web.StreamResponse:
    portal = request.app[PORTAL_KEY]
    form = await request.post()
    lang = form.get("lang") if form.get("lang") in LANGS else _lang(request)
    outcome, value = portal.instructor_login(str(form.get("code", "")), _address(request))
    if outcome == "ok":
        response = web.HTTPSeeOther(f"/instructor?lang={lang}")
        _set_session_cookie(request, response, value.token)
        raise response
    key, status = ("limited", 429) if outcome == "limited" else ("refused", 401)
    error = pages.s(key, lang, s=int(value or 0) + 1)
    return _html(pages.login_page(lang, portal.lab.title_in(lang), instructor=True, action="/instructor/login",
                                  error=error), status=status)


async def instructor_page(request: web.Request) -> web.StreamResponse:
    session, refusal = _instructor(request)
    if refusal is not None:
        return refusal
    portal, lang = request.app[PORTAL_KEY], _lang(request)
    return _html(pages.instructor_page(lang, lab_title=portal.lab.title_in(lang), csrf=session.csrf,
                                       exam=portal.settings.exam, competencies=list(portal.lab.competencies)),
                 request=request)


async def instructor_events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: the class's rows, every few seconds and at once when something changed."""
    session, refusal = _instructor(request)
    if refusal is not None:
        return refusal
    portal = request.app[PORTAL_KEY]
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"})
    await response.prepare(request)
    stopping = request.app[STOPPING_KEY]
    while portal.sessions.get(session.token) is not None and not stopping.is_set():
        summary = await asyncio.get_running_loop().run_in_executor(None, portal.summary)
        try:
            await response.write(f"data: {json.dumps(summary)}\n\n".encode())
        except ConnectionError:
            break
        portal.changed.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(portal.changed.wait(), SSE_PERIOD)
    return response


async def instructor_summary(request: web.Request) -> web.StreamResponse:
    session, refusal = _instructor(request)
    if refusal is not None:
        return refusal
    portal = request.app[PORTAL_KEY]
    return web.json_response(await asyncio.get_running_loop().run_in_executor(None, portal.summary))


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


async def instructor_reboot(request: web.Request) -> web.StreamResponse:
    session, refusal = _instructor(request, post=True)
    if refusal is not None:
        return refusal
    tid = request.match_info["trainee"]
    if tid not in request.app[PORTAL_KEY].seats:
        return web.json_response({"error": "no such trainee"}, status=404)
    return await _reboot(request, tid, request.match_info["host"])


async def instructor_extend(request: web.Request) -> web.StreamResponse:
    session, refusal = _instructor(request, post=True)
    if refusal is not None:
        return refusal
    portal = request.app[PORTAL_KEY]
    data = await _json_body(request)
    trainee = data.get("trainee") or None
    try:
        minutes = float(data.get("minutes", 0))
    except (TypeError, ValueError):
        minutes = 0
    if trainee is not None and trainee not in portal.seats:
        return web.json_response({"error": "no such trainee"}, status=404)
    if not 0 < minutes <= 600:
        return web.json_response({"error": "minutes: 1 to 600"}, status=400)
    try:
        portal.clock.extend(trainee, minutes)
    except UserError as exc:
        return web.json_response({"error": str(exc)}, status=409)
    portal.changed.set()
    return web.json_response({"ok": True})


async def instructor_grade(request: web.Request) -> web.StreamResponse:
    session, refusal = _instructor(request, post=True)
    if refusal is not None:
        return refusal
    try:
        request.app[PORTAL_KEY].grade()
    except UserError as exc:
        return web.json_response({"error": str(exc)}, status=409)
    return web.json_response({"ok": True}, status=202)


# -- terminal recordings: the instructor's (any trainee's), a trainee's own in practice only ------------
def _recordings_of(request: web.Request) -> tuple[dict[str, str] | None, web.StreamResponse | None]:
    """Whose recordings the URL asks for and the links of its pages, or the response that refuses
    it: /instructor/... needs the instructor's session; /trainee/ID/... that trainee's session,
    and no exam (during an exam a trainee replays nothing, not even their own terminals)."""
    portal = request.app[PORTAL_KEY]
    tid = request.match_info["trainee"]
    if request.path.startswith("/instructor/"):
        _, refusal = _instructor(request)
        if refusal is not None:
            return None, refusal
        if tid not in portal.seats:
            raise web.HTTPNotFound()
        return {"trainee": tid, "replay": f"/instructor/replay/{tid}/", "cast": f"/instructor/cast/{tid}/",
                "list": f"/instructor/recordings/{tid}", "home": "/instructor"}, None
    _, refusal = _trainee(request)
    if refusal is not None:
        return None, refusal
    if portal.settings.exam:
        return None, _forbidden(request)
    return {"trainee": tid, "replay": f"/trainee/{tid}/replay/", "cast": f"/trainee/{tid}/cast/",
            "list": f"/trainee/{tid}/recordings", "home": f"/trainee/{tid}/"}, None


def _local_time(when: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(when))


async def recordings(request: web.Request) -> web.StreamResponse:
    links, refusal = _recordings_of(request)
    if refusal is not None:
        return refusal
    tid = links["trainee"]
    portal, lang = request.app[PORTAL_KEY], _lang(request)
    infos = await asyncio.get_running_loop().run_in_executor(None, portal.recordings.recordings, tid)
    rows = [{"name": info.name, "host": info.host, "channel": pages.channel_label(info.channel, lang),
             "started": _local_time(info.started), "duration": pages.human_duration(info.duration),
             "size": pages.human_size(info.bytes), "state": pages.recording_state(info, lang),
             "replay": links["replay"] + info.name, "cast": links["cast"] + info.name} for info in infos]
    return _html(pages.recordings_page(lang, lab_title=portal.lab.title_in(lang), trainee_id=tid,
                                       trainee_name=portal.seats[tid].trainee.name, rows=rows, back=links["home"],
                                       path=request.path), request=request)


def _read_recording(portal: Portal, tid: str, name: str):
    """(info, header, events, path, bytes of its whole events) of a recording, or None."""
    path = portal.recordings.find(tid, name)
    if path is None:
        return None
    try:
        header, events, good = read_cast(path)
    except (OSError, ValueError):
        return None
    info = cast_info(path)
    return None if info is None else (info, header, events, path, good)


async def replay(request: web.Request) -> web.StreamResponse:
    links, refusal = _recordings_of(request)
    if refusal is not None:
        return refusal
    tid = links["trainee"]
    portal, lang, name = request.app[PORTAL_KEY], _lang(request), request.match_info["name"]
    found = await asyncio.get_running_loop().run_in_executor(None, _read_recording, portal, tid, name)
    if found is None:
        raise web.HTTPNotFound()
    info, header, events, _, _ = found
    return _html(pages.replay_page(lang, lab_title=portal.lab.title_in(lang), trainee_id=tid,
                                   trainee_name=portal.seats[tid].trainee.name,
                                   recording=replay_data(info, header, events), back=links["list"],
                                   cast=links["cast"] + name, path=request.path, idle=IDLE_GAP), request=request)


async def cast_file(request: web.Request) -> web.StreamResponse:
    """A recording as asciicast v2, up to its last whole event (one being written is left out)."""
    links, refusal = _recordings_of(request)
    if refusal is not None:
        return refusal
    tid = links["trainee"]
    portal, name = request.app[PORTAL_KEY], request.match_info["name"]
    found = await asyncio.get_running_loop().run_in_executor(None, _read_recording, portal, tid, name)
    if found is None:
        raise web.HTTPNotFound()
    path, good = found[3], found[4]
    body = await asyncio.get_running_loop().run_in_executor(None, lambda: path.read_bytes()[:good])
    return web.Response(body=body, content_type=CAST_TYPE, charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{tid}-{name}"'})


async def report(request: web.Request) -> web.StreamResponse:
    session, refusal = _instructor(request)
    if refusal is not None:
        return refusal
    out_dir = request.app[PORTAL_KEY].settings.out_dir
    if out_dir is None:
        raise web.HTTPNotFound()
    root = out_dir.resolve()
    path = (root / request.match_info["path"]).resolve()
    if root not in path.parents or not path.is_file():
        raise web.HTTPNotFound()
    headers = {"Cache-Control": "no-store"}
    if path.suffix == ".html":
        csp = await asyncio.get_running_loop().run_in_executor(None, report_csp, path)
        if csp:
            headers["Content-Security-Policy"] = csp
    return web.FileResponse(path, headers=headers)


@functools.lru_cache(maxsize=1)
def _pytest_html_script() -> str:
    """The script pytest-html puts inline in its self-contained report (its table is drawn by it)."""
    try:
        return resources.files("pytest_html").joinpath("resources", "app.js").read_text(encoding="utf-8").strip()
    except (ImportError, OSError):
        return ""


def report_csp(path: Path) -> str | None:
    """The portal's CSP for a graded report, with the hash of pytest-html's own inline script
    (report.html's table is drawn by it) when the file holds exactly that script: that one runs,
    any other inline script stays refused. None: the portal's CSP as it is."""
    expected = _pytest_html_script()
    if not expected:
        return None
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    hashes = sorted({base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
                     for body in re.findall(r"<script>(.*?)</script>", text, re.S) if body.strip() == expected})
    if not hashes:
        return None
    return CSP.replace("script-src 'self'", "script-src 'self' " + " ".join(f"'sha256-{h}'" for h in hashes))


# -- static ---------------------------------------------------------------------------------------
async def static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name not in STATIC_FILES:
        raise web.HTTPNotFound()
    body = resources.files(__package__).joinpath("static", name).read_bytes()
    return web.Response(body=body, content_type=STATIC_TYPES[Path(name).suffix],
                        headers={"Cache-Control": "no-cache"})


async def vendor(request: web.Request) -> web.StreamResponse:
    rel = VENDOR.get(request.match_info["name"])
    if rel is None:
        raise web.HTTPNotFound()
    return web.FileResponse(node_modules() / rel, headers={"Cache-Control": "max-age=3600"})


@web.middleware
async def security_headers(request: web.Request, handler):
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
        if exc.status == 404 and request.method == "GET":
            lang = _lang(request)
            response = _html(pages.message_page(lang, pages.s("title", lang), pages.s("not_found", lang)), 404)
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")  # "no-referrer" makes a form's POST say Origin: null
    if request.path != "/" and not request.path.startswith("/static/"):
        headers.setdefault("Cache-Control", "no-store")
    if _secure(request):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if isinstance(response, web.HTTPException) and response.status >= 300:
        raise response
    return response


def make_app(portal: Portal, *, secure: bool = False, trusted_proxy: str = "") -> web.Application:
    app = web.Application(middlewares=[security_headers], client_max_size=1 << 16)
    app[PORTAL_KEY] = portal
    app[SOCKETS_KEY] = {}
    app[SECURE_KEY] = secure
    app[PROXY_KEY] = trusted_proxy
    app[STOPPING_KEY] = asyncio.Event()
    app.add_routes([
        web.get("/", index),
        web.post("/login", login),
        web.post("/logout", logout),
        web.get("/trainee/{trainee}/", trainee_page),
        web.get("/trainee/{trainee}/state", trainee_state),
        web.post("/trainee/{trainee}/reboot/{host}", trainee_reboot),
        web.post("/trainee/{trainee}/check", trainee_check),
        web.get("/trainee/{trainee}/terminal/{host}", terminal_socket),
        web.get("/trainee/{trainee}/recordings", recordings),
        web.get("/trainee/{trainee}/replay/{name}", replay),
        web.get("/trainee/{trainee}/cast/{name}", cast_file),
        web.get("/instructor/login", instructor_login_page),
        web.post("/instructor/login", instructor_login),
        web.get("/instructor", instructor_page),
        web.get("/instructor/events", instructor_events),
        web.get("/instructor/summary", instructor_summary),
        web.post("/instructor/reboot/{trainee}/{host}", instructor_reboot),
        web.post("/instructor/extend", instructor_extend),
        web.post("/instructor/grade", instructor_grade),
        web.get("/instructor/recordings/{trainee}", recordings),
        web.get("/instructor/replay/{trainee}/{name}", replay),
        web.get("/instructor/cast/{trainee}/{name}", cast_file),
        web.get("/reports/{path:.+}", report),
        web.get("/static/vendor/{name}", vendor),
        web.get("/static/{name}", static),
    ])

    async def ticker(app: web.Application):
        async def tick() -> None:
            while True:
                try:
                    portal.tick()
                except Exception:  # noqa: BLE001 - the clock must keep ticking; said in the log
                    log.exception("exam clock")
                await asyncio.sleep(1.0)

        task = asyncio.ensure_future(tick())
        yield
        task.cancel()
        for sockets in list(app[SOCKETS_KEY].values()):
            for ws in list(sockets):
                await ws.close(code=1001, message=b"server stopping")
        await portal.close()

    async def stopping(app: web.Application) -> None:
        """The server stops: what keeps a request open (an instructor's live view, a terminal's
        websocket) ends now, not after aiohttp's grace for open requests."""
        app[STOPPING_KEY].set()
        portal.changed.set()
        for sockets in list(app[SOCKETS_KEY].values()):
            for ws in list(sockets):
                await ws.close(code=1001, message=b"server stopping")

    app.on_shutdown.append(stopping)
    app.cleanup_ctx.append(ticker)
    return app

