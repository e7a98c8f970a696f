"""The `seedance-desktop` command: the window by default, headless subcommands otherwise."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from seedance_desktop import __version__
from seedance_desktop.domain.endpoints import Mode

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seedance-desktop",
        usage="%(prog)s [FILE ...] | COMMAND ...",
        description="Make videos with ByteDance Seedance 2.0 on fal. With no command, opens the "
        "window (FILEs go into compose; if the window is already open on this library, it comes "
        "to the front and takes them); with no fal key, everything runs on the bundled simulator.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    generate = commands.add_parser(
        "generate",
        help="make one video (or check it with --dry-run)",
        description="Make one video. --image is the start frame in image-to-video and a "
        "reference image in reference-to-video.",
    )
    add_shot_arguments(generate)
    generate.add_argument("--out", metavar="PATH", help="where to save the video")
    generate.add_argument(
        "--dry-run",
        action="store_true",
        help="check everything locally, with no network, and show what would be sent",
    )
    generate.add_argument("--json", action="store_true", help="print one JSON object")

    from seedance_desktop.cli import batch, library, queue, sequence
    from seedance_desktop.simulator import cli as simulator_cli

    queue.add_arguments(commands.add_parser("queue", help="the persisted job queue"))
    library.add_arguments(commands.add_parser("library", help="past results"))
    batch.add_arguments(commands.add_parser("batch", help="queue one shot per line of a file"))
    sequence.add_arguments(commands.add_parser("sequence", help="shots joined into a scene"))
    simulator_cli.add_arguments(
        commands.add_parser("simulator", help="run the bundled fal-compatible simulator server")
    )
    return parser


def add_shot_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--mode", required=True, choices=[m.value for m in Mode], help="what the shot starts from"
    )
    parser.add_argument("--fast", action="store_true", help="the fast tier: quicker and cheaper")
    parser.add_argument("--prompt", required=True, metavar="TEXT")
    parser.add_argument("--image", action="append", default=[], metavar="PATH_OR_URL")
    parser.add_argument("--end-image", metavar="PATH_OR_URL", help="image-to-video end frame")
    parser.add_argument(
        "--video",
        action="append",
        default=[],
        metavar="PATH_OR_URL",
        help="a reference video; PATH#t=3,9 uses (and fits) seconds 3 to 9",
    )
    parser.add_argument(
        "--audio",
        action="append",
        default=[],
        metavar="PATH_OR_URL",
        help="reference audio; PATH#t=3,9 uses (and fits) seconds 3 to 9",
    )
    parser.add_argument("--resolution", metavar="R", help="480p or 720p (default 720p)")
    parser.add_argument("--duration", metavar="D", help="auto or 4 to 15 seconds (default auto)")
    parser.add_argument("--aspect-ratio", metavar="A", help="auto, 21:9, 16:9, 4:3, 1:1, 3:4, 9:16")
    parser.add_argument("--no-audio", action="store_true", help="no generated sound")
    parser.add_argument("--seed", type=int, metavar="N")
    parser.add_argument("--end-user-id", metavar="ID")
    add_fit_argument(parser)


def add_fit_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fit",
        action="store_true",
        help="fit local references that break fal's limits (trim, scale, convert; the "
        "originals are never changed)",
    )


COMMANDS = ("generate", "queue", "library", "batch", "sequence", "simulator")


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command. A reader that stops early (`... | head`) ends the command quietly, with
    exit 0: whoever closed the pipe has what they wanted."""
    try:
        code = _run_command(argv)
        sys.stdout.flush()  # a closed pipe shows here, not at exit where it cannot be caught
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_OK
    return code


def _discard_stdout() -> None:
    """Point stdout at the null device, so the flush at interpreter exit has nowhere to fail."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _run_command(argv: Sequence[str] | None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    if words and not words[0].startswith("-") and words[0] not in COMMANDS:
        return _open_window_with(words)
    args = build_parser().parse_args(words)
    if args.command is None:
        from seedance_desktop.app import run_window

        return run_window()
    if args.command == "generate":
        from seedance_desktop.cli import generate

        return generate.run(args)
    if args.command == "simulator":
        from seedance_desktop.simulator import cli as simulator_cli

        return simulator_cli.run_from_args(args)
    from seedance_desktop.cli import batch, library, queue, sequence

    commands = {"queue": queue, "library": library, "batch": batch, "sequence": sequence}
    return commands[args.command].run_from_args(args)


def _open_window_with(files: list[str]) -> int:
    """`seedance-desktop FILE…`: the window with these files in compose (handed to the window
    already open on this library, if there is one)."""
    missing = [f for f in files if not Path(f).exists()]
    if missing:
        print(
            f"seedance-desktop: {missing[0]} is neither a command ({', '.join(COMMANDS)}) nor a "
            "file.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from seedance_desktop.app import run_window

    return run_window(files=files)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
