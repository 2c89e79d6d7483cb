"""A trainee who set everything up as the policy says, took the inventory and wrote the message
through the bastion, but repaired the user's fault as root on pc1's console (not through the
bastion with the helpdesk account): only the repair's path is wrong."""

import importlib.util
from pathlib import Path

from pyinfra import host
from pyinfra.operations import server


# the fault repaired at its cause, as root on pc1 (what the catalogue's repair does through the bastion)
CONSOLE = {
    "cron-stopped": ["grep -qx cron /etc/tspcr-lab/boot-services || echo cron >> /etc/tspcr-lab/boot-services",
                     "service cron start"],
    "profile-path": ["sed -i 's#^export PATH=.*#export PATH=\"/opt/apps/bin:$PATH\"#' /etc/profile.d/apps.sh"],
    "home-owner": ["chown {user} /home/{user}"],
}


def load_steps():
    import sys

    name = "tspcr_lab_remote_support_steps"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parents[1] / "steps.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[name] = module
    return sys.modules[name]


steps = load_steps()
plan = host.data.lab_expected
steps.policy()
steps.tech_keys()
steps.inventory()
if host.name == "pc1":
    server.shell(name="pc1: the fault repaired on the console, as root",
                 commands=[c.replace("{user}", plan["user"]) for c in CONSOLE[plan["faults"][0]]])
steps.message()
steps.reports()
