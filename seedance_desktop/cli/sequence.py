"""`seedance-desktop sequence`: make sequences of library results, list them, export a film."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from seedance_desktop.cli.main import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from seedance_desktop.engine.database import Database, DatabaseError
from seedance_desktop.engine.library import Library
from seedance_desktop.engine.sequence_files import (
    ExportOptions,
    Fit,
    SequenceExportError,
    export_sequence,
    export_sequence_timeline,
)
from seedance_desktop.engine.sequences import SequenceError, Sequences
from seedance_desktop.media.sequence_export import ExportCancelled
from seedance_desktop.paths import app_paths


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    new = actions.add_parser("new", help="a sequence of library results, in order")
    new.add_argument("name")
    new.add_argument("job_ids", type=int, nargs="*", metavar="RESULT_ID")
    listing = actions.add_parser("list", help="every sequence with its shots")
    listing.add_argument("--json", action="store_true", help="one JSON array")
    export = actions.add_parser("export", help="one MP4 of the sequence, and a timeline")
    export.add_argument("name")
    export.add_argument("--to", required=True, metavar="FILM.mp4")
    export.add_argument(
        "--otio", metavar="CUT.otio", help="also a timeline for editors (.otio, .xml or .edl)"
    )
    export.add_argument("--fit", choices=[f.value for f in Fit], default=Fit.LETTERBOX.value)
    export.add_argument(
        "--crossfade", type=int, default=0, metavar="FRAMES", help="overlap shots (default 0)"
    )


def run_from_args(args: argparse.Namespace) -> int:
    paths = app_paths().ensure()
    try:
        # Only `new` writes; listing and exporting read, beside a running window.
        if args.action == "new":
            db: Database | None = Database.open(paths.database)
        else:
            db = Database.open_read_only(paths.database)
    except DatabaseError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_FAILED
    if db is None:  # nothing was ever made here
        if args.action == "list":
            print("[]" if args.json else "No sequences yet.")
            return EXIT_OK
        print(f"There is no sequence named “{args.name}”.", file=sys.stderr)
        return EXIT_USAGE
    try:
        sequences = Sequences(db, Library(db))
        if args.action == "new":
            return _new(sequences, args)
        if args.action == "list":
            return _list(sequences, args)
        return _export(sequences, args)
    finally:
        db.close()


def _new(sequences: Sequences, args: argparse.Namespace) -> int:
    try:
        made = sequences.create(args.name, list(args.job_ids))
    except SequenceError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    print(f"{made.name}: {len(made.shots)} shots, {made.duration_s:.2f} s")
    return EXIT_OK


def _list(sequences: Sequences, args: argparse.Namespace) -> int:
    every = sequences.all()
    if args.json:
        json.dump([s.to_json() for s in every], sys.stdout, indent=2, ensure_ascii=False)
        print()
        return EXIT_OK
    for sequence in every:
        print(f"{sequence.name}  ({len(sequence.shots)} shots, {sequence.duration_s:.2f} s)")
        for shot in sequence.shots:
            gone = "  [file gone]" if shot.missing else ""
            takes = f"  {len(shot.takes)} takes" if len(shot.takes) > 1 else ""
            print(
                f"  {shot.index + 1:>3}. result {shot.job_id:<5} "
                f"{shot.in_s:6.2f}–{shot.end_s:6.2f} s{takes}{gone}"
            )
    if not every:
        print("No sequences yet.")
    return EXIT_OK


def _export(sequences: Sequences, args: argparse.Namespace) -> int:
    sequence = sequences.named(args.name)
    if sequence is None:
        print(f"There is no sequence named “{args.name}”.", file=sys.stderr)
        return EXIT_USAGE
    if args.crossfade < 0:
        print("--crossfade is a number of frames, 0 or more.", file=sys.stderr)
        return EXIT_USAGE
    target = Path(args.to)
    if target.suffix.lower() != ".mp4":
        print(
            f"The film is an MP4: give --to a name ending in .mp4, not {target.name}.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    options = ExportOptions(fit=Fit(args.fit), crossfade_frames=args.crossfade)
    cancel = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.set())

    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty():
            print(f"\rExporting… {100 * done // max(total, 1)}%", end="", file=sys.stderr)

    try:
        report = export_sequence(sequence, target, options, progress, cancel)
        if sys.stderr.isatty():
            print(file=sys.stderr)
        timeline = export_sequence_timeline(sequence, Path(args.otio)) if args.otio else None
    except ExportCancelled as exc:
        print(f"\n{exc}", file=sys.stderr)
        return EXIT_FAILED
    except SequenceExportError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE if "gone" in str(exc) or "no shots" in str(exc) else EXIT_FAILED
    finally:
        signal.signal(signal.SIGINT, previous)
    for note in report.notes:
        print(f"Note: {note}", file=sys.stderr)
    print(f"{report.path}  ({report.width}×{report.height}, {report.duration_s:.2f} s)")
    if args.otio:
        print(f"{args.otio}  (with {len(timeline or [])} shot files beside it)")
    return EXIT_OK
