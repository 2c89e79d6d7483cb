"""A pyinfra connector for virtual hosts: ``@tspcr/<instance>/<host>``.

It runs commands through the host's console (nsenter into its namespaces), like pyinfra's own
``@chroot`` and ``@docker`` connectors do with chroot and docker exec, so provisioning works even
before sshd is up or after a trainee broke the management interface.
"""

from __future__ import annotations

import os
import shlex
from tempfile import mkstemp

from pyinfra.api import QuoteString, StringCommand
from pyinfra.api.exceptions import ConnectError, InventoryError
from pyinfra.api.util import get_file_io
from pyinfra.connectors.base import BaseConnector
from pyinfra.connectors.local import LocalConnector
from pyinfra.connectors.util import extract_control_arguments, make_unix_command_for_host

from ..errors import TspcrError
from ..virtual.lab import console_command


class ConsoleConnector(BaseConnector):
    handles_execution = True

    def __init__(self, state, host):
        super().__init__(state, host)
        self.local = LocalConnector(state, host)

    @staticmethod
    def make_names_data(name=None):
        if not name or name.count("/") != 1:
            raise InventoryError("@tspcr needs INSTANCE/HOST, e.g. @tspcr/ip-plan/pc1")
        instance, host_name = name.split("/")
        yield host_name, {"tspcr_instance": instance, "tspcr_host": host_name}, ["@tspcr"]

    def _argv(self, *argv: str) -> list[str]:
        try:
            return console_command(self.host.data.tspcr_instance, self.host.data.tspcr_host, list(argv))
        except TspcrError as exc:
            raise ConnectError(str(exc)) from None

    def _console(self, *argv: str) -> str:
        return shlex.join(self._argv(*argv))

    def connect(self) -> None:
        self.local.connect()
        self._argv("true")

    def run_shell_command(self, command, print_output=False, print_input=False, **command_arguments):
        local_arguments = extract_control_arguments(command_arguments)
        command = make_unix_command_for_host(self.state, self.host, command, **command_arguments)
        prefix = [shlex.quote(bit) for bit in self._argv("sh", "-c")]
        line = StringCommand(*prefix, QuoteString(command))
        return self.local.run_shell_command(line, print_output=print_output, print_input=print_input,
                                            **local_arguments)

    def put_file(self, filename_or_io, remote_filename, remote_temp_filename=None,
                 print_output=False, print_input=False, **kwargs):
        fd, temp = mkstemp()
        try:
            with get_file_io(filename_or_io) as file_io, os.fdopen(fd, "wb") as out:
                data = file_io.read()
                out.write(data.encode() if isinstance(data, str) else data)
            line = self._console("sh", "-c", f"cat > {shlex.quote(remote_filename)}") + f" < {shlex.quote(temp)}"
            status, output = self.local.run_shell_command(StringCommand(line), print_output=print_output,
                                                          print_input=print_input)
        finally:
            os.remove(temp)
        if not status:
            raise OSError(output.stderr)
        return status

    def get_file(self, remote_filename, filename_or_io, remote_temp_filename=None,
                 print_output=False, print_input=False, **kwargs):
        fd, temp = mkstemp()
        os.close(fd)
        try:
            line = self._console("cat", remote_filename) + f" > {shlex.quote(temp)}"
            status, output = self.local.run_shell_command(StringCommand(line), print_output=print_output,
                                                          print_input=print_input)
            with open(temp, "rb") as f, get_file_io(filename_or_io, "wb") as file_io:
                file_io.write(f.read())
        finally:
            os.remove(temp)
        if not status:
            raise OSError(output.stderr)
        return status
