"""Blueprints implementing the emulated Open Platform endpoints (one module per API family)."""
