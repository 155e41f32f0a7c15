"""MIDI → audio through FluidSynth, with a visible fallback when it is missing.

SoundFonts are looked up by name: pretty_midi's bundled TimGM6mb is always
there; Debian's FluidR3_GM and MuseScore General are used where installed.
"""
from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.training import check_cancel

log = logging.getLogger(__name__)

DEFAULT_SR = 44_100

#: Known SoundFont files by name, best first. Extra ones: set MUSIC_STUDIO_SOUNDFONTS
#: to a colon-separated list of .sf2/.sf3 paths.
SOUNDFONT_CANDIDATES = {
    "FluidR3_GM": ["/usr/share/sounds/sf2/FluidR3_GM.sf2"],
    "MuseScore_General": [
        "/usr/share/sounds/sf3/MuseScore_General.sf3",
        "/usr/share/sounds/sf2/MuseScore_General.sf2",
        "/usr/share/sounds/sf3/MuseScore_General_Lite.sf3",
    ],
    "TimGM6mb": ["/usr/share/sounds/sf2/TimGM6mb.sf2"],
}

FALLBACK_WARNING = (
    "FluidSynth (libfluidsynth) is not installed, so the MIDI was rendered with plain sine waves. "
    "Install it (Debian/Ubuntu: apt install libfluidsynth3 fluid-soundfont-gm) for real instrument sounds."
)


@functools.cache
def soundfonts() -> dict[str, str]:
    """Installed SoundFonts as {name: path}; always contains pretty_midi's TimGM6mb."""
    import pretty_midi

    found: dict[str, str] = {}
    for name, paths in SOUNDFONT_CANDIDATES.items():
        for path in paths:
            if os.path.isfile(path):
                found[name] = path
                break
    for path in filter(None, os.environ.get("MUSIC_STUDIO_SOUNDFONTS", "").split(":")):
        if os.path.isfile(path):
            found[Path(path).stem] = path
    bundled = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
    if bundled.is_file():
        found.setdefault("TimGM6mb", str(bundled))
    return found


def default_soundfont() -> str | None:
    fonts = soundfonts()
    return next(iter(fonts.values()), None)


@functools.cache
def fluidsynth_available() -> bool:
    """True when pyfluidsynth imports *and* finds the C library (it fails silently otherwise)."""
    try:
        import fluidsynth  # noqa: F401

        return hasattr(fluidsynth, "Synth")
    except Exception:  # ImportError, OSError from a missing libfluidsynth
        return False


@dataclass
class Rendered:
    audio: np.ndarray  # float32 mono
    sr: int
    synth: str  # "fluidsynth:<soundfont name>" or "sine"
    warning: str | None = None


def _fluidsynth(pm, sr: int, sf_path: str) -> np.ndarray:
    """``PrettyMIDI.fluidsynth`` one instrument at a time, so that a cancelled request stops between them
    (an arranged 3-minute piece takes 2.5 s in all); the sum is normalised to a peak of 1 as pretty_midi does."""
    from pretty_midi.fluidsynth import get_fluidsynth_instance

    if not any(i.notes for i in pm.instruments):
        return np.array([])
    synthesizer, sfid, owned = get_fluidsynth_instance(sf_path, 0, sr)
    try:
        waves = []
        for instrument in pm.instruments:
            check_cancel()
            waves.append(instrument.fluidsynth(synthesizer=synthesizer, sfid=sfid))
    finally:
        if owned:
            synthesizer.delete()
    out = np.zeros(max(len(w) for w in waves))
    for w in waves:
        out[:len(w)] += w
    return out / np.abs(out).max()


def render_midi(pm, sr: int = DEFAULT_SR, soundfont: str | None = None, normalize_peak: float | None = 0.9) -> Rendered:
    """Render a ``pretty_midi.PrettyMIDI`` to mono float32 audio.

    ``soundfont`` is a name from :func:`soundfonts` or a path. Without
    libfluidsynth the result is sine-wave synthesis and ``warning`` says so.
    The output is as long as the MIDI plus FluidSynth's release tail.
    """
    if soundfont is not None and soundfont in soundfonts():
        sf_path = soundfonts()[soundfont]
    elif soundfont is not None and os.path.isfile(soundfont):
        sf_path = soundfont
    elif soundfont is not None:
        raise ValueError(f"Unknown SoundFont {soundfont!r}; installed: {', '.join(soundfonts())}.")
    else:
        sf_path = default_soundfont()

    warning = None
    if fluidsynth_available() and sf_path:
        audio = _fluidsynth(pm, sr, sf_path)
        synth = f"fluidsynth:{Path(sf_path).stem}"
    else:
        log.warning(FALLBACK_WARNING)
        audio = pm.synthesize(fs=sr)
        synth, warning = "sine", FALLBACK_WARNING
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 2:
        audio = audio.mean(axis=0)
    if normalize_peak is not None:
        peak = float(np.max(np.abs(audio))) if audio.size else 0.0
        if peak > 0:
            audio = audio * (normalize_peak / peak)
    return Rendered(audio=audio, sr=sr, synth=synth, warning=warning)
