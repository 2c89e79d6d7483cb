"""Record the OvsDriver's commands on the vlans lab's switches, for real (see README.md).

Run as root from the checkout: .venv/bin/python tests/unit/recorded/ovs/record.py
It brings up its own instance (rec-ovs, seed 4242), records sw1 and sw2 in three states, and
takes the instance down.
"""
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[4]
sys.path.insert(0, str(ROOT))
from tspcr_lab.devices.ovs import OvsDriver  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parent
T = [sys.executable, "-m", "tspcr_lab"]
INSTANCE = "rec-ovs"
COMMANDS = {"ports": OvsDriver.PORTS, "ifaces": OvsDriver.IFACES, "bridges": OvsDriver.BRIDGES,
            "addr": OvsDriver.ADDRESSES, "show": OvsDriver.SHOW, "facts": OvsDriver.FACTS,
            "fdb": "ovs-appctl fdb/show br0"}
# Changes made on sw2 after the solution, so that the outputs hold what the parser must read:
# the unused ports back in the bridge, shut in two ways and left open, a native VLAN, a trunk of
# one VLAN (OVS writes a one-element set as the bare atom), a port with both tag and trunks.
VARIED = """
for p in p3 p4 p5; do ovs-vsctl --may-exist add-port br0 $p; done
ip link set p3 down
ovs-ofctl mod-port br0 p4 down
ovs-vsctl set port p5 vlan_mode=native-untagged tag=7 trunks=7,8 external_ids:description='spare "socket" é'
ovs-vsctl set port p6 trunks=42
ovs-vsctl set port p2 trunks=5,6
"""


def sh(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([*T, *argv], capture_output=True, text=True, cwd=ROOT, timeout=300)


def on(host: str, script: str) -> subprocess.CompletedProcess:
    return sh("exec", host, "--instance", INSTANCE, "--", "sh", "-c", script)


def record(runs: dict, state: str, host: str, context: str) -> None:
    on("pc1", "ping -c1 -W1 10.0.0.1 >/dev/null 2>&1 || true")  # some traffic for the MAC table
    for key, command in COMMANDS.items():
        done = on(host, command)
        name = f"{host}-{state}-{key}"
        (OUT / f"{name}.out").write_text(done.stdout)
        runs[name] = {"command": command, "rc": done.returncode, "stderr": done.stderr, "context": context}
        print(name, done.returncode)


def main() -> None:
    runs: dict = {}
    sh("down", "vlans", "--instance", INSTANCE)
    assert sh("up", "vlans", "--instance", INSTANCE, "--seed", "4242").returncode == 0
    for host in ("sw1", "sw2"):
        on("pc1", "ping -c2 -W1 -b 10.255.255.255 >/dev/null 2>&1 || true")
        record(runs, "factory", host, f"{host} of the vlans lab (seed 4242) right after `tspcr-lab up`: factory state")
    assert sh("solve", "vlans", "--instance", INSTANCE).returncode == 0
    on("pc1", "ping -c1 -W1 $(ip -4 -br addr show eth0 | awk '{print $3}' | cut -d/ -f1) >/dev/null || true")
    for host in ("sw1", "sw2"):
        record(runs, "solved", host, f"{host} after `tspcr-lab solve vlans` (seed 4242)")
    assert on("sw2", VARIED).returncode == 0
    record(runs, "varied", "sw2", "sw2 solved, then changed by the commands VARIED of record.py")
    # Errors: the database down (ovsdb-server stopped), and a bridge that does not exist.
    on("sw2", "ovs-appctl -t ovsdb-server exit")
    for key in ("ports",):
        done = on("sw2", COMMANDS[key])
        name = f"sw2-dbdown-{key}"
        (OUT / f"{name}.out").write_text(done.stdout)
        runs[name] = {"command": COMMANDS[key], "rc": done.returncode, "stderr": done.stderr,
                      "context": "sw2 with its ovsdb-server stopped (ovs-appctl -t ovsdb-server exit)"}
    done = on("sw1", "ovs-appctl fdb/show br9")
    (OUT / "sw1-nobridge-fdb.out").write_text(done.stdout)
    runs["sw1-nobridge-fdb"] = {"command": "ovs-appctl fdb/show br9", "rc": done.returncode, "stderr": done.stderr,
                                "context": "a bridge that does not exist"}
    (OUT / "runs.json").write_text(json.dumps(runs, indent=2, ensure_ascii=False) + "\n")
    sh("down", "vlans", "--instance", INSTANCE)


if __name__ == "__main__":
    main()
