"""Entry point of the ``cnnlab`` command.

Each subcommand is a module in this package defining ``NAME``, ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``; modules are found automatically, so adding a
subcommand never edits this file. Bad input (any ``ValueError``) becomes one line on stderr and
exit code 2; no traceback. Library errors name the argument (``lr must be ...``); when the
subcommand has a flag of that name (``--lr``), the message names the flag instead. Ctrl-C at
any moment, even while the parser still imports torch, is one line and exit code 130 (a
``KeyboardInterrupt`` carrying ``signum``, as a second SIGTERM raises, exits ``128 + signum``).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import signal
import sys
from collections.abc import Sequence
from types import ModuleType

import cnnlab
import cnnlab.cli
from cnnlab.core.validate import InvalidArgument

_NOT_COMMANDS = {"main", "common"}


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors as one line (``cnnlab train: error: ...``) and exits 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def _commands() -> dict[str, ModuleType]:
    found: dict[str, ModuleType] = {}
    for info in pkgutil.iter_modules(cnnlab.cli.__path__):
        if info.name.startswith("_") or info.name in _NOT_COMMANDS:
            continue
        module = importlib.import_module(f"cnnlab.cli.{info.name}")
        found[module.NAME] = module
    return dict(sorted(found.items()))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="cnnlab",
        description="cnnlab: CNNs for computer vision, from the notes to running code.",
    )
    parser.add_argument("--version", action="version", version=f"cnnlab {cnnlab.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name, module in _commands().items():
        p = sub.add_parser(name, help=module.HELP, description=module.__doc__)
        module.add_arguments(p)
        p.set_defaults(_run=module.run, _parser=p)
    return parser


def as_flag(err: ValueError, parser: argparse.ArgumentParser) -> ValueError:
    """``err`` with its argument name replaced by the matching flag of ``parser`` (``--lr``)."""
    if not isinstance(err, InvalidArgument):
        return err
    flag = "--" + err.argument.replace("_", "-")
    if flag in parser._option_string_actions:
        return err.renamed(flag)
    return err


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Known before parsing, for a Ctrl-C while build_parser still imports torch.
    command = next((a for a in argv if not a.startswith("-")), "")
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        command = args.command
        try:
            return int(args._run(args) or 0)
        except ValueError as err:
            message = " ".join(str(as_flag(err, args._parser)).split())
            print(f"cnnlab {command}: error: {message}", file=sys.stderr)
            return 2
    except KeyboardInterrupt as err:  # Ctrl-C, or a second stop signal (with its .signum)
        signum = getattr(err, "signum", signal.SIGINT)
        what = "interrupted" if signum == signal.SIGINT else "terminated"
        print(f"cnnlab {command}: {what}" if command else f"cnnlab: {what}", file=sys.stderr)
        return 128 + signum


if __name__ == "__main__":
    raise SystemExit(main())
