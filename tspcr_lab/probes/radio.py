"""The grader's probe radio on a lab's wireless medium: it joins networks as a client would and
hears every frame of the air.

A lab with wireless hosts declares a radio VM (``[[radios]]``); the grader owns one radio of it
that no host sees: in the virtual lab, the VM's last ``mac80211_hwsim`` radio (a station
interface) and ``hwsim0`` (a monitor interface that hears the whole medium), in the VM's own root,
reached through its control console (:mod:`tspcr_lab.virtual.radio`); in a real lab, a probe host
of the inventory with a Wi-Fi card (``probe_radios = {"air": {"station": "wlan1", "monitor":
"mon0"}}`` in its data), reached over SSH. Both are a :class:`~tspcr_lab.host.Host` on which
the same commands run (``wpa_supplicant``, ``tcpdump``), so checks are written once.

* :meth:`RadioProbe.join` tries to associate with a network as described (:class:`Network`:
  SSID, key management, passphrase, PMF, ciphers) and says how it ended (:class:`JoinResult`):
  connected, refused for a wrong key, no matching network (the AP offers nothing this client
  accepts, or nothing at all), rejected, or no answer in time. The station leaves at once.
* :meth:`RadioProbe.capture` records the air for a few seconds and returns the frames, read on
  the grader's side (:func:`tspcr_lab.probes.wifi.read_capture`): beacons, (re)association
  requests, EAPOL and SAE frames.

Every command and its output is the check's evidence; the passphrases sent are masked there.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import re
import shlex
import tempfile
import time
from typing import Any, Callable

from ..errors import ProbeError

# the first of these in wpa_supplicant's log says how the attempt ended
OUTCOMES = (
    ("CTRL-EVENT-CONNECTED", "connected"),
    ("reason=WRONG_KEY", "wrong-key"),
    ("CTRL-EVENT-ASSOC-REJECT", "rejected"),
    ("CTRL-EVENT-AUTH-REJECT", "rejected"),
    ("CTRL-EVENT-NETWORK-NOT-FOUND", "not-found"),
    ("No suitable network found", "not-found"),
)
MARKERS = "|".join(marker for marker, _ in OUTCOMES)


@dataclasses.dataclass(frozen=True)
class Network:
    """A network block of wpa_supplicant: what the probe's client accepts."""

    ssid: str
    key_mgmt: str = "SAE"  # "SAE", "WPA-PSK", "WPA-PSK SAE", "NONE"
    passphrase: str | None = None
    ieee80211w: int = 0  # 0 no PMF, 1 PMF capable, 2 PMF required
    pairwise: str = "CCMP"
    group: str = "CCMP"
    proto: str = "RSN"  # "RSN" (WPA2/WPA3) or "WPA" (TKIP-era WPA)
    frequency: int | None = None  # MHz: the probe scans that channel only

    def block(self) -> str:
        lines = [f"ssid={_quoted(self.ssid)}", "scan_ssid=1", f"key_mgmt={self.key_mgmt}"]
        if self.key_mgmt != "NONE":
            lines += [f"proto={self.proto}", f"pairwise={self.pairwise}", f"group={self.group}",
                      f"ieee80211w={self.ieee80211w}"]
            if "SAE" in self.key_mgmt.split():
                lines.append(f"sae_password={_quoted(self.passphrase or '')}")
            if "WPA-PSK" in self.key_mgmt.split():
                lines.append(f"psk={_quoted(self.passphrase or '')}")
        if self.frequency:
            lines.append(f"scan_freq={self.frequency}")
            lines.append(f"freq_list={self.frequency}")
        return "network={\n" + "".join(f"    {line}\n" for line in lines) + "}\n"

    def describe(self) -> str:
        pmf = {0: "no PMF", 1: "PMF capable", 2: "PMF required"}[self.ieee80211w]
        if self.key_mgmt == "NONE":
            return f"'{self.ssid}' open"
        return f"'{self.ssid}' {self.key_mgmt} {self.proto} {self.pairwise}/{self.group}, {pmf}"


def _quoted(text: str) -> str:
    """A wpa_supplicant string: quoted, or as hex when it holds a quote or a line break."""
    if '"' in text or "\n" in text or "\\" in text:
        return text.encode().hex()
    return f'"{text}"'


@dataclasses.dataclass(frozen=True)
class JoinResult:
    outcome: str  # connected, wrong-key, rejected, not-found, timeout, failed
    events: tuple[str, ...]  # wpa_supplicant's lines that tell it
    seconds: float

    @property
    def connected(self) -> bool:
        return self.outcome == "connected"

    def explain(self) -> tuple[str, str]:
        fr = {"connected": "connexion établie", "wrong-key": "refusée : mauvaise clé",
              "rejected": "refusée par le point d'accès", "not-found": "aucun réseau compatible trouvé",
              "timeout": "sans réponse dans le temps imparti", "failed": "le client n'a pas démarré"}
        en = {"connected": "connected", "wrong-key": "refused: wrong key", "rejected": "rejected by the AP",
              "not-found": "no matching network found", "timeout": "no answer in time",
              "failed": "the client did not start"}
        return fr.get(self.outcome, self.outcome), en.get(self.outcome, self.outcome)


JOIN_SCRIPT = r"""
set -u
d=$(mktemp -d) || exit 90
trap 'rm -rf "$d"' EXIT
printf '%s' "$TSPCR_CONF" >"$d/conf"
ip link set "$IFACE" up 2>/dev/null
# -d: the scan's verdicts ("No suitable network found", each BSS skipped and why) are debug lines
wpa_supplicant -d -i "$IFACE" -D nl80211 -c "$d/conf" >"$d/log" 2>&1 &
pid=$!
read -r t0 _ </proc/uptime
outcome=timeout
while :; do
    sleep 0.5
    hit=$(grep -o -m 1 -E "$MARKERS" "$d/log")
    [ -n "$hit" ] && { outcome=found; break; }
    kill -0 "$pid" 2>/dev/null || { outcome=failed; break; }
    read -r now _ </proc/uptime
    [ "${now%.*}" -ge $((${t0%.*} + LIMIT)) ] && break
done
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
echo "outcome=$outcome"
grep -E "$MARKERS|skip - |Trying to|Associated with|SME: |WPA: 4-Way|Failed to|rfkill|Could not" "$d/log" | grep -v "^nl80211:" | head -n 40
"""

CAPTURE_SCRIPT = r"""
set -u
f=$(mktemp) || exit 90
trap 'rm -f "$f"' EXIT
ip link set "$MONITOR" up 2>/dev/null
timeout "$SECONDS_" tcpdump -i "$MONITOR" -U -s 0 -w "$f" >/dev/null 2>"$f.err"
rc=$?
[ "$rc" -eq 124 ] || [ "$rc" -eq 0 ] || { cat "$f.err" >&2; rm -f "$f.err"; exit 91; }
rm -f "$f.err"
base64 -w 0 "$f"
"""


def _env_line(env: dict[str, str], script: str) -> str:
    """``NAME='value' ... sh -c 'script'``, every part quoted (a value may hold anything)."""
    return " ".join([*(f"{key}={shlex.quote(value)}" for key, value in env.items()), "sh", "-c", shlex.quote(script)])


class RadioProbe:
    """The grader's radio (``station`` and ``monitor`` interfaces) on ``host``."""

    def __init__(self, name: str, host, station: str, monitor: str,
                 record: Callable[[str, str], None] | None = None):
        self.name, self.host, self.station, self.monitor = name, host, station, monitor
        self.record = record

    def join(self, network: Network, timeout: float = 25.0) -> JoinResult:
        """Try to join ``network``; the client leaves at once, whatever the outcome."""
        conf = "update_config=0\n" + network.block()
        secrets = tuple(s for s in (network.passphrase,) if s)
        t0 = time.monotonic()
        line = _env_line({"TSPCR_CONF": conf, "IFACE": self.station, "LIMIT": str(max(1, int(timeout))),
                          "MARKERS": MARKERS}, JOIN_SCRIPT)
        result = self.host.run(line, timeout=timeout + 15, secrets=secrets)
        seconds = time.monotonic() - t0
        lines = result.stdout.splitlines()
        if result.rc != 0 or not lines or not lines[0].startswith("outcome="):
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise ProbeError(f"probe radio {self.name}: the join attempt did not run (rc {result.rc}"
                             f"{': ' + detail[-1] if detail else ''})")
        events = tuple(line.strip() for line in lines[1:])
        outcome = lines[0].split("=", 1)[1]
        if outcome == "found":
            outcome = next((word for marker, word in OUTCOMES if any(marker in e for e in events)), "timeout")
        joined = JoinResult(outcome, events, round(seconds, 2))
        if self.record:
            self.record(f"join {network.describe()}", f"{joined.outcome} in {joined.seconds} s"
                        + "".join(f"\n{event}" for event in events[-12:]))
        return joined

    def capture(self, seconds: float) -> list[Any]:
        """Every frame the monitor interface hears for ``seconds`` (radiotap), as scapy packets."""
        from .wifi import read_capture

        line = _env_line({"MONITOR": self.monitor, "SECONDS_": str(int(seconds))}, CAPTURE_SCRIPT)
        result = self.host.run(line, timeout=seconds + 20)
        if result.rc != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise ProbeError(f"probe radio {self.name}: no capture on {self.monitor} (rc {result.rc}"
                             f"{': ' + detail[-1] if detail else ''})")
        try:
            data = base64.b64decode(re.sub(r"\s+", "", result.stdout), validate=True)
        except ValueError:
            raise ProbeError(f"probe radio {self.name}: the capture came back garbled") from None
        handle, path = tempfile.mkstemp(prefix="tspcr-air-", suffix=".pcap")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            packets = read_capture(path)
        finally:
            os.unlink(path)
        if self.record:
            self.record(f"capture {self.monitor} {int(seconds)} s", f"{len(packets)} frames")
        return packets

    def close(self) -> None:
        close = getattr(self.host, "close", None)
        if close:
            close()


def open_probe_radio(context, name: str, record: Callable[[str, str], None] | None = None) -> RadioProbe:
    """The grader's radio on radio VM ``name`` of the context's lab and target. ProbeError (the
    check cannot run) when the lab declares no such radio VM or the target has no probe radio
    for it (a real lab's inventory names none)."""
    lab, target = context.lab, context.target
    if not any(r.name == name for r in lab.radios):
        raise ProbeError(f"lab {lab.id} declares no radio VM '{name}' (its [[radios]]: "
                         f"{', '.join(r.name for r in lab.radios) or 'none'})")
    if name not in target.probe_radios:
        raise ProbeError(f"no probe radio '{name}' on this target ({target.kind} {target.name}): a real lab's "
                         f"inventory names a probe host with probe_radios = {{\"{name}\": {{\"station\": \"wlan1\", "
                         f"\"monitor\": \"mon0\"}}}}")
    return target.probe_radios[name](name, record)
