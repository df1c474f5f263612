"""What version of the pipeline produced a result: the package version plus `CODE_VERSION`, which is raised
whenever the same inputs and options would give different outputs (an algorithm or artifact schema change)
without a package release. Both go into the job id derived from a video and its options, so after an upgrade
`mshot run` and SubmitJob compute afresh instead of returning a job finished by the old code."""

from __future__ import annotations

import importlib.metadata

CODE_VERSION = 1


def _package_version() -> str:
    try:
        return importlib.metadata.version("mshot")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "0+source"


PACKAGE_VERSION = _package_version()
PIPELINE_VERSION = f"{PACKAGE_VERSION}+code{CODE_VERSION}"
