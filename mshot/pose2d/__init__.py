"""2D human pose from models that ship inside their packages (no downloads), in BODY_25 layout."""
