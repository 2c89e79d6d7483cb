"""The portal over a real virtual lab, without a browser (an HTTP and websocket client): the exam
clock and the trainees' work survive a server restart, the instructor's extension too; a host that
dies shows as stopped and comes back with its reboot button; 'grade now' writes the class's grades;
a single trainee's instance is served without a class file."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

import aiohttp
import pytest

from tspcr_lab.labfile import load_lab
from tspcr_lab.virtual.lab import VirtualLab

from .conftest import cli, crash
from .portal_support import Serve, class_up

pytestmark = pytest.mark.e2e

CLASS = """[class]
name = "Restart"
seed = 95
[[trainees]]
id = "k01"
name = "Kim"
[[trainees]]
id = "k02"
name = "Lou"
"""


def _session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def _login(http, base: str, trainee: str, code: str) -> str:
    response = await http.post(f"{base}/login", data={"trainee": trainee, "code": code})
    assert response.status == 200, await response.text()
    return re.search(r'data-csrf="([^"]+)"', await response.text()).group(1)


async def _instructor(http, base: str, code: str) -> dict:
    response = await http.post(f"{base}/instructor/login", data={"code": code})
    assert response.status == 200
    return await (await http.get(f"{base}/instructor/summary")).json()


async def _type(http, base: str, trainee: str, host: str, text: str, until: bytes) -> bytes:
    ws = await http.ws_connect(f"{base}/trainee/{trainee}/terminal/{host}", headers={"Origin": base})
    await ws.send_str(json.dumps({"t": "i", "d": text}))
    seen, deadline = b"", time.monotonic() + 15
    while until not in seen and time.monotonic() < deadline:
        message = await ws.receive(timeout=15)
        if message.type != aiohttp.WSMsgType.BINARY:
            break
        seen += message.data
    await ws.close()
    assert until in seen, seen.decode(errors="replace")
    return seen


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    with class_up("ip-plan", CLASS, tmp_path_factory.mktemp("restart"), "ab" * 32) as up:
        yield up


def test_clock_extension_and_work_survive_a_restart_and_grade_now_writes_the_grades(klass):
    class_file, key, folder, codes = klass
    args = ("ip-plan", "--class", str(class_file), "--exam", "--duration", "30", "--out", str(folder / "grades"),
            "--signing-key", str(key))

    async def before_restart(serve: Serve) -> float:
        async with _session() as http:
            await _login(http, serve.base, "k01", codes["k01"])
            await _type(http, serve.base, "k01", "pc1", "echo kept > /root/kept.txt; echo done-$((2+3))\r", b"done-5")
            summary = await _instructor(http, serve.base, serve.instructor_code)
            assert {row["id"] for row in summary["rows"]} == {"k01", "k02"}
            response = await http.post(f"{serve.base}/instructor/extend", json={"trainee": "k01", "minutes": 2},
                                       headers={"X-CSRF-Token": await _csrf(http, f"{serve.base}/instructor"),
                                                "Origin": serve.base})
            assert response.status == 200
            rows = {row["id"]: row for row in (await (await http.get(f"{serve.base}/instructor/summary")).json())["rows"]}
            assert rows["k01"]["remaining"] - rows["k02"]["remaining"] == pytest.approx(120, abs=2)
            return rows["k02"]["remaining"]

    serve = Serve(folder, *args)
    try:
        remaining = asyncio.run(before_restart(serve))
    finally:
        assert serve.stop() == 0
    vlab = VirtualLab(load_lab("ip-plan"), "ip-plan-k01")
    assert all(host["running"] for host in vlab.status()["hosts"].values())  # the labs are not the server's
    time.sleep(1.5)

    async def after_restart(serve: Serve) -> None:
        async with _session() as http:
            await _login(http, serve.base, "k01", codes["k01"])  # a new session: same code
            state = await (await http.get(f"{serve.base}/trainee/k01/state")).json()
            seen = await _type(http, serve.base, "k01", "pc1", "cat /root/kept.txt\r", b"kept\r\n")
            assert b"kept" in seen
            rows = {row["id"]: row for row in (await _instructor(http, serve.base, serve.instructor_code))["rows"]}
            assert rows["k02"]["remaining"] < remaining - 1  # the clock went on while the server was stopped
            assert rows["k01"]["remaining"] - rows["k02"]["remaining"] == pytest.approx(120, abs=2)
            assert 1790 < state["remaining"] <= 1800 + 120
            csrf = await _csrf(http, f"{serve.base}/instructor")
            response = await http.post(f"{serve.base}/instructor/grade", headers={"X-CSRF-Token": csrf,
                                                                                  "Origin": serve.base})
            assert response.status == 202
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                summary = await (await http.get(f"{serve.base}/instructor/summary")).json()
                if summary["grading"].get("state") not in (None, "running"):
                    break
                await asyncio.sleep(1)
            assert summary["grading"]["state"] in ("done", "incomplete"), summary["grading"]
            assert summary["class_report"] == "/reports/class.html"
            report = await http.get(f"{serve.base}{summary['class_report']}")
            assert report.status == 200 and "Kim" in await report.text()
            row = next(r for r in summary["rows"] if r["id"] == "k01")
            assert (await http.get(f"{serve.base}{row['report']}")).status == 200
            # a trainee cannot read reports
            async with _session() as trainee:
                await _login(trainee, serve.base, "k02", codes["k02"])
                assert (await trainee.get(f"{serve.base}/reports/class.html", allow_redirects=False)).status == 403

    serve = Serve(folder, *args)
    try:
        asyncio.run(after_restart(serve))
    finally:
        assert serve.stop() == 0
    for name in ("class.html", "grades.csv", "k01/results.json", "k02/results.json", "k01/SIGNATURE.json"):
        assert (folder / "grades" / name).is_file(), name
    assert cli("verify", str(folder / "grades"), "--key", str(key)).returncode == 0


def test_a_dead_host_shows_stopped_and_its_reboot_button_brings_it_back(klass):
    class_file, key, folder, codes = klass
    vlab = VirtualLab(load_lab("ip-plan"), "ip-plan-k02")

    async def scenario(serve: Serve) -> None:
        async with _session() as http:
            csrf = await _login(http, serve.base, "k02", codes["k02"])
            crash(vlab, "pc2")
            hosts = {h["name"]: h for h in (await (await http.get(f"{serve.base}/trainee/k02/state")).json())["hosts"]}
            assert hosts["pc2"]["running"] is False and hosts["pc1"]["running"] is True
            ws = await http.ws_connect(f"{serve.base}/trainee/k02/terminal/pc2", headers={"Origin": serve.base})
            message = await ws.receive(timeout=10)
            assert json.loads(message.data) == {"t": "end", "reason": "down"}
            await ws.close()
            # k01's session cannot reboot k02's host
            async with _session() as other:
                other_csrf = await _login(other, serve.base, "k01", codes["k01"])
                refused = await other.post(f"{serve.base}/trainee/k02/reboot/pc2",
                                           headers={"X-CSRF-Token": other_csrf, "Origin": serve.base})
                assert refused.status == 403
            response = await http.post(f"{serve.base}/trainee/k02/reboot/pc2",
                                       headers={"X-CSRF-Token": csrf, "Origin": serve.base})
            assert response.status == 200
            hosts = {h["name"]: h for h in (await (await http.get(f"{serve.base}/trainee/k02/state")).json())["hosts"]}
            assert hosts["pc2"]["running"] is True
            await _type(http, serve.base, "k02", "pc2", "echo back-$((1+1))\r", b"back-2")

    serve = Serve(folder, "ip-plan", "--class", str(class_file), "--signing-key", str(key))
    try:
        asyncio.run(scenario(serve))
    finally:
        assert serve.stop() == 0


def test_a_single_trainees_instance_is_served_without_a_class(tmp_path):
    instance = "e2e-portal1"
    lab = VirtualLab(load_lab("ip-plan"), instance)
    lab.down(quiet=True)
    cli("up", "ip-plan", "--instance", instance, "--seed", "96", "--trainee", "Solo", check=True)
    key = tmp_path / "exam.key"
    key.write_text("cd" * 32 + "\n")
    try:
        serve = Serve(tmp_path, "ip-plan", "--instance", instance, "--signing-key", str(key))
        try:
            trainee, code = serve.single

            async def scenario() -> None:
                async with _session() as http:
                    await _login(http, serve.base, trainee, code)
                    await _type(http, serve.base, trainee, "srv1", "echo solo-$((4+4))\r", b"solo-8")
            asyncio.run(scenario())
        finally:
            assert serve.stop() == 0
    finally:
        lab.down(quiet=True)



async def _csrf(http, url: str) -> str:
    return re.search(r'data-csrf="([^"]+)"', await (await http.get(url)).text()).group(1)


def _self_signed(folder: Path) -> tuple[Path, Path]:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def test_https_with_a_given_certificate_and_secure_cookies(klass, tmp_path):
    import ssl

    class_file, key, folder, codes = klass
    cert_file, key_file = _self_signed(tmp_path)
    serve = Serve(folder, "ip-plan", "--class", str(class_file), "--signing-key", str(key), "--cert", str(cert_file),
                  "--key", str(key_file))
    base = serve.base  # https://127.0.0.1:PORT, as serve says it
    context = ssl.create_default_context(cafile=str(cert_file))
    context.check_hostname = False

    async def scenario() -> None:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                         connector=aiohttp.TCPConnector(ssl=context)) as http:
            response = await http.post(f"{base}/login", data={"trainee": "k01", "code": codes["k01"]},
                                       allow_redirects=False)
            assert response.status == 303
            cookie = response.headers["Set-Cookie"]
            assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
            page = await http.get(f"{base}{response.headers['Location']}")
            assert page.status == 200 and "max-age" in page.headers["Strict-Transport-Security"]
            await _type(http, base, "k01", "pc1", "echo tls-$((3+3))\r", b"tls-6")
        async with aiohttp.ClientSession() as plain:  # plain HTTP on the TLS port gets nothing
            with pytest.raises(aiohttp.ClientError):
                await plain.get(f"http://127.0.0.1:{serve.port}", timeout=aiohttp.ClientTimeout(total=5))

    try:
        asyncio.run(scenario())
    finally:
        assert serve.stop() == 0
