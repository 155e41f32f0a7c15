"""Effect emulation: networks and structured models that learn pedalboard effects (issue 6)."""
