"""The ``tspcr-lab`` command. ``main()`` is thin: it runs the click program and turns every error
of ours into one line on stderr and an exit code (:class:`~tspcr_lab.exitcodes.ExitStatus`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .errors import TspcrError, UserError
from .exitcodes import ExitStatus
from .i18n import LANGS, pick, t

out = Console(highlight=False)

STATUS_STYLE = {"passed": "green", "failed": "red", "error": "yellow", "skipped": "dim"}


def _lab(name: str):
    from .labfile import load_lab

    return load_lab(name)


def _vlab(lab_name: str, instance: str | None):
    from .virtual.lab import VirtualLab

    return VirtualLab(_lab(lab_name), instance)


def _instance_for_host(lab_name: str | None, instance: str | None) -> str:
    """The running instance meant by a command that names only a host."""
    from .virtual.lab import require_root, running_instances

    require_root()
    if instance:
        return instance
    if lab_name:
        return lab_name
    running = running_instances()
    if len(running) == 1:
        return running[0]
    if not running:
        raise UserError("no lab is up (start one with: tspcr-lab up LAB)")
    raise UserError(f"several labs are up ({', '.join(running)}): say which with --lab")


lang_option = click.option("--lang", type=click.Choice(LANGS), default="fr", show_default=True,
                           help="Language of what people read.")
instance_option = click.option("--instance", help="Virtual lab instance (default: the lab's id).")
inventory_option = click.option("--inventory", type=click.Path(dir_okay=False),
                                help="pyinfra inventory of a real lab (instead of the virtual lab).")
seed_option = click.option("--seed", type=int, help="The trainee's seed (default: the virtual lab's).")
trainee_option = click.option("--trainee", help="The trainee's name.")
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
verbose_option = click.option("-v", "--verbose", is_flag=True, help="Show pytest's own output too.")


def run_options(command):
    """The options of the commands that run checks (check, grade): where, whom, in what language."""
    for option in reversed((instance_option, inventory_option, seed_option, trainee_option, lang_option,
                            verbose_option)):
        command = option(command)
    return command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tspcr-lab")
def cli() -> None:
    """tspcr-lab: hands-on TSPCR lab exams that set themselves up and grade themselves."""


@cli.command()
@json_option
@lang_option
def labs(as_json: bool, lang: str) -> None:
    """List the labs and the competencies they cover."""
    from .labfile import available_labs

    rows = []
    for name in available_labs():
        lab = _lab(name)
        rows.append({"id": lab.id, "title": lab.title_in(lang), "competencies": list(lab.competencies),
                     "hosts": list(lab.hosts)})
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    table = Table("lab", t("title", lang), t("competency", lang), "hosts")
    for row in rows:
        table.add_row(row["id"], Text(row["title"]), ", ".join(row["competencies"]), ", ".join(row["hosts"]))
    out.print(table)


@cli.command()
@json_option
@lang_option
def coverage(as_json: bool, lang: str) -> None:
    """For each of the 36 competencies: the labs and checks that cover it."""
    from .coverage import coverage as compute

    rows = compute()
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    table = Table(t("competency", lang), t("title", lang), "labs", "checks", "")
    for row in rows:
        covered = row["status"] != "uncovered"
        table.add_row(row["code"], Text(row[lang]), ", ".join(row["labs"]), str(row["checks"]),
                      Text(row["status"], style="green" if covered else "dim"))
    out.print(table)
    done = sum(1 for row in rows if row["status"] != "uncovered")
    out.print(f"{done}/{len(rows)} covered")


@cli.command()
@click.argument("lab_name", metavar="LAB")
@click.option("--seed", type=int, help="Seed of the trainee's parameters (default: drawn at random).")
@trainee_option
@instance_option
def up(lab_name: str, seed: int | None, trainee: str | None, instance: str | None) -> None:
    """Build LAB on this machine (virtual lab) and set up its starting state."""
    from .params import generate, new_seed
    from .targets import virtual_target
    from .virtual.lab import require_root

    require_root()
    vlab = _vlab(lab_name, instance)
    seed = new_seed() if seed is None else seed
    t0 = time.monotonic()
    state = vlab.up(seed, trainee or "")
    t1 = time.monotonic()
    _provision(virtual_target(vlab.lab, vlab.instance), vlab.lab.deploy_file, generate(vlab.lab, seed))
    t2 = time.monotonic()
    out.print(f"lab {vlab.lab.id} is up: {len(state.hosts)} hosts ({', '.join(state.hosts)}), seed {seed}; "
              f"built in {t1 - t0:.2f} s, provisioned in {t2 - t1:.2f} s")


def _provision(target, deploy_file: Path, lab_params) -> None:
    """Apply a deploy to the target's hosts, with the lab's parameters in each host's data."""
    from .provision import ProvisionError, run_deploy

    lab = target.lab
    hosts = [(pyinfra_name, {**data, "lab_params": lab_params.params, "lab_expected": lab_params.expected,
                             "lab_role": lab.hosts[name].role})
             for name, (pyinfra_name, data) in target.provision_hosts.items()]
    result = run_deploy(deploy_file, hosts)
    problems = [f"{name}: unreachable ({why})" for name, why in result.unreachable.items()]
    problems += [f"{name}: an operation failed" for name in result.failed]
    if problems:
        raise ProvisionError(f"{deploy_file.name} was not fully applied: {'; '.join(problems)}")


@cli.command()
@click.argument("lab_name", metavar="LAB")
@instance_option
def down(lab_name: str, instance: str | None) -> None:
    """Remove every host, switch, namespace, mount and process of LAB."""
    vlab = _vlab(lab_name, instance)
    t0 = time.monotonic()
    removed = vlab.down()
    out.print(f"lab {vlab.instance} is down ({len(removed)} hosts removed in {time.monotonic() - t0:.2f} s)")


@cli.command()
@json_option
def status(as_json: bool) -> None:
    """List the labs that are up on this machine and their hosts."""
    from .labfile import load_lab
    from .virtual.lab import VirtualLab, load_instance_state, require_root, running_instances

    require_root()
    data = []
    for instance in running_instances():
        data.append(VirtualLab(load_lab(load_instance_state(instance).lab), instance).status())
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    if not data:
        out.print("no lab is up")
        return
    for item in data:
        table = Table("host", "role", "state", "mgmt", "pid",
                      title=f"{item['instance']} (lab {item['lab']}, trainee {item['trainee'] or '-'}, seed {item['seed']})")
        for name, host in item["hosts"].items():
            table.add_row(name, host["role"], Text("running" if host["running"] else "stopped",
                                                   style="green" if host["running"] else "red"),
                          host["mgmt"], str(host["pid"]))
        out.print(table)


@cli.command()
@click.argument("host")
@click.option("--lab", "lab_name", help="The lab, when several are up.")
@instance_option
def shell(host: str, lab_name: str | None, instance: str | None) -> None:
    """Open a root shell in HOST (through its console: works even if its network is broken)."""
    from .virtual.lab import console_command

    argv = console_command(_instance_for_host(lab_name, instance), host, ["/bin/bash", "--login"], tty=True)
    os.execvp(argv[0], argv)


@cli.command(name="exec", context_settings={"ignore_unknown_options": True})
@click.argument("host")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.option("--lab", "lab_name", help="The lab, when several are up.")
@instance_option
def exec_(host: str, command: tuple[str, ...], lab_name: str | None, instance: str | None) -> None:
    """Run one command in HOST: tspcr-lab exec pc1 -- ip addr (its exit code is passed through)."""
    from .virtual.lab import console_command

    argv = console_command(_instance_for_host(lab_name, instance), host, list(command))
    sys.exit(subprocess.call(argv))


@cli.command()
@click.argument("host")
@click.option("--lab", "lab_name", help="The lab, when several are up.")
@instance_option
def reboot(host: str, lab_name: str | None, instance: str | None) -> None:
    """Restart HOST from its persistent configuration (run-time settings are lost, files stay)."""
    from .virtual.lab import load_instance_state

    name = _instance_for_host(lab_name, instance)
    lab_id = load_instance_state(name, lab_name).lab
    t0 = time.monotonic()
    _vlab(lab_id, name).reboot(host)
    out.print(f"{host} rebooted in {time.monotonic() - t0:.2f} s")


@cli.command()
@click.argument("lab_name", metavar="LAB")
@click.option("--sample", help="Apply a sample trainee's work (labs/LAB/samples/NAME.py) instead of the solution.")
@instance_option
@inventory_option
@seed_option
def solve(lab_name: str, sample: str | None, instance: str | None, inventory: str | None, seed: int | None) -> None:
    """Apply the lab's solution (a correct trainee's work), or a sample, with pyinfra."""
    from .params import generate
    from .targets import resolve_target

    lab = _lab(lab_name)
    target = resolve_target(lab, instance=instance, inventory=inventory, seed=seed)
    deploy = lab.sample_file(sample) if sample else lab.solution_file
    t0 = time.monotonic()
    _provision(target, deploy, generate(lab, target.seed))
    out.print(f"{deploy.relative_to(lab.path)} applied to {lab.id} in {time.monotonic() - t0:.2f} s")


@cli.command()
@click.argument("lab_name", metavar="LAB")
@instance_option
@inventory_option
@seed_option
@json_option
@lang_option
def params(lab_name: str, instance: str | None, inventory: str | None, seed: int | None, as_json: bool,
           lang: str) -> None:
    """Show the trainee's parameters and instructions for LAB."""
    from .params import generate
    from .targets import resolve_target

    lab = _lab(lab_name)
    if seed is None:
        seed = resolve_target(lab, instance=instance, inventory=inventory).seed
    lab_params = generate(lab, seed)
    if as_json:
        click.echo(json.dumps({"lab": lab.id, "seed": seed, "params": lab_params.params}, indent=2, ensure_ascii=False))
        return
    out.print(Text(f"{lab.title_in(lang)} (seed {seed})", style="bold"))
    text = pick(lab.instructions, lang)
    if text:
        out.print(Text(text.strip().format(**lab_params.params)))
    else:
        for key, value in lab_params.params.items():
            out.print(Text(f"{key}: {value}"))


def _run(lab_name: str, lang: str, out_dir: Path | None, verbose: bool, **options):
    from .runner import run_checks
    from .targets import resolve_target

    lab = _lab(lab_name)
    # Bad input (unknown lab instance, broken inventory, no seed) is said here, on one line, before
    # any check runs; what goes wrong later, host by host, becomes *error* checks.
    resolve_target(lab, instance=options["instance"], inventory=options["inventory"], seed=options["seed"],
                   trainee=options["trainee"])
    return lab, run_checks(lab, out_dir=out_dir, lang=lang, verbose=verbose, **options)


def _summary(lab, results: dict, lang: str, hints: bool) -> None:
    table = Table(t("result", lang), t("check", lang), t("competency", lang), t("points", lang), t("message", lang))
    for check in results["checks"]:
        message = Text(check["message"])
        if hints and check["hint"]:
            message.append(f"\n{t('hint', lang)} : {check['hint']}", style="cyan")
        table.add_row(Text(t(check["status"], lang), style=STATUS_STYLE.get(check["status"], "")),
                      Text(check["id"]), check["competency"], f"{check['earned']:g}/{check['points']:g}", message)
    out.print(table)
    from .referential import load

    comps = Table(t("competency", lang), t("title", lang), t("points", lang), t("result", lang))
    for code, comp in results["competencies"].items():
        state = t("mastered" if comp["mastered"] else "not_mastered", lang)
        if not comp["complete"]:
            state += f" ({t('incomplete', lang)})"
        comps.add_row(code, Text(load().competency(code).title(lang)), f"{comp['earned']:g}/{comp['max']:g}",
                      Text(state, style="green" if comp["mastered"] else "red"))
    out.print(comps)
    out.print(Text(f"{t('score', lang)} : {results['score']:g} / {results['max_score']:g}", style="bold"))
    if not results["complete"]:
        out.print(Text(t("grade_incomplete", lang, n=results["counts"]["error"]), style="yellow"))


@cli.command()
@click.argument("lab_name", metavar="LAB")
@run_options
def check(lab_name: str, instance, inventory, seed, trainee, lang: str, verbose: bool) -> None:
    """Self-check: run the lab's checks and show what to fix, with hints."""
    lab, results = _run(lab_name, lang, None, verbose, instance=instance, inventory=inventory, seed=seed,
                        trainee=trainee)
    _summary(lab, results, lang, hints=True)
    sys.exit(_exit_code(results))


@cli.command()
@click.argument("lab_name", metavar="LAB")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for report.html and results.json.")
@run_options
def grade(lab_name: str, out_dir: Path, instance, inventory, seed, trainee, lang: str, verbose: bool) -> None:
    """Grade LAB: write DIR/report.html and DIR/results.json and print the summary."""
    t0 = time.monotonic()
    lab, results = _run(lab_name, lang, out_dir, verbose, instance=instance, inventory=inventory, seed=seed,
                        trainee=trainee)
    _summary(lab, results, lang, hints=False)
    out.print(t("report_written", lang, path=out_dir / "report.html") + f" ({time.monotonic() - t0:.2f} s)")
    sys.exit(_exit_code(results))


def _exit_code(results: dict) -> int:
    from .scoring import exit_status_of

    return exit_status_of(results["complete"], results["counts"]["failed"])


def _error(message: str) -> None:
    """One line on stderr, never wrapped."""
    click.echo("tspcr-lab: " + " ".join(message.split()), err=True)


def main(argv: list[str] | None = None) -> int:
    try:
        cli.main(args=argv, prog_name="tspcr-lab", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.UsageError as exc:
        _error(exc.format_message())
        return ExitStatus.USAGE
    except click.Abort:
        return ExitStatus.USAGE
    except TspcrError as exc:
        _error(str(exc))
        return ExitStatus.USAGE
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    return ExitStatus.OK
