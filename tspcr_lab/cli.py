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
from .i18n import LANGS, t

out = Console(highlight=False, soft_wrap=True)  # a line of ours is never cut into two

PROVISION_PROCESSES = 6  # trainees' copies provisioned side by side (see provision.run_deploy_batches)

STATUS_STYLE = {"passed": "green", "failed": "red", "error": "yellow", "skipped": "dim"}


def _lab(name: str):
    from .labfile import load_lab

    return load_lab(name)


def _vlab(lab_name: str, instance: str | None):
    from .virtual.lab import VirtualLab

    return VirtualLab(_lab(lab_name), instance)


def _orphan(lab_name: str, instance: str | None):
    """The instance of LAB that is up although LAB's file is gone or broken (a lab removed or
    renamed while it ran), so that it can still be taken down; None when there is none."""
    from .virtual.lab import STATE_ROOT, VirtualLab, load_instance_state, require_root

    require_root()
    name = instance or lab_name
    if not (STATE_ROOT / name / "state.json").is_file():
        return None
    try:
        state = load_instance_state(name)
    except (UserError, ValueError, TypeError, KeyError):
        return None
    return VirtualLab(None, name) if state.lab == lab_name else None


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
    table = Table(t("competency", lang), t("title", lang), "labs", "checks", t("manual", lang), "")
    styles = {"automated": "green", "manual": "cyan", "uncovered": "dim"}
    for row in rows:
        table.add_row(row["code"], Text(row[lang]), ", ".join([*row["labs"], *row["manual"]]), str(row["checks"]),
                      str(row["manual_items"] or ""), Text(row["status"], style=styles[row["status"]]))
    out.print(table)
    counts = {status: sum(1 for row in rows if row["status"] == status) for status in styles}
    out.print(f"{len(rows)} competencies: {counts['automated']} automated, {counts['manual']} manual, "
              f"{counts['uncovered']} uncovered; {sum(row['checks'] for row in rows)} checks (as pytest collects them)")


class_option = click.option("--class", "class_file", type=click.Path(dir_okay=False),
                            help="A class file (TOML or CSV): one copy of the lab per trainee.")
key_option = click.option("--key", "key_file", type=click.Path(dir_okay=False),
                          help="The examiner's signing key (default: ~/.config/tspcr-lab/exam.key).")


@cli.command()
@click.argument("lab_name", metavar="LAB")
@click.option("--seed", type=int,
              help="Seed of the trainee's parameters (default: drawn at random); with --class, the exam's seed.")
@trainee_option
@instance_option
@class_option
@click.option("--inventory", type=click.Path(dir_okay=False),
              help="Set up the starting state on a real lab's hosts (a pyinfra inventory) instead of the virtual lab; "
                   "with --class, on each trainee's station (an inventory group).")
def up(lab_name: str, seed: int | None, trainee: str | None, instance: str | None, class_file: str | None,
       inventory: str | None) -> None:
    """Build LAB on this machine (virtual lab) and set up its starting state (on real hosts with --inventory)."""
    from .params import generate, new_seed
    from .targets import virtual_target
    from .virtual.lab import require_root

    if class_file:
        _up_class(_lab(lab_name), class_file, seed, inventory)
        return
    if inventory:
        if instance:
            raise UserError("--instance names a virtual lab instance: not with --inventory")
        _up_station(_lab(lab_name), inventory, seed, trainee)
        return
    require_root()
    vlab = _vlab(lab_name, instance)
    seed = new_seed() if seed is None else seed
    t0 = time.monotonic()
    state = vlab.up(seed, trainee or "")
    t1 = time.monotonic()
    _provision([(virtual_target(vlab.lab, vlab.instance), generate(vlab.lab, seed))], vlab.lab.deploy_file)
    t2 = time.monotonic()
    out.print(f"lab {vlab.lab.id} is up: {len(state.hosts)} hosts ({', '.join(state.hosts)}), seed {seed}; "
              f"built in {t1 - t0:.2f} s, provisioned in {t2 - t1:.2f} s")


def _up_station(lab, inventory: str, seed: int | None, trainee: str | None) -> None:
    """One trainee's real station: the inventory's hosts (named for the lab) get the lab's starting
    state with the trainee's parameters. Nothing is built: the hosts exist and answer over SSH."""
    from .params import generate, new_seed
    from .targets import inventory_target

    seed = new_seed() if seed is None else seed
    target = inventory_target(lab, inventory, seed, trainee or "")
    t0 = time.monotonic()
    result = _provision([(target, generate(lab, seed))], lab.deploy_file)
    hosts = [name for name, (pyinfra_name, _) in target.provision_hosts.items() if pyinfra_name not in result.skipped]
    out.print(f"lab {lab.id} is set up on {len(hosts)} real hosts "
              f"({', '.join(hosts)}), seed {seed} (grade it with --inventory {inventory} "
              f"--seed {seed}); provisioned in {time.monotonic() - t0:.2f} s")
    if result.skipped:
        out.print(f"network devices skipped by pyinfra: {', '.join(result.skipped)} (their starting state: "
                  f"tspcr-lab baseline {lab.id} --inventory {inventory} --seed {seed})")


def _class(class_file: str):
    from .classes import load_class

    return load_class(class_file)


def _up_class(lab, class_file: str, seed: int | None, inventory: str | None) -> None:
    """One copy of the lab per trainee (virtual), or each trainee's station (real), then one
    pyinfra run that sets up every copy with that trainee's own parameters."""
    from .params import generate
    from .targets import inventory_target, virtual_target
    from .virtual.classlab import build_class

    classroom = _class(class_file)
    seeds = {tr.id: classroom.seed_of(tr, seed) for tr in classroom.trainees}
    t0 = time.monotonic()
    if inventory:
        targets = [inventory_target(lab, inventory, seeds[tr.id], tr.name, tr.station or None)
                   for tr in classroom.trainees]
    else:
        instances = build_class(lab, classroom, seeds)
        targets = [virtual_target(lab, name) for name in instances]
    t1 = time.monotonic()
    _provision([(target, generate(lab, target.seed)) for target in targets], lab.deploy_file)
    t2 = time.monotonic()
    hosts = sum(len(target.provision_hosts) for target in targets)
    out.print(f"lab {lab.id} is up for {len(targets)} trainees ({hosts} hosts); "
              f"built in {t1 - t0:.2f} s, provisioned in {t2 - t1:.2f} s")


def _provision(targets, deploy_file: Path):
    from .provision import apply_to_targets

    return apply_to_targets(targets, deploy_file, processes=PROVISION_PROCESSES)


@cli.command()
@click.argument("lab_name", metavar="LAB")
@instance_option
@class_option
def down(lab_name: str, instance: str | None, class_file: str | None) -> None:
    """Remove every host, switch, namespace, mount and process of LAB (of every trainee with --class)."""
    from .portal.exam import prune_clocks
    from .virtual.lab import STATE_ROOT

    t0 = time.monotonic()
    if class_file:
        from .virtual.classlab import down_class

        removed = down_class(_lab(lab_name), _class(class_file))
        prune_clocks(STATE_ROOT / "portal")
        out.print(f"lab {lab_name} is down for the class ({len(removed)} hosts removed in {time.monotonic() - t0:.2f} s)")
        return
    try:
        vlab = _vlab(lab_name, instance)
    except UserError as problem:
        vlab = _orphan(lab_name, instance)
        if vlab is None:
            raise
        out.print(f"{problem}; taking down {vlab.instance} from its saved state")
    removed = vlab.down()
    prune_clocks(STATE_ROOT / "portal")
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
        item = VirtualLab(None, instance).status()  # from the saved state alone
        try:
            load_lab(item["lab"])
            item["lab_missing"] = False
        except UserError:  # a lab removed or broken while it ran: still listed, and down works
            item["lab_missing"] = True
        data.append(item)
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    if not data:
        out.print("no lab is up")
        return
    for item in data:
        stale = " - stale: tspcr-lab down cleans it" if item["stale"] else ""
        if item["lab_missing"]:
            stale += f" - its lab file is gone or broken (tspcr-lab down {item['lab']} --instance {item['instance']})"
        owner = f", class {item['owner']}" if item["owner"] else ""
        table = Table("host", "role", "state", "mgmt", "pid",
                      title=f"{item['instance']} (lab {item['lab']}, trainee {item['trainee'] or '-'}, "
                            f"seed {item['seed']}{owner}){stale}")
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
@click.argument("action", type=click.Choice(["build", "status"]), default="status")
@json_option
def image(action: str, as_json: bool) -> None:
    """The virtual hosts' root file system: build it (once, then when the labs' packages change), or say what it holds."""
    from .virtual import image as images
    from .virtual.lab import require_root, running_instances, load_instance_state

    require_root()
    if action == "build":
        spec = images.build(log=out.print)
        in_use = {spec.id} | {Path(load_instance_state(i).rootfs).parent.name for i in running_instances()}
        images.prune(in_use, log=out.print)
    spec = images.image_spec(ids=images.id_range())
    info = images.installed(spec)
    if as_json:
        click.echo(json.dumps({"id": spec.id, "built": spec.built(), "path": str(spec.rootfs),
                               "packages": list(spec.packages), **info}, indent=2))
    elif info:
        out.print(f"image {spec.id}: {spec.suite}, {len(spec.packages)} packages, {info['bytes'] / 2**20:.0f} MiB, "
                  f"built in {info['seconds']} s; hosts' root is uid {spec.ids.uid} on this machine ({spec.rootfs})")
    else:
        raise UserError(f"image {spec.id} is not built: tspcr-lab image build (make setup does it)")


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
    _provision([(target, generate(lab, target.seed))], deploy)
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
    from .sheet import render_instructions

    out.print(Text(f"{lab.title_in(lang)} (seed {seed})", style="bold"))
    out.print(Text(render_instructions(lab, lab_params.params, lang)))


@cli.command()
@click.argument("lab_name", metavar="LAB")
@click.option("--class", "class_file", type=click.Path(dir_okay=False), required=True,
              help="The class file (TOML or CSV).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for the sheets (one HTML file per trainee).")
@click.option("--seed", type=int, help="The exam's seed (default: the class file's).")
@lang_option
@key_option
def sheet(lab_name: str, class_file: str, out_dir: Path, seed: int | None, lang: str, key_file: str | None) -> None:
    """Write each trainee's printable instruction sheet, with their own parameters and their access
    code to the portal (tspcr-lab serve); DIR/access.csv lists the codes for the instructor."""
    from .evidence import load_key
    from .params import generate
    from .portal.access import access_code
    from .sheet import access_csv, sheet_html

    lab, classroom = _lab(lab_name), _class(class_file)
    key = load_key(key_file, create=True)
    exam_seed = classroom.seed if seed is None else seed
    if exam_seed is None:
        raise UserError(f"class {classroom.path}: no exam seed (set [class] seed or pass --seed)")
    out_dir.mkdir(parents=True, exist_ok=True)
    codes = {}
    for trainee in classroom.trainees:
        lab_params = generate(lab, classroom.seed_of(trainee, exam_seed))
        codes[trainee.id] = access_code(key, lab.id, exam_seed, trainee.id)
        path = out_dir / f"{trainee.id}.html"
        path.write_text(sheet_html(lab, trainee, lab_params.params, lang, class_name=classroom.name,
                                   access=codes[trainee.id]), encoding="utf-8")
    access = out_dir / "access.csv"
    fd = os.open(access, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        f.write(access_csv(classroom.trainees, codes))
    out.print(f"{len(classroom.trainees)} sheets written to {out_dir}; access codes in {access}")


@cli.command()
@click.argument("lab_name", metavar="LAB")
@click.option("--class", "class_file", type=click.Path(dir_okay=False),
              help="The class file: one access per trainee to their own copy (default: the single instance).")
@instance_option
@click.option("--seed", type=int, help="The exam's seed (default: the class file's).")
@click.option("--exam", is_flag=True, help="Exam: no self-check, no hint, a clock; graded into --out when time is up.")
@click.option("--duration", type=click.FloatRange(min=1, max=24 * 60), help="Length of the exam, in minutes.")
@click.option("--listen", default="127.0.0.1:8080", show_default=True, help="ADDRESS:PORT to serve on (only that one).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the grades (as grade --out): needed by --exam and by 'grade now'.")
@click.option("--ssh-port", type=click.IntRange(1, 65535), help="Also serve an SSH endpoint on this port.")
@click.option("--cert", type=click.Path(dir_okay=False, exists=True), help="TLS certificate (PEM) for HTTPS.")
@click.option("--key", "tls_key", type=click.Path(dir_okay=False, exists=True), help="TLS private key (PEM) of --cert.")
@click.option("--signing-key", "key_file", type=click.Path(dir_okay=False),
              help="The examiner's key, which access codes derive from (default: ~/.config/tspcr-lab/exam.key; "
                   "sheet --key and grade --key take the same).")
@click.option("--trusted-proxy", default="", metavar="ADDRESS",
              help="A reverse proxy's IP address: its X-Forwarded-For/-Proto are believed (rate limits, cookies).")
@lang_option
def serve(lab_name: str, class_file: str | None, instance: str | None, seed: int | None, exam: bool,
          duration: float | None, listen: str, out_dir: Path | None, ssh_port: int | None, cert: str | None,
          tls_key: str | None, key_file: str | None, trusted_proxy: str, lang: str) -> None:
    """Serve the lab to trainees' browsers: access codes, a terminal per host, self-check, exam clock,
    and the instructor's live view at /instructor."""
    from .evidence import load_key
    from .portal.server import Listen, serve as run, tls_context
    from .portal.service import Settings
    from .virtual.lab import STATE_ROOT, require_root

    require_root()
    lab = _lab(lab_name)
    where = Listen.parse(listen)
    tls = tls_context(cert, tls_key)
    settings = Settings(lab=lab, classroom=_class(class_file) if class_file else None, instance=instance,
                        exam=exam, duration_minutes=duration or 0, out_dir=out_dir.resolve() if out_dir else None,
                        key=load_key(key_file, create=True), key_file=key_file, exam_seed=seed, lang=lang)

    def announce(portal, url: str, ssh: str | None) -> None:
        mode = f"exam of {duration:g} min" if exam else "practice"
        out.print(f"serving {lab.id} ({mode}) to {len(portal.seats)} trainees at {url}")
        if ssh:
            out.print(f"SSH endpoint: {ssh} (the access code as password)")
        out.print(f"instructor: {url}instructor  code {portal.instructor_code}")
        if not class_file:
            seat = next(iter(portal.seats.values()))
            out.print(f"trainee: {seat.trainee.id}  code {seat.code}")
        out.print(f"terminal recordings: {portal.recordings.root} (grade --recordings takes this folder)")
        out.print("stop with Ctrl+C (the labs stay up; serve again to go on)")

    run(settings, where, tls=tls, ssh_port=ssh_port, state_dir=STATE_ROOT / "portal", announce=announce,
        trusted_proxy=trusted_proxy)


def _run(lab_name: str, lang: str, out_dir: Path | None, verbose: bool, **options):
    from .runner import run_checks

    lab = _check_target(lab_name, options)
    return lab, run_checks(lab, out_dir=out_dir, lang=lang, verbose=verbose, **options)


def _check_target(lab_name: str, options: dict):
    """Bad input (unknown lab instance, broken inventory, no seed) is said here, on one line,
    before any check runs; what goes wrong later, host by host, becomes *error* checks."""
    from .targets import resolve_target

    lab = _lab(lab_name)
    resolve_target(lab, instance=options.get("instance"), inventory=options.get("inventory"),
                   station=options.get("station"), seed=options.get("seed"), trainee=options.get("trainee"))
    return lab


def _summary(lab, results: dict, lang: str, hints: bool, exam: bool = False) -> None:
    from .classreport import check_name

    table = Table(t("result", lang), t("check", lang), t("competency", lang), t("points", lang), t("message", lang))
    for check in results["checks"]:
        text = check.get("public", "") if exam else check["message"]
        message = Text(text)
        if hints and check["hint"]:
            message.append(f"\n{t('hint', lang)} : {check['hint']}", style="cyan")
        name = check_name(check, lang)
        table.add_row(Text(t(check["status"], lang), style=STATUS_STYLE.get(check["status"], "")),
                      Text(name), check["competency"], f"{check['earned']:g}/{check['points']:g}", message)
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
        if results["counts"]["error"]:
            out.print(Text(t("grade_incomplete", lang, n=results["counts"]["error"]), style="yellow"))
        if results["counts"].get("pending"):
            out.print(Text(t("grade_pending", lang, n=results["counts"]["pending"]), style="yellow"))


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
              help="Folder for the reports, results.json and evidence (with --class: one sub-folder per trainee).")
@run_options
@class_option
@click.option("--exam", is_flag=True, help="Exam: what the trainee may see (trainee.html, this summary) has no "
              "hint and no expected value; report.html, the examiner's, keeps them.")
@click.option("--marks", type=click.Path(dir_okay=False), help="The examiner's marks of manual items (CSV or TOML).")
@click.option("--rubric", multiple=True, type=click.Path(dir_okay=False),
              help="A rubric file of manual items to add to the lab's own (repeatable).")
@key_option
@click.option("--workers", type=click.IntRange(1, 64), help="With --class: trainees graded at once.")
@click.option("--recordings", "recordings", type=click.Path(file_okay=False, path_type=Path),
              help="The portal's terminal recordings of this session (serve prints the folder; one sub-folder per "
                   "trainee id): each trainee's copied into their results (recordings/, with replay.html), listed "
                   "in results.json and linked from the reports.")
def grade(lab_name: str, out_dir: Path, instance, inventory, seed, trainee, lang: str, verbose: bool,
          class_file: str | None, exam: bool, marks: str | None, rubric: tuple[str, ...], key_file: str | None,
          workers: int | None, recordings: Path | None) -> None:
    """Grade LAB: reports, results.json, evidence and a signature in DIR, and a summary."""
    from .evidence import load_key
    from .grading import GradeOptions, Job, grade_one
    from .rubric import items_for, load_marks

    t0 = time.monotonic()
    lab = _lab(lab_name)
    # Bad input (class file, marks, target, key) is said before any check runs.
    classroom = _class(class_file) if class_file else None
    if marks:
        load_marks(marks, items_for(lab, rubric))
    target = {"instance": instance, "inventory": inventory, "seed": seed, "trainee": trainee}
    if classroom is None:
        _check_target(lab_name, target)
    elif not inventory:
        from .virtual.lab import require_root

        require_root()
    options = GradeOptions(lang=lang, exam=exam, marks=marks, rubric=rubric, key=load_key(key_file, create=True),
                           recordings=recordings.resolve() if recordings else None)
    if classroom is not None:
        _grade_class(lab, classroom, out_dir, options, seed, inventory, workers, t0)
        return
    results = grade_one(lab, Job(None, out_dir, target), options, verbose=verbose)
    _summary(lab, results, lang, hints=False, exam=exam)
    out.print(t("report_written", lang, path=out_dir / "report.html") + f" ({time.monotonic() - t0:.2f} s)")
    sys.exit(_exit_code(results))


def _grade_class(lab, classroom, out_dir: Path, options, seed, inventory, workers, t0: float) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .grading import grade_class
    from .scoring import exit_status_of

    lang = options.lang
    n = len(classroom.trainees)
    collected: dict[str, int] = {}
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=out, transient=False) as progress:
        task = progress.add_task(f"{lab.id}: {n} {t('trainees', lang)}", total=None)
        graded = progress.add_task(t("trainees", lang), total=n)

        def on_event(kind: str, trainee_id: str, value) -> None:
            if kind == "collected":
                collected[trainee_id] = value
                average = sum(collected.values()) / len(collected)
                progress.update(task, total=int(sum(collected.values()) + average * (n - len(collected))))
            elif kind == "check":
                progress.advance(task)
            elif kind == "done":
                progress.advance(graded)

        rows = grade_class(lab, classroom, out_dir, options, exam_seed=seed, inventory=inventory,
                           workers=workers, on_event=on_event)
    table = Table("id", t("trainee", lang), t("score", lang), t("result", lang))
    complete, failed = True, 0
    for row in rows:
        results = row["results"]
        if results is None:
            complete = False
            table.add_row(row["trainee"].id, Text(row["trainee"].name), "-", Text(row["error"], style="yellow"))
            continue
        complete = complete and results["complete"]
        failed += results["counts"]["failed"]
        mastered = sum(1 for c in results["competencies"].values() if c["mastered"])
        state = f"{mastered}/{len(results['competencies'])} {t('mastered', lang)}"
        if not results["complete"]:
            state += f" ({t('incomplete', lang)})"
        table.add_row(row["trainee"].id, Text(row["trainee"].name),
                      f"{results['score']:g} / {results['max_score']:g}",
                      Text(state, style="green" if results["complete"] else "yellow"))
    out.print(table)
    out.print(t("report_written", lang, path=out_dir / "class.html") + f" ({time.monotonic() - t0:.2f} s)")
    sys.exit(exit_status_of(complete, failed))


@cli.command()
@click.argument("lab_name", metavar="LAB")
@click.option("--seed", type=int, default=4242, show_default=True, help="Seed of the copies' parameters.")
@click.option("--copies", type=click.IntRange(1, 8), default=2, show_default=True,
              help="Copies of the lab the cases are spread over (run side by side).")
@click.option("--only", multiple=True, help="Run only this fault or alternative (repeatable).")
@json_option
@lang_option
def selftest(lab_name: str, seed: int, copies: int, only: tuple[str, ...], as_json: bool, lang: str) -> None:
    """Check that LAB grades what it says: the untouched lab does not score the maximum, its
    solution does, each fault of labs/LAB/faults.toml fails exactly its checks (and only its
    competency loses points), each alternative keeps the maximum."""
    from .labfile import load_cases
    from .selftest import run_selftest
    from .virtual.lab import require_root

    require_root()
    lab = _lab(lab_name)
    titles = {case.id: case.title_in(lang) for case in load_cases(lab)}
    t0 = time.monotonic()

    def show(outcome) -> None:
        if as_json:
            return
        mark = Text("ok  ", style="green") if outcome.ok else Text("FAIL", style="red")
        line = Text.assemble(mark, f" {outcome.kind:11s} {outcome.case}: {titles.get(outcome.case, '')}".rstrip(": "),
                             f"  ({outcome.score:g}/{outcome.max_score:g}, {outcome.seconds:.1f} s)")
        out.print(line)
        for problem in outcome.problems:
            out.print(Text(f"      {problem}", style="red"))

    outcomes = run_selftest(lab, seed=seed, copies=copies, only=only, on_outcome=show)
    bad = [o for o in outcomes if not o.ok]
    kinds = [o.kind for o in outcomes]
    summary = (f"selftest {lab.id}: {kinds.count('fault')} faults, {kinds.count('alternative')} alternatives; "
               f"{'all as expected' if not bad else f'{len(bad)} not as expected'} in {time.monotonic() - t0:.1f} s")
    if as_json:
        click.echo(json.dumps({"lab": lab.id, "ok": not bad, "outcomes": [o.to_json() for o in outcomes]}, indent=2))
    else:
        out.print(Text(summary, style="red" if bad else "green"))
    sys.exit(ExitStatus.CHECKS_FAILED if bad else ExitStatus.OK)


@cli.command()
@click.argument("lab_name", metavar="LAB")
@class_option
@click.option("--seed", type=int, help="The exam's seed (default: the class file's).")
@click.option("--copies", type=click.IntRange(1, 8), default=2, show_default=True,
              help="Copies of the lab the trainees are spread over (run side by side).")
@click.option("--trainee", "only", multiple=True, help="Only this trainee (an id of the class; repeatable).")
@json_option
def variants(lab_name: str, class_file: str | None, seed: int | None, copies: int, only: tuple[str, ...],
             as_json: bool) -> None:
    """Prove every trainee's faults before the exam (a troubleshooting lab), on copies of the lab:
    injected, each ticket's symptom and cause fail; each workaround hides the symptom and leaves the
    cause; the reference repair gets the maximum."""
    from .variants import prove_class
    from .virtual.lab import require_root

    if not class_file:
        raise UserError("variants needs the class: --class FILE")
    require_root()
    lab = _lab(lab_name)
    classroom = _class(class_file)
    chosen = [tr for tr in classroom.trainees if not only or tr.id in only]
    unknown = set(only) - {tr.id for tr in classroom.trainees}
    if unknown:
        raise UserError(f"class {class_file}: no trainee {', '.join(sorted(unknown))}")
    trainees = [(tr.name or tr.id, classroom.seed_of(tr, seed)) for tr in chosen]
    t0 = time.monotonic()

    def show(proof) -> None:
        if as_json:
            return
        mark = Text("ok  ", style="green") if proof.ok else Text("FAIL", style="red")
        out.print(Text.assemble(mark, f" {proof.trainee} (seed {proof.seed}): {', '.join(proof.faults)}; "
                                      f"difficulty {proof.difficulty}, {len(proof.cases)} cases, {proof.seconds:.0f} s"))
        for case in proof.cases:
            for problem in case.problems:
                out.print(Text(f"      {case.case}: {problem}", style="red"))

    proofs = prove_class(lab, trainees, copies=copies, on_proof=show)
    bad = [p for p in proofs if not p.ok]
    seconds = time.monotonic() - t0
    if as_json:
        click.echo(json.dumps({"lab": lab.id, "ok": not bad, "seconds": round(seconds, 1),
                               "proofs": [p.to_json() for p in proofs]}, indent=2))
    else:
        spread = sorted({p.difficulty for p in proofs})
        out.print(Text(f"variants {lab.id}: {len(proofs)} trainees, {len({tuple(sorted(p.faults)) for p in proofs})} "
                       f"distinct sets, difficulty {spread[0]}-{spread[-1]}; "
                       f"{'all proven' if not bad else f'{len(bad)} not as expected'} in {seconds:.0f} s",
                       style="red" if bad else "green"))
    sys.exit(ExitStatus.CHECKS_FAILED if bad else ExitStatus.OK)


@cli.command()
@click.argument("lab_name", metavar="LAB")
@click.option("--inventory", type=click.Path(dir_okay=False), required=True,
              help="The real lab's inventory, which declares its network devices (device_type...).")
@click.option("--seed", type=int, required=True, help="The trainee's seed (fills the baselines' placeholders).")
@click.option("--station", help="The trainee's station: a group of the inventory (as in a class).")
@click.option("--host", "only", multiple=True, help="Only this device (repeatable; default: every device with a baseline).")
@click.option("--reset", is_flag=True, help="Bring each device back to exactly its baseline (removes what differs), "
              "e.g. between two candidates; without it, push the baseline (add what is missing).")
@click.option("--save", is_flag=True, help="Then save the configuration (write memory).")
@click.option("--dry-run", is_flag=True, help="Only say what would change: read the devices, change nothing.")
def baseline(lab_name: str, inventory: str, seed: int, station: str | None, only: tuple[str, ...], reset: bool,
             save: bool, dry_run: bool) -> None:
    """Push LAB's baseline configurations (labs/LAB/baseline/HOST.cfg) to its network devices with
    netmiko, or --reset them to it; print what changed on each device. Exit code 3 when a device
    could not be reached (the others are done)."""
    from .devices import baseline as baselines
    from .devices.declared import declared_devices, open_device
    from .errors import CommandTimeout, HostUnreachable
    from .params import generate
    from .targets import inventory_target

    lab = _lab(lab_name)
    target = inventory_target(lab, inventory, seed, "", station)
    devices = declared_devices(target)
    with_baseline = baselines.baseline_hosts(lab)
    if not with_baseline:
        raise UserError(f"lab {lab.id} has no baseline ({baselines.baseline_file(lab, 'HOST').relative_to(lab.path)})")
    for name in only:
        if name not in lab.hosts:
            raise UserError(f"--host {name}: lab {lab.id} has no host {name} (hosts: {', '.join(lab.hosts)})")
        if name not in with_baseline:
            raise UserError(f"--host {name}: no baseline for it ({baselines.baseline_file(lab, name)})")
        if name not in devices:
            raise UserError(f"--host {name}: not a network device in {inventory} (no device_type)")
    hosts = [name for name in with_baseline if name in devices and (not only or name in only)]
    if not hosts:
        raise UserError(f"{inventory}: none of the hosts with a baseline ({', '.join(with_baseline)}) "
                        f"is a network device (device_type)")
    lab_params = generate(lab, seed)
    values = {"params": lab_params.params, "expected": lab_params.expected}
    texts = {name: baselines.load_baseline(lab, name, values) for name in hosts}  # bad files said first
    action = baselines.reset if reset else baselines.push
    unreachable = []
    for name in hosts:
        spec = devices[name]
        secrets = tuple(s for s in (spec.password.read(), spec.secret.read() if spec.secret else "") if s)
        try:
            outcome = action(lambda n=name: open_device(target, n), texts[name], save=save, dry_run=dry_run,
                             secrets=secrets)
        except (HostUnreachable, CommandTimeout) as exc:  # also a refused login; the other devices are done
            _error(str(exc))
            unreachable.append(name)
            continue
        verb = ("would " if dry_run else "") + ("reset" if reset else "push")
        if not outcome.steps:
            state = "already matches its baseline" if reset else "already holds its baseline"
            out.print(f"{name}: {state}" + (", saved" if outcome.saved else "") + f" ({outcome.seconds:.2f} s)")
            continue
        out.print(f"{name}: {verb}: {outcome.removed} lines removed, {outcome.added} added"
                  + (", saved" if outcome.saved else "") + f" ({outcome.seconds:.2f} s)")
        for line in baselines.shown(outcome.steps):
            out.print(Text("  " + line))
    if unreachable:
        _error(f"not reached: {', '.join(unreachable)}")
        sys.exit(ExitStatus.INCOMPLETE)


@cli.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@key_option
def verify(folder: Path, key_file: str | None) -> None:
    """Tell whether a graded results folder (a trainee's or a class's) was altered after grading:
    its files, and who it holds the grade of (a trainee folder renamed, swapped, removed, added)."""
    from .evidence import load_key, verify as verify_folder

    verdicts = verify_folder(folder, load_key(key_file, create=False))
    for verdict in verdicts:
        name = str(verdict.folder)
        if verdict.intact:
            out.print(Text(f"{name}: intact" + (f" ({verdict.note})" if verdict.note else ""), style="green"))
        else:
            for problem in verdict.problems:
                click.echo(f"{name}: ALTERED: {problem}")
    sys.exit(ExitStatus.OK if all(v.intact for v in verdicts) else ExitStatus.CHECKS_FAILED)


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
