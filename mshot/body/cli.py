"""`mshot body make-model`: write the generated stand-in body model."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_commands(subparsers) -> None:
    body = subparsers.add_parser("body", help="body model utilities")
    commands = body.add_subparsers(dest="body_command", metavar="COMMAND", required=True)
    make = commands.add_parser("make-model", help="write a generated body model in SMPL's file format "
                                                  "(a stand-in for tests and trials, not SMPL)")
    make.add_argument("--out", type=Path, required=True, help=".pkl (SMPL layout) or .npz")
    make.add_argument("--gender", choices=["neutral", "female", "male"], default="neutral")
    make.add_argument("--seed", type=int, default=0)
    make.set_defaults(func=make_model_command)


def make_model_command(args: argparse.Namespace) -> int:
    from mshot.body.generate import write_generated_smpl_model

    path = write_generated_smpl_model(args.out, args.seed, args.gender)
    print(f"wrote {path} (generated stand-in body model, not SMPL)")
    return 0
