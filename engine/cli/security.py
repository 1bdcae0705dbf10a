"""`enclave workspace …`, `audit …`, `export-open`, and the handlers of `data purge-raw` and
`data plant-canaries` (registered with the data group):
privacy at rest from the command line.

A passphrase comes from ``--passphrase-file FILE`` (its first line) or from a prompt that
does not echo; never from an environment variable or an argument, which shell history and
the process list would keep.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from engine import paths
from engine.cli.errors import CommandError
from engine.cli.parser import add_command as add
from engine.cli.workspace import find_project, open_workspace
from engine.data.canaries import plant
from engine.data.purge import PurgeRefused
from engine.data.purge import purge_raw as purge
from engine.store import audit, encryption, jobs, keys

ARCHIVE_PASSPHRASE_FILE = (("--archive-passphrase-file",), {
    "metavar": "FILE", "help": "read the archive's passphrase from FILE (default: ask)"})
NEW_PASSPHRASE_FILE = (("--new-passphrase-file",), {"metavar": "FILE", "help": "read the new "
                       "passphrase from FILE (default: ask twice)"})


def passphrase(file: str | None, prompt: str, *, confirm: bool = False) -> str:
    """A passphrase from a file or a prompt without echo.

    Raises:
        CommandError: when neither is possible or the two answers differ.
    """
    if file:
        try:
            return keys.read_passphrase_file(Path(file))
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
    if not sys.stdin.isatty():
        raise CommandError("A passphrase is needed: give --passphrase-file FILE (no terminal "
                           "to ask on).")
    first = getpass.getpass(prompt)
    if confirm and getpass.getpass("Once more: ") != first:
        raise CommandError("The two passphrases differ; nothing was changed.")
    if not first:
        raise CommandError("The passphrase is empty; nothing was changed.")
    return first


def unlock(file: str | None) -> None:
    """Hold the workspace key when the workspace is encrypted (asks when needed).

    Raises:
        CommandError: on a wrong passphrase (exit code 2; nothing changed).
    """

    path = paths.workspace_db()
    if not keys.is_encrypted(path) or keys.key_for(path) is not None:
        return
    try:
        encryption.unlock(path, passphrase(file, "Workspace passphrase: "))
    except encryption.WrongPassphrase as exc:
        raise CommandError(str(exc), exit_code=2) from exc


def register(sub) -> None:
    """Add `workspace`, `audit` and `export-open`, and two `data` subcommands."""
    workspace = sub.add_parser("workspace", help="encrypt the workspace or change its "
                               "passphrase", description="Encryption of the workspace.")
    leaves = workspace.add_subparsers(dest="workspace_command", required=True,
                                      metavar="SUBCOMMAND")
    add(leaves, "status", "say whether the workspace is encrypted", status
        ).set_defaults(handles_key=True)
    add(leaves, "encrypt", "encrypt the workspace in place (SQLCipher 4) after a backup",
        encrypt, NEW_PASSPHRASE_FILE).set_defaults(handles_key=True)
    add(leaves, "rekey", "change the workspace passphrase (the current one from "
        "--passphrase-file before the command, or asked)", rekey, NEW_PASSPHRASE_FILE
        ).set_defaults(handles_key=True)
    audit = sub.add_parser("audit", help="check or list the audit trail",
                           description="The tamper-evident audit trail.")
    leaves = audit.add_subparsers(dest="audit_command", required=True, metavar="SUBCOMMAND")
    add(leaves, "verify", "check that no audit row was edited, inserted or deleted",
        audit_verify)
    add(leaves, "list", "list audit rows, newest first", audit_list,
        (("--project",), {"help": "project name or id"}), (("--user",), {}),
        (("--action",), {"help": "an action or its prefix (dataset, model.export ...)"}),
        (("--limit",), {"type": int, "default": 50}),
        (("--csv",), {"metavar": "OUT", "help": "write the rows to a CSV file"}))
    add(sub, "export-open", "open an encrypted export archive (.enclave-sealed)", export_open,
        (("archive",), {}), (("out",), {"help": "folder to open it into"}),
        ARCHIVE_PASSPHRASE_FILE)



def status(args: argparse.Namespace) -> dict:
    path = paths.workspace_db()
    encrypted = keys.is_encrypted(path)
    if not args.json:
        print(f"{path}: {'encrypted (SQLCipher 4, AES-256)' if encrypted else 'NOT encrypted'}")
    return {"ok": True, "path": str(path), "encrypted": encrypted}


def encrypt(args: argparse.Namespace) -> dict:

    path = paths.workspace_db()
    if keys.is_encrypted(path):
        raise CommandError(f"{path} is encrypted already; use `enclave workspace rekey`.")
    db = open_workspace()
    running = jobs.running_ids(db)
    db.conn.close()  # no connection of this process may stay open on the file it replaces
    if running:
        raise CommandError("Jobs are running; encrypt once they have finished.")
    new = passphrase(args.new_passphrase_file, "New passphrase: ", confirm=True)
    try:
        result = encryption.encrypt(path, new)
    except encryption.ConversionRefused as exc:
        raise CommandError(str(exc)) from exc

    audit.record(open_workspace(), "workspace.encrypt", "workspace", files=len(result["files"]))
    if not args.json:
        print(f"encrypted {len(result['files'])} file(s), {result['rows']} rows checked; "
              "the plain copies were overwritten and removed")
    return {"ok": True, **result}


def rekey(args: argparse.Namespace) -> dict:

    path = paths.workspace_db()
    old = passphrase(args.passphrase_file, "Current passphrase: ")
    new = passphrase(args.new_passphrase_file, "New passphrase: ", confirm=True)
    try:
        result = encryption.rekey(path, old, new)
    except encryption.WrongPassphrase as exc:
        raise CommandError(str(exc), exit_code=2) from exc
    except encryption.ConversionRefused as exc:
        raise CommandError(str(exc)) from exc
    audit.record(open_workspace(), "workspace.rekey", "workspace", files=len(result["files"]))
    if not args.json:
        print(f"passphrase changed on {len(result['files'])} file(s)")
    return {"ok": True, **result}


def audit_verify(args: argparse.Namespace) -> dict | int:

    db = open_workspace()
    problems, rows = audit.check(db)
    if not args.json:
        print(f"audit trail: {rows} rows, " + ("intact" if not problems else
                                                f"{len(problems)} problem(s):"))
        for item in problems:
            print(f"  row {item.row_id}: {item.problem}")
    if problems:
        raise CommandError(f"the audit trail was changed behind Enclave's back "
                           f"({len(problems)} problem(s))", exit_code=3)
    return {"ok": True, "rows": rows}


def audit_list(args: argparse.Namespace) -> dict:

    db = open_workspace()
    project = str(find_project(db, args.project)["id"]) if args.project else None
    rows = audit.entries(db, args.limit, project=project, user=args.user, action=args.action)
    if args.csv:
        audit.to_csv(rows, Path(args.csv))
    elif not args.json:
        for row in rows:
            print(f"{row['id']:>5} {row['time']} {row['actor']}@{row['host']} {row['action']} "
                  f"{row['object']} {row['outcome']}")
    return {"ok": True, "rows": rows}


def export_open(args: argparse.Namespace) -> dict:
    from engine.compress.sealed import SealError, open_archive

    phrase = passphrase(args.archive_passphrase_file, "Archive passphrase: ")
    try:
        folder = open_archive(Path(args.archive), Path(args.out), phrase)
    except (SealError, OSError) as exc:
        raise CommandError(str(exc)) from exc
    audit.record(open_workspace(), "model.export_open", str(folder))
    if not args.json:
        print(f"opened {args.archive} into {folder}")
    return {"ok": True, "folder": str(folder)}


def purge_raw(args: argparse.Namespace) -> dict:

    db = open_workspace()
    project = find_project(db, args.project)
    if not args.yes:
        if not sys.stdin.isatty():
            raise CommandError("purge-raw deletes the unredacted data for good: confirm "
                               "with --yes")
        answer = input(f"Delete the unredacted data of '{project['name']}' for good? "
                       "It cannot be undone. Type yes: ")
        if answer.strip().lower() != "yes":
            raise CommandError("Nothing was purged.")
    try:
        result = purge(db, project["id"])
    except PurgeRefused as exc:
        raise CommandError(str(exc)) from exc
    if not args.json:
        print(f"purged {len(result['versions'])} unredacted version(s) "
              f"({result['records']} records) and {result['quarantined']} quarantined raw "
              "line(s); counts, hashes and the audit trail stay")
    return {"ok": True, **result}


def plant_canaries(args: argparse.Namespace) -> dict:

    db = open_workspace()
    project = find_project(db, args.project)
    try:
        dataset_id = plant(db, project["id"], args.count, args.seed)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    if not args.json:
        print(f"new training version {dataset_id} with {args.count} canaries; train on it, "
              "then run `enclave eval RUN --privacy`")
    return {"ok": True, "dataset_id": dataset_id}
