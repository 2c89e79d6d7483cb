"""pyinfra facts the labs' deploys share."""

from __future__ import annotations

from pyinfra.api import FactBase

VIRTUAL_MGMT = "mgmt0"  # the virtual lab's management interface


class ManagementInterface(FactBase):
    """The interface the host is managed through (what a firewall's rules must leave open), or
    None: over SSH, the one holding the address the grader connected to (sshd's
    ``SSH_CONNECTION``); on a virtual lab host (its console), ``mgmt0``. A real lab names its
    management interface as it likes (an inventory gives addresses, not interface names)."""

    def command(self) -> str:
        return ("a=$(echo \"${SSH_CONNECTION:-}\" | cut -d' ' -f3); "
                "if [ -n \"$a\" ]; then ip -o addr show | awk -v a=\"$a\" 'index($4, a \"/\") == 1 {print $2; exit}'; "
                f"elif ip link show dev {VIRTUAL_MGMT} >/dev/null 2>&1; then echo {VIRTUAL_MGMT}; fi; true")

    def process(self, output: list[str]) -> str | None:
        names = [line.strip() for line in output if line.strip()]
        return names[0].split("@")[0] if names else None
