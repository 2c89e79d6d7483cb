"""A correct trainee's work for remote-support (pyinfra deploy), in the order of the sheet (the
steps are in steps.py, shared with the samples):

1. on the bastion and pc1, as root: the helpdesk account (its password, tech's key authorised),
   sshd for keys only and no root, on pc1 the plan's sudo rights (/etc/sudoers.d, visudo);
2. on hd1, as tech: the key pair and ~/.ssh/config with ProxyJump;
3. pc1's inventory, collected through the bastion (files/collect-inventory.sh run on pc1 over ssh);
4. the repair through the bastion with sudo (the catalogue's reference repair: run on hd1 as
   tech), the user's message (sudoedit through the bastion) and the intervention report.

pyinfra runs each operation on every host before the next one: the accounts exist on the bastion
and pc1 before hd1 logs in to them.
"""

import importlib.util
import sys
from pathlib import Path

from tspcr_lab.provision.faults import repair_faults


def load_steps():
    name = "tspcr_lab_remote_support_steps"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parent / "steps.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[name] = module
    return sys.modules[name]


steps = load_steps()
steps.policy()
steps.tech_keys()
steps.inventory()
repair_faults()
steps.message()
steps.reports()
