"""Checks of the proxy lab: competencies 031 (configure and test a network device: the proxy) and
032 (securing the network: blocked sites, no direct web access, no open proxy).

What users get is judged by doing it as they do: curl run on the PC as an ordinary user in a login
environment (``su - USER -c``: pam_env reads /etc/environment, the login shell /etc/profile and
/etc/profile.d), never with ``-x``: the PC's own proxy settings decide where the request goes, and
curl says which address and port it connected to (the proxy's, or the site's). What the network
lets through is judged from grader-owned probe hosts (tspcr_lab.probes.packets): one on the LAN
(a device of the LAN that is none of the PCs), one on the internet side. Every "must be blocked /
refused" result has its control: the site is served (web's own console; the internet probe reaches
web's ports), gw answers on the LAN (ARP), the proxy answers. Settings (apt, the browser's policy,
the saved firewall) are read with the programs that read them (apt-config, nft, a JSON parser).

Checks only read. The requests they make through the proxy are written by squid to its log
(/var/log/squid/access.log): that is the proxy doing its job on the checks' own traffic, which the
log check looks for (a request with a token of its own).
"""

from __future__ import annotations

import dataclasses
import json
import re
import secrets
import shlex
from urllib.parse import urlsplit

import pytest

from tspcr_lab.errors import ProbeError
from tspcr_lab.expect import eventually
from tspcr_lab.probes import FileContent
from tspcr_lab.probes.nftables import NftablesAtBoot, NftRuleset, SavedRuleset

PCS = ["pc1", "pc2"]
MARK = "@@tspcr:curl"
BODY = 1500  # characters of a page kept (the sites' pages are shorter; squid's error page is 3 KB)
CONNECT_TIMEOUT = 2  # seconds a direct attempt is given (a dropped SYN)
LOG_WAIT = 3.0  # seconds squid is given to write a request to its log


# -- helpers ----------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Fetch:
    """What curl got: the HTTP status (0: none), the proxy's answer to CONNECT (0: none), the
    address and port it was connected to, what came back (headers, the start of the page), its
    error."""

    url: str
    code: int
    connect: int
    remote: str
    text: str
    error: str

    def through(self, proxies: set[str]) -> bool:
        return self.remote in proxies

    def summary(self) -> str:
        status = f"HTTP {self.code}" if self.code else (f"CONNECT {self.connect}" if self.connect else "no answer")
        return f"{self.url}: {status} via {self.remote or '-'}" + (f" ({self.error})" if self.error and not self.code else "")


def curl_line(url: str, *options: str) -> str:
    """A curl command printing the answer's headers and the page's start, then (on stderr) the
    status, CONNECT's status and where it connected."""
    meta = f"%{{stderr}}\n{MARK} %{{http_code}} %{{http_connect}} %{{remote_ip}}:%{{remote_port}}\n"
    return (f"curl -sS -i --max-time 8 {' '.join(shlex.quote(o) for o in options)} -w {shlex.quote(meta)} "
            f"{shlex.quote(url)} | head -c {BODY}")


def parse_fetch(url: str, result) -> Fetch:
    lines = (result.stderr or "").splitlines()
    meta = [line for line in lines if line.startswith(MARK + " ")]
    if not meta:
        raise ProbeError(f"curl {url}: no result line (exit {result.rc}): {(result.stderr or '')[-200:]}")
    fields = meta[-1].split()
    code, connect = int(fields[1]), int(fields[2])
    remote = fields[3] if len(fields) > 3 and fields[3] != ":0" else ""
    error = " ".join(line for line in lines if line.startswith("curl:")).strip()
    return Fetch(url, code, connect, remote, result.stdout, error)


def as_user(host, user: str, url: str, *options: str) -> Fetch:
    """curl ``url`` as ``user`` in a login environment (su -): the PC's own proxy settings."""
    return parse_fetch(url, host.run("su - %s -c %s", user, curl_line(url, *options), timeout=15))


def proxies(expected) -> set[str]:
    """gw's addresses at the proxy's port: where a request through the proxy connects."""
    return {f"{expected['gw']['lan']}:{expected['port']}", f"{expected['gw']['wan']}:{expected['port']}"}


def refusal(fetch: Fetch) -> bool:
    """The proxy refused it: 403 (the request's, or CONNECT's for HTTPS)."""
    return fetch.code == 403 or fetch.connect == 403


def served(fetch: Fetch, expected, site: str) -> bool:
    return fetch.code == 200 and expected["sites"][site]["token"] in fetch.text


def request(site: str, path: str = "/") -> bytes:
    """An HTTP request for ``site`` as a client of a proxy sends it (absolute URL)."""
    return (f"GET http://{site}{path} HTTP/1.0\r\nHost: {site}\r\nUser-Agent: tspcr-lab\r\n"
            f"Connection: close\r\n\r\n").encode()


def status_of(answer: bytes | None) -> int | None:
    """The HTTP status of a raw answer (None: no connection; 0: not HTTP)."""
    if answer is None:
        return None
    match = re.match(rb"HTTP/1\.[01] (\d{3})", answer)
    return int(match.group(1)) if match else 0


def sites_up(hosts, expected, names) -> None:
    """Raise (an error) unless web serves each site, HTTP and HTTPS, through its own console: a
    site that is down never makes a "refused" or "blocked" check pass or fail."""
    for name in names:
        for scheme, port in (("http", 80), ("https", 443)):
            result = hosts.web.run("curl -s -k -m 5 --resolve %s %s", f"{name}:{port}:127.0.0.1", f"{scheme}://{name}/")
            if expected["sites"][name]["token"] not in result.stdout:
                raise ProbeError(f"web does not serve {scheme}://{name}/ (exit {result.rc}): the lab's internet is down")


def proxy_url(value: str | None) -> tuple[str, int | None] | None:
    """(host, port) of a proxy setting ("http://host:port/", "host:port"), None when it is not an
    http:// proxy URL."""
    if not value or not value.strip():
        return None
    text = value.strip()
    if "://" not in text:
        text = "http://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() != "http" or not parts.hostname:
        return None
    return parts.hostname, port if port is not None else 80


def points_to_proxy(host, expected, value: str | None) -> bool:
    """``value`` names gw's proxy: an http:// URL to gw's address (or a name the PC resolves to
    it) at the plan's port."""
    parsed = proxy_url(value)
    if parsed is None or parsed[1] != expected["port"]:
        return False
    name = parsed[0]
    if name in (expected["gw"]["lan"], expected["gw"]["wan"]):
        return True
    if re.fullmatch(r"[A-Za-z0-9.-]+", name) and not re.fullmatch(r"[0-9.]+", name):
        found = host.run("getent ahostsv4 %s", name)
        return any(line.split()[0] in (expected["gw"]["lan"], expected["gw"]["wan"])
                   for line in found.stdout.splitlines() if line.split())
    return False


def ip(address: str) -> str:
    return address.split("/")[0]


# -- 031: the proxy serves the LAN -----------------------------------------------------------

@pytest.mark.competency("031", points=2)
def test_proxy_serves_lan(hosts, expected, prober, check):
    """A device of the LAN (the grader's probe, none of the PCs) asks the proxy, at gw's LAN
    address and the plan's port, for an allowed site: the site's page comes back. The proxy serves
    the LAN's network, not only the PCs' addresses."""
    site = expected["allowed"][0]
    lan = prober("lan")
    answer = lan.connect(expected["gw"]["lan"], expected["port"], send=request(site), timeout=8)
    status = status_of(answer)
    if status != 200:
        hosts.gw.run("true")
        sites_up(hosts, expected, [site])
    where = f"{expected['gw']['lan']}:{expected['port']}"
    check.that(answer is not None, fr=f"rien n'écoute sur {where} (gw, port du proxy) depuis le réseau local",
               en=f"nothing listens on {where} (gw, the proxy's port) from the LAN")
    check.equal(status, 200, fr=f"réponse du proxy {where} à un poste du réseau local pour http://{site}/",
                en=f"answer of the proxy {where} to a LAN device for http://{site}/")
    check.that(expected["sites"][site]["token"].encode() in answer,
               fr=f"le proxy ne renvoie pas la page de {site}", en=f"the proxy does not return {site}'s page")


@pytest.mark.competency("031", points=2)
@pytest.mark.parametrize("pc", PCS)
def test_allowed_sites(pc, hosts, expected, check):
    """As the PC's user, in a login environment, without naming a proxy: each allowed site's page
    comes back (HTTP, and HTTPS for the first), through the proxy (curl connected to gw's proxy
    port, not to the site)."""
    user = expected["pcs"][pc]["users"][0]
    urls = [(f"http://{site}/", site) for site in expected["allowed"]] + [(f"https://{expected['allowed'][0]}/", expected["allowed"][0])]
    wrong = []
    for url, site in urls:
        fetch = as_user(hosts[pc], user, url)
        if not (served(fetch, expected, site) and fetch.through(proxies(expected))):
            wrong.append(fetch)
    if wrong:
        hosts.gw.run("true")
        sites_up(hosts, expected, expected["allowed"])
    direct = [f.url for f in wrong if served(f, expected, urlsplit(f.url).hostname) and not f.through(proxies(expected))]
    check.that(not direct, fr=f"{pc} ({user}) : {', '.join(direct)} servi sans passer par le proxy",
               en=f"{pc} ({user}): {', '.join(direct)} served without going through the proxy")
    check.that(not wrong, fr=f"{pc} ({user}) n'obtient pas ces pages par le proxy : {'; '.join(f.summary() for f in wrong)}",
               en=f"{pc} ({user}) does not get these pages through the proxy: {'; '.join(f.summary() for f in wrong)}")


# -- 032: refused sites ----------------------------------------------------------------------

@pytest.mark.competency("032", points=2)
@pytest.mark.parametrize("pc", PCS)
def test_blocked_sites(pc, hosts, expected, check):
    """As the PC's user (login environment, no proxy named): each forbidden site gets the proxy's
    refusal (403 from gw's proxy port; HTTPS: CONNECT refused with 403), never its page. Control:
    web serves these sites (its own console), so a refusal is the proxy's doing."""
    user = expected["pcs"][pc]["users"][0]
    sites_up(hosts, expected, expected["blocked"])
    urls = [f"http://{site}/" for site in expected["blocked"]] + [f"https://{expected['blocked'][0]}/"]
    fetches = [as_user(hosts[pc], user, url) for url in urls]
    if not all(refusal(f) for f in fetches):
        hosts.gw.run("true")  # gw down: an error, not the trainee's failure
    leaked = [f for f in fetches if any(expected["sites"][s]["token"] in f.text for s in expected["blocked"])]
    check.that(not leaked, fr=f"{pc} ({user}) obtient la page d'un site interdit : {'; '.join(f.summary() for f in leaked)}",
               en=f"{pc} ({user}) gets the page of a forbidden site: {'; '.join(f.summary() for f in leaked)}")
    not_proxied = [f for f in fetches if not f.through(proxies(expected))]
    check.that(not not_proxied, fr=f"{pc} ({user}) : ces requêtes ne passent pas par le proxy : "
                                   f"{'; '.join(f.summary() for f in not_proxied)}",
               en=f"{pc} ({user}): these requests do not go through the proxy: {'; '.join(f.summary() for f in not_proxied)}")
    not_refused = [f for f in fetches if not refusal(f)]
    check.that(not not_refused, fr=f"{pc} ({user}) : le proxy ne refuse pas (403) : {'; '.join(f.summary() for f in not_refused)}",
               en=f"{pc} ({user}): the proxy does not refuse (403): {'; '.join(f.summary() for f in not_refused)}")


# -- 032: no way around the proxy ------------------------------------------------------------

def internet_control(prober, expected) -> None:
    """Raise (an error) unless the internet probe reaches web's ports 80 and 443 (web answers on
    its network)."""
    ports = prober("wan").syn(expected["web"]["address"], expected["web_ports"])
    closed = [p for p, r in ports.items() if r.state != "open"]
    if closed:
        raise ProbeError(f"web ({expected['web']['address']}) does not answer on {closed} from the internet side: "
                         f"the lab's internet is down")


@pytest.mark.competency("032", points=2)
def test_direct_web_blocked(expected, prober, check):
    """From a device of the LAN (the grader's probe), TCP 80 and 443 to web are not let through
    (no answer, an ICMP refusal, or a reset from the firewall). Controls: web's ports answer from
    the internet side, and gw answers the probe on the LAN (ARP)."""
    internet_control(prober, expected)
    lan = prober("lan")
    if lan.arp(expected["gw"]["lan"]) is None:
        raise ProbeError(f"gw ({expected['gw']['lan']}) does not answer ARP on the LAN: gw is down or unplugged")
    web = expected["web"]["address"]
    found = lan.syn(web, expected["web_ports"])
    through = [f"{port} ({r.detail})" for port, r in sorted(found.items()) if r.state == "open"]
    check.that(not through, fr=f"depuis le réseau local, le web direct vers {web} passe encore : port {', '.join(through)}",
               en=f"from the LAN, direct web traffic to {web} still goes through: port {', '.join(through)}")


@pytest.mark.competency("032", points=1)
@pytest.mark.parametrize("pc", PCS)
def test_no_direct_access_from_pc(pc, hosts, expected, prober, check):
    """As the PC's user, curl told not to use any proxy (--noproxy '*', the site's address given:
    the PC resolves no internet name) gets no page, in HTTP nor HTTPS. Controls as for the LAN
    probe: web answers from the internet side, gw answers on the LAN."""
    internet_control(prober, expected)
    if prober("lan").arp(expected["gw"]["lan"]) is None:
        raise ProbeError(f"gw ({expected['gw']['lan']}) does not answer ARP on the LAN: gw is down or unplugged")
    user = expected["pcs"][pc]["users"][0]
    site, web = expected["allowed"][0], expected["web"]["address"]
    reached = []
    for scheme, port in (("http", 80), ("https", 443)):
        fetch = as_user(hosts[pc], user, f"{scheme}://{site}/", "--noproxy", "*", "--resolve", f"{site}:{port}:{web}",
                        "--connect-timeout", str(CONNECT_TIMEOUT))
        if fetch.code:
            reached.append(fetch.summary())
    check.that(not reached, fr=f"{pc} ({user}) joint le site en direct, sans le proxy : {'; '.join(reached)}",
               en=f"{pc} ({user}) reaches the site directly, without the proxy: {'; '.join(reached)}")


@pytest.mark.competency("032", points=1)
def test_not_an_open_proxy(hosts, expected, prober, check):
    """A client on the internet side (the grader's probe) asking gw's proxy port for a site gets
    no page: no connection, or a refusal. Controls: gw answers on the internet side (ARP), and the
    proxy answers on the LAN (an HTTP answer, whatever it says): a proxy that is not running is
    not judged open or closed here."""
    site = expected["allowed"][0]
    port = expected["port"]
    lan_answer = prober("lan").connect(expected["gw"]["lan"], port, send=request(site), timeout=8)
    if not status_of(lan_answer):
        hosts.gw.run("true")
    check.that(status_of(lan_answer), fr=f"aucun proxy ne répond sur {expected['gw']['lan']}:{port} : rien à juger",
               en=f"no proxy answers on {expected['gw']['lan']}:{port}: nothing to judge")
    wan = prober("wan")
    if wan.arp(expected["gw"]["wan"]) is None:
        raise ProbeError(f"gw ({expected['gw']['wan']}) does not answer ARP on the internet side: gw is down or unplugged")
    answer = wan.connect(expected["gw"]["wan"], port, send=request(site), timeout=8)
    status = status_of(answer)
    check.that(status != 200 and expected["sites"][site]["token"].encode() not in (answer or b""),
               fr=f"le proxy sert internet : un client {ip(expected['probes']['wan'])} obtient http://{site}/ par "
                  f"{expected['gw']['wan']}:{port} (HTTP {status})",
               en=f"the proxy serves the internet: a client {ip(expected['probes']['wan'])} gets http://{site}/ through "
                  f"{expected['gw']['wan']}:{port} (HTTP {status})")


@pytest.mark.competency("032", points=1)
def test_firewall_saved(hosts, check):
    """gw's rules come back at boot: a rules file is loaded at boot (/etc/nftables.conf by the
    nftables service, or any file by ifupdown: a pre-up line or a hook), it loads (in a network namespace of its own, nothing
    applied to gw) the very ruleset gw runs now, and that ruleset drops or rejects something."""
    gw = hosts.gw
    boot = gw.probe(NftablesAtBoot)
    check.that(boot.enabled, fr=f"nftables n'est pas chargé au démarrage de gw ({boot.evidence()})",
               en=f"nftables is not loaded when gw boots ({boot.evidence()})")
    path = boot.file()
    saved = gw.probe(SavedRuleset, path)
    check.that(saved.exists, fr=f"gw : aucune règle enregistrée ({path} absent)", en=f"gw: no rules saved ({path} missing)")
    check.that(saved.loads, fr=f"gw : {path} ne se charge pas : {saved.error}", en=f"gw: {path} does not load: {saved.error}")
    missing, extra = gw.probe(NftRuleset).compare(saved.ruleset)
    check.that(not missing and not extra,
               fr=f"gw : les règles en cours ne sont pas celles de {path} ; non enregistré : "
                  f"{'; '.join(missing) or '-'} ; enregistré mais pas en cours : {'; '.join(extra) or '-'}",
               en=f"gw: the running rules are not those of {path}; not saved: "
                  f"{'; '.join(missing) or '-'}; saved but not running: {'; '.join(extra) or '-'}")
    check.that(saved.ruleset.blocks_anything,
               fr="gw : les règles enregistrées ne bloquent rien (aucun drop ni reject)",
               en="gw: the saved rules block nothing (no drop nor reject)")


# -- 031: the PCs use the proxy ----------------------------------------------------------------

@pytest.mark.competency("031", points=1)
@pytest.mark.parametrize("pc", PCS)
def test_user_environment(pc, hosts, expected, check):
    """For each user of the PC, the login environment (su -: /etc/environment, /etc/profile,
    /etc/profile.d) holds http_proxy and https_proxy (or HTTPS_PROXY) naming gw's proxy. curl
    ignores HTTP_PROXY in capitals: http_proxy is written in lower case."""
    host = hosts[pc]
    wrong = []
    for user in expected["pcs"][pc]["users"]:
        result = host.run("su - %s -c env", user, timeout=15)
        if result.rc != 0:
            raise ProbeError(f"{pc}: su - {user} failed (exit {result.rc}): {(result.stderr or '').strip()[-200:]}")
        env = {}
        for line in result.stdout.splitlines():
            name, sep, value = line.partition("=")
            if sep:
                env[name] = value
        http = env.get("http_proxy")
        https = env.get("https_proxy", env.get("HTTPS_PROXY"))
        for name, value in (("http_proxy", http), ("https_proxy", https)):
            if not points_to_proxy(host, expected, value):
                wrong.append(f"{user} {name}={value if value is not None else '-'}")
    check.that(not wrong, fr=f"{pc} : variables de proxy absentes ou fausses (attendu {expected['proxy_url']}) : {'; '.join(wrong)}",
               en=f"{pc}: proxy variables missing or wrong (expected {expected['proxy_url']}): {'; '.join(wrong)}")


@pytest.mark.competency("031", points=1)
@pytest.mark.parametrize("pc", PCS)
def test_apt_proxy(pc, hosts, expected, check):
    """apt's configuration, as apt reads it (apt-config, every file of /etc/apt/apt.conf.d),
    sends HTTP through gw's proxy (Acquire::http::Proxy)."""
    result = hosts[pc].run("apt-config shell P Acquire::http::Proxy")
    check.that(result.rc == 0, fr=f"{pc} : apt ne peut pas lire sa configuration : {(result.stderr or '').strip()[-200:]}",
               en=f"{pc}: apt cannot read its configuration: {(result.stderr or '').strip()[-200:]}")
    value = None
    for line in result.stdout.splitlines():
        if line.startswith("P="):
            words = shlex.split(line[2:])
            value = words[0] if words else ""
    check.that(points_to_proxy(hosts[pc], expected, value),
               fr=f"{pc} : Acquire::http::Proxy d'apt : attendu {expected['proxy_url']}, trouvé {value or 'rien'}",
               en=f"{pc}: apt's Acquire::http::Proxy: expected {expected['proxy_url']}, found {value or 'nothing'}")


@pytest.mark.competency("031", points=1)
@pytest.mark.parametrize("pc", PCS)
def test_browser_policy(pc, hosts, expected, check):
    """The browser's enterprise policy (the plan's policies.json, read as JSON as Firefox reads
    it) sets a manual proxy: Mode "manual", HTTPProxy gw's proxy, and for HTTPS the same proxy
    (UseHTTPProxyForAllProtocols, or SSLProxy)."""
    path = expected["policy_file"]
    text = hosts[pc].probe(FileContent, path)
    check.that(text is not None, fr=f"{pc} : {path} n'existe pas", en=f"{pc}: {path} does not exist")
    try:
        policy = json.loads(text)
    except ValueError as exc:
        check.fail(fr=f"{pc} : {path} n'est pas du JSON valide ({exc})", en=f"{pc}: {path} is not valid JSON ({exc})")
    proxy = policy.get("policies", {}).get("Proxy") if isinstance(policy, dict) and isinstance(policy.get("policies"), dict) else None
    check.that(isinstance(proxy, dict), fr=f"{pc} : {path} n'a pas d'entrée policies.Proxy",
               en=f"{pc}: {path} has no policies.Proxy entry")
    check.equal(proxy.get("Mode"), "manual", fr=f"{pc} : mode du proxy du navigateur (Mode)", en=f"{pc}: browser proxy mode (Mode)")
    http = proxy.get("HTTPProxy")
    check.that(isinstance(http, str) and points_to_proxy(hosts[pc], expected, http),
               fr=f"{pc} : HTTPProxy : attendu {expected['gw']['lan']}:{expected['port']}, trouvé {http}",
               en=f"{pc}: HTTPProxy: expected {expected['gw']['lan']}:{expected['port']}, found {http}")
    ssl = proxy.get("SSLProxy")
    check.that(proxy.get("UseHTTPProxyForAllProtocols") is True or (isinstance(ssl, str) and points_to_proxy(hosts[pc], expected, ssl)),
               fr=f"{pc} : HTTPS ne passe pas par le proxy (UseHTTPProxyForAllProtocols ou SSLProxy ; SSLProxy trouvé : {ssl})",
               en=f"{pc}: HTTPS does not go through the proxy (UseHTTPProxyForAllProtocols or SSLProxy; SSLProxy found: {ssl})")


@pytest.mark.competency("031", points=1)
def test_access_log(hosts, expected, check):
    """The proxy keeps a log of its clients: each PC asks the proxy (named this time: this check
    judges the log, not the PCs' settings) for an allowed page with a token of its own, and a line
    of /var/log/squid/access.log on gw then holds that URL and the PC's address."""
    log = "/var/log/squid/access.log"
    site = expected["allowed"][0]
    proxy = f"http://{expected['gw']['lan']}:{expected['port']}"
    asked = {}
    for pc in PCS:
        url = f"http://{site}/tspcr-log-{secrets.token_hex(6)}"  # a path: squid strips query terms from its log
        fetch = parse_fetch(url, hosts[pc].run(curl_line(url, "--proxy", proxy), timeout=15))
        if fetch.code == 0:
            hosts.gw.run("true")
        check.that(fetch.code != 0, fr=f"le proxy {proxy} ne répond pas à {pc} : rien à journaliser",
                   en=f"the proxy {proxy} does not answer {pc}: nothing to log")
        asked[pc] = url

    def lines():
        found = {}
        for pc, url in asked.items():
            token = url.rsplit("/", 1)[1]
            result = hosts.gw.run("grep -F -- %s %s", token, log)
            if result.rc == 2 and "No such file" in (result.stderr or ""):
                return None
            found[pc] = [line for line in result.stdout.splitlines() if url in line.split()]
        return found

    found = eventually(lines, lambda f: f is None or all(f.values()), budget=LOG_WAIT, interval=0.5)
    check.that(found is not None, fr=f"gw : le journal {log} n'existe pas", en=f"gw: the log {log} does not exist")
    missing = []
    for pc, url in asked.items():
        address = ip(expected["pcs"][pc]["address"])
        if not any(address in line.split() for line in found[pc]):
            missing.append(f"{pc} ({address}) {url}")
    check.that(not missing, fr=f"gw : {log} n'a pas de ligne pour : {'; '.join(missing)}",
               en=f"gw: {log} has no line for: {'; '.join(missing)}")
