"""SMPL body models: chumpy-free file loading, a torch module, joint maps, and a generated stand-in model."""
