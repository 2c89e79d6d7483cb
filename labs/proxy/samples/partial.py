"""A sample trainee's work for proxy, partly right (used by the tests):

* gw: squid on the plan's port, serving the LAN, but the refused list forgets the second
  forbidden site; the firewall rule blocking direct web is typed by hand (nft add), never saved
  nor loaded at boot;
* pc1: the environment and apt are right, the browser's policy is missing;
* pc2: the environment and the browser's policy are right, apt has no proxy.
"""

import json
from io import StringIO

from pyinfra import host
from pyinfra.operations import files, server

plan = host.data.lab_expected
url = plan["proxy_url"]

if host.name == "gw":
    files.put(name="gw: the LAN allowed, one forbidden site only",
              src=StringIO(f"acl lan src {plan['lan']}\nacl refused dstdomain .{plan['blocked'][0]}\n"
                           "http_access deny refused\nhttp_access allow lan\nshutdown_lifetime 2 seconds\n"),
              dest="/etc/squid/conf.d/lab.conf")
    files.line(name="gw: squid on the plan's port", path="/etc/squid/squid.conf", line=r"^http_port .*",
               replace=f"http_port {plan['port']}")
    server.shell(name="gw: a firewall rule typed by hand, not saved", commands=[
        "nft add table inet filter",
        "nft 'add chain inet filter forward { type filter hook forward priority filter; policy accept; }'",
        f"nft add rule inet filter forward ip saddr {plan['lan']} tcp dport '{{ 80, 443 }}' reject",
        "service squid restart",
    ])

elif host.name in plan["pcs"]:
    files.line(name="proxy variables", path="/etc/environment", line=r"^http_proxy=.*", replace=f"http_proxy={url}")
    files.line(name="proxy variables (HTTPS)", path="/etc/environment", line=r"^https_proxy=.*", replace=f"https_proxy={url}")
    if host.name == "pc1":
        files.put(name="apt through the proxy", src=StringIO(f'Acquire::http::Proxy "{url}";\n'),
                  dest="/etc/apt/apt.conf.d/95proxy")
    else:
        proxy = f"{plan['gw']['lan']}:{plan['port']}"
        files.directory(name="the browser's policy folder", path=plan["policy_file"].rsplit("/", 1)[0])
        files.put(name="the browser's policy",
                  src=StringIO(json.dumps({"policies": {"Proxy": {"Mode": "manual", "HTTPProxy": proxy,
                                                                  "SSLProxy": proxy}}}) + "\n"),
                  dest=plan["policy_file"])
