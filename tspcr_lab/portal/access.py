"""Who may come in: trainees' access codes, the instructor's credential, login rate limits, sessions.

An access code is an HMAC of the trainee id, the lab and the exam's seed under the examiner's key
(the key that signs the grades, :mod:`tspcr_lab.evidence`): stable for an exam (the sheets printed
before it and the server started on the day agree, and a server restarted mid-exam too), different
for another exam, and unguessable without the key. Ten characters of base32 (50 bits), shown as
``ABCDE-FGHIJ``; typed with or without the dash, in any case, with 0/1/8 read as O/I/B.
Comparisons are in constant time. The instructor's credential is derived the same way.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import secrets
import time
from collections import defaultdict, deque

CODE_CHARS = 10
# Failed logins allowed in LOGIN_WINDOW seconds: per address, and per trainee. An address is
# stopped before it can lock a trainee out on its own; a trainee's code (50 bits) is not guessed
# in so few tries from any number of addresses.
ADDRESS_FAILURES = 5
TRAINEE_FAILURES = 10
LOGIN_WINDOW = 300.0
SESSION_IDLE = 12 * 3600.0  # a session unused this long is gone


def _derive(key: bytes, *parts: str) -> str:
    mac = hmac.new(key, ":".join(("tspcr-lab", *parts)).encode(), hashlib.sha256).digest()
    return base64.b32encode(mac).decode("ascii")


def access_code(key: bytes, lab_id: str, exam_seed: int, trainee_id: str) -> str:
    raw = _derive(key, "access", lab_id, str(exam_seed), trainee_id)[:CODE_CHARS]
    return f"{raw[:5]}-{raw[5:]}"


def instructor_code(key: bytes, lab_id: str, exam_seed: int, roster: str) -> str:
    raw = _derive(key, "instructor", lab_id, str(exam_seed), roster)[:16]
    return "-".join(raw[i:i + 4] for i in range(0, 16, 4))


def normalize(code: str) -> str:
    """What a person typed, as a code: no dashes or spaces, upper case, 0/1/8 read as O/I/B."""
    cleaned = "".join(code.split()).replace("-", "").upper()
    return cleaned.translate(str.maketrans("018", "OIB"))


def same_code(typed: str, expected: str) -> bool:
    """Constant-time comparison of a typed code with the expected one."""
    return hmac.compare_digest(normalize(typed[:64]).encode(), normalize(expected).encode())


class RateLimiter:
    """Failed logins, per key (a trainee id, an address): more than ``limit`` in ``window``
    seconds and the key is refused until the oldest failure leaves the window."""

    def __init__(self, limit: int = ADDRESS_FAILURES, window: float = LOGIN_WINDOW, clock=time.monotonic,
                 limits: dict[str, int] | None = None):
        self.limit, self.window, self.clock = limit, window, clock
        self.limits = limits or {}  # by the key's kind (what comes before ':'), else ``limit``
        self.failures: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str) -> deque[float]:
        now = self.clock()
        failures = self.failures[key]
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self.failures[key]
            return deque()
        return failures

    def retry_after(self, *keys: str) -> float:
        """Seconds to wait before trying again (0: allowed now)."""
        wait = 0.0
        for key in keys:
            failures = self._recent(key)
            if len(failures) >= self.limits.get(key.split(":", 1)[0], self.limit):
                wait = max(wait, failures[0] + self.window - self.clock())
        return wait

    def failed(self, *keys: str) -> None:
        now = self.clock()
        for key in keys:
            self.failures[key].append(now)


@dataclasses.dataclass
class Session:
    token: str
    role: str  # "trainee" or "instructor"
    trainee: str  # the trainee id ("" for the instructor)
    csrf: str
    created: float
    used: float


class Sessions:
    """Server-side sessions; the cookie holds only a random token. Logout forgets it."""

    def __init__(self, clock=time.time):
        self.clock = clock
        self.sessions: dict[str, Session] = {}

    def open(self, role: str, trainee: str = "") -> Session:
        now = self.clock()
        session = Session(secrets.token_urlsafe(32), role, trainee, secrets.token_urlsafe(24), now, now)
        self.sessions[session.token] = session
        return session

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        session = self.sessions.get(token)
        if session is None:
            return None
        now = self.clock()
        if now - session.used > SESSION_IDLE:
            del self.sessions[token]
            return None
        session.used = now
        return session

    def close(self, token: str) -> None:
        self.sessions.pop(token, None)

    def close_trainee(self, trainee: str) -> None:
        for token in [t for t, s in self.sessions.items() if s.role == "trainee" and s.trainee == trainee]:
            del self.sessions[token]
