"""Rotations and cameras: the project's coordinate conventions, written once (see docs/conventions.md)."""
