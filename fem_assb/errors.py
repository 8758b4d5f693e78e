"""The one exception type for bad user input.

Commands raise `InputError` for anything the user can fix (a key, a value, a file); the CLI
turns it into one line on stderr and exit code 2, never a traceback.
"""


class InputError(Exception):
    """Bad input: the message names the file/field and what is accepted."""

    exit_code = 2


class SolverError(RuntimeError):
    """A numerical failure the user should hear about in one line (exit code 3)."""

    exit_code = 3
