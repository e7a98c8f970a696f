"""`seedance-desktop library`: list and search results, export them, continue a shot."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from seedance_desktop.cli.main import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from seedance_desktop.domain.endpoints import Mode
from seedance_desktop.engine.database import Database, DatabaseError
from seedance_desktop.engine.library import (
    DEFAULT_TEMPLATE,
    ExportItem,
    Library,
    LibraryFilter,
    TemplateError,
    export_files,
    export_name,
    sidecar,
)
from seedance_desktop.paths import app_paths


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="past results, newest first")
    listing.add_argument("--search", metavar="WORDS", help="words of the prompt")
    listing.add_argument("--mode", choices=[m.value for m in Mode])
    listing.add_argument("--starred", action="store_true")
    listing.add_argument("--json", action="store_true", help="one JSON array")
    export = actions.add_parser("export", help="copy results to a folder")
    export.add_argument("job_ids", type=int, nargs="+", metavar="ID")
    export.add_argument("--to", required=True, metavar="FOLDER")
    export.add_argument("--template", default=DEFAULT_TEMPLATE, help="e.g. {date}_{mode}_{seed}")
    export.add_argument("--sidecar", action="store_true", help="a JSON file of the settings too")
    for name, text in (("star", "star a result"), ("unstar", "remove a star")):
        actions.add_parser(name, help=text).add_argument("job_id", type=int)


def run_from_args(args: argparse.Namespace) -> int:
    paths = app_paths().ensure()
    try:
        # Listing and exporting only read: beside a running window, without disturbing it.
        db = (
            Database.open(paths.database)
            if args.action in ("star", "unstar")
            else Database.open_read_only(paths.database)
        )
    except DatabaseError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_FAILED
    if db is None:
        return _nothing_yet(args)
    try:
        library = Library(db)
        if args.action == "list":
            return _list(library, args)
        if args.action in ("star", "unstar"):
            if library.get(args.job_id) is None:
                print(f"There is no result {args.job_id} in the library.", file=sys.stderr)
                return EXIT_USAGE
            library.star(args.job_id, args.action == "star")
            return EXIT_OK
        return _export(library, args)
    finally:
        db.close()


def _nothing_yet(args: argparse.Namespace) -> int:
    """No database yet: nothing was ever made here."""
    if args.action == "list":
        if args.json:
            print("[]")
        else:
            print("Nothing in the library matches.")
        return EXIT_OK
    print(f"There is no result {args.job_ids[0]} in the library.", file=sys.stderr)
    return EXIT_USAGE


def _list(library: Library, args: argparse.Namespace) -> int:
    where = LibraryFilter(
        search=args.search,
        mode=Mode(args.mode) if args.mode else None,
        starred=True if args.starred else None,
    )
    entries = library.list(where)
    if args.json:
        json.dump([e.to_json() for e in entries], sys.stdout, indent=2)
        print()
        return EXIT_OK
    for e in entries:
        star = "*" if e.starred else " "
        print(f"{e.job_id:>5}{star} {e.mode.value:<19} seed {e.seed!s:<11} {e.prompt[:50]}")
    if not entries:
        print("Nothing in the library matches.")
    return EXIT_OK


def _export(library: Library, args: argparse.Namespace) -> int:
    items = []
    for job_id in args.job_ids:
        entry = library.get(job_id)
        if entry is None:
            print(f"There is no result {job_id} in the library.", file=sys.stderr)
            return EXIT_USAGE
        try:
            name = export_name(entry, args.template)
        except TemplateError as exc:
            print(str(exc), file=sys.stderr)
            return EXIT_USAGE
        extra = sidecar(entry, library.references(job_id)) if args.sidecar else None
        items.append(ExportItem(entry.path, name, extra))
    try:
        written = export_files(items, Path(args.to))
    except OSError as exc:
        print(f"Export stopped: {exc.strerror or exc}. Nothing was overwritten.", file=sys.stderr)
        return EXIT_FAILED
    for path in written:
        print(path)
    return EXIT_OK
