"""Crafted pickle payloads shared by the restricted-loader tests: objects whose unpickling would run code."""

from __future__ import annotations

import os


class RunsShell:
    """Unpickles as os.system(command) (pickled as posix.system)."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)

