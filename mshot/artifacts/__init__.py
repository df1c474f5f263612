"""The artifacts that cross stage boundaries: schemas (docs/artifacts.md), validated reading, atomic writing."""
