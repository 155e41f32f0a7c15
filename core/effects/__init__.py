"""Effect emulation: networks and structured models that learn pedalboard effects (issue 6).

    from core.effects import load, process
    reverb = load("reverb"); y = reverb(x, 44_100)        # a trained emulation, used like a pedalboard effect
    result = process("guitar.wav", "reverb")              # EffectResult: clean, real effect, emulation, metrics
"""
from core.effects.api import EffectResult, capture, load, process  # noqa: F401
from core.effects.inference import EffectModel  # noqa: F401
