"""The `fem-assb` command line.

Each subcommand lives in its own module with `register(subparsers)`; heavy imports (DOLFINx,
gmsh, pyvista) happen inside the command so `--help` stays fast. Bad input raises
`InputError`, printed as one line on stderr (rank 0) with exit code 2.
"""
from __future__ import annotations

import argparse
import sys

from fem_assb import __version__
from fem_assb.errors import InputError, SolverError

#: commands registered by another command's module
MODULES = {"estimate-current": "conductivity", "report": "sweep"}
COMMANDS = ("info", "materials", "check", "structure", "mesh", "conductivity", "estimate-current", "run",
            "impedance", "p2d", "sweep", "report")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse's default prints usage too)
        _rank0_print(f"{self.prog}: error: {message} (see {self.prog} --help)")
        raise SystemExit(2)


def _rank0_print(msg: str) -> None:
    try:
        from mpi4py import MPI

        if MPI.COMM_WORLD.rank != 0:
            return
    except ImportError:  # pragma: no cover
        pass
    print(msg, file=sys.stderr, flush=True)


def build_parser() -> argparse.ArgumentParser:
    import importlib

    p = _Parser(
        prog="fem-assb",
        description="Microstructure-resolved finite-element simulation of all-solid-state battery "
                    "electrodes (DOLFINx). Run any command under `mpirun -n N` (or `./fem-assb --np N`) "
                    "for a domain-decomposed parallel run.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Units: lengths in µm, current densities in mA/cm², conductivities in S/cm at the "
               "interface; SI inside. `fem-assb COMMAND --help` explains each command.",
    )
    p.add_argument("--version", action="version", version=f"fem_assb {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in dict.fromkeys(MODULES.get(c, c) for c in COMMANDS):
        importlib.import_module(f"fem_assb.cli.{module}").register(sub)
    return p


def main(argv=None) -> int:
    from fem_assb import lifeline

    lifeline.watch()  # a SIGKILL of ./fem-assb ends this process too
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except (InputError, SolverError) as e:
        _rank0_print(f"fem-assb: error: {e}")
        return e.exit_code
    except KeyboardInterrupt:
        _rank0_print("fem-assb: interrupted")
        return 130
    except BrokenPipeError:  # output piped into a reader that stopped (`| head`): not an error of ours
        import os
        import sys

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 141
