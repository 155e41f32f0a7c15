"""JSON endpoints for scripts: each capability's result object as data, next to the UI's handlers.

The UI endpoints return what the page draws (Markdown, images, component updates); these return the
result dataclasses' ``to_dict()``, with audio and MIDI as files. Through gradio_client::

    from gradio_client import Client, handle_file
    c = Client("http://127.0.0.1:7860/")
    c.predict(handle_file("song.flac"), "musicnn", "mean", api_name="/api_genre")   # {"genre": ..., "excerpts": [...]}

They share the UI's heavy concurrency group, its validation and its messages.
"""
from __future__ import annotations

import gradio as gr
from gradio.data_classes import FileData

from core import analysis
from core.audio import write_wav
from core.backbones import tagging
from core.effects import api as effects_api
from core.generation import api as gen
from core.genre import api as genre_api
from core.instruments import api as inst_api
from tabs.common import MAX_SECONDS, heavy, output_path, user_errors


def _path(audio) -> str:
    if audio is None:
        raise gr.Error("Send an audio file: gradio_client.handle_file(path).")
    if isinstance(audio, dict):  # gr.api hands FileData over as its dict
        audio = audio.get("path")
    return str(getattr(audio, "path", audio))


@user_errors
def api_analysis(audio: FileData) -> dict:
    """Levels at the file's own rate, tempo with its beats, and key."""
    return analysis.analyse_file(_path(audio), max_seconds=MAX_SECONDS).to_dict()


@user_errors
def api_genre(audio: FileData, model: str = "musicnn", aggregate: str = "mean") -> dict:
    """Genre probabilities for the whole input, one row per 3 s excerpt, and the tags (musicnn models)."""
    return genre_api.predict_file(_path(audio), model=model, aggregate=aggregate, max_seconds=MAX_SECONDS,
                                  with_tags=True).to_dict()


@user_errors
def api_instruments(audio: FileData, model: str = "musicnn") -> dict:
    """The instrument ranking, one row per window, the full-mix flag and the tags."""
    return inst_api.predict_file(_path(audio), model=model, max_seconds=MAX_SECONDS).to_dict()


@user_errors
def api_tags(audio: FileData) -> dict:
    """The MTT and MSD taggers' 100 tags: the strongest over the whole input, and every tag per 3 s patch."""
    return tagging.tag_file(_path(audio), max_seconds=MAX_SECONDS).to_dict()


@user_errors
def api_effects_process(audio: FileData, effect: str = "reverb", drive_db: float | None = None) -> dict:
    """The real effect and its emulation as WAV files, with ESR and MR-STFT of the model against the effect."""
    res = effects_api.process(_path(audio), effect, {} if drive_db is None else {"drive_db": drive_db})
    return {"effect": res.effect, "sample_rate": res.sr, "knobs": res.knobs, "notes": list(res.notes),
            "metrics": {k: round(float(v), 6) for k, v in res.metrics.items()},
            "effect_audio": FileData(path=write_wav(output_path(f"{effect}_effect.wav"), res.effect_out, res.sr)),
            "model_audio": FileData(path=write_wav(output_path(f"{effect}_model.wav"), res.model_out, res.sr))}


@user_errors
def api_generate(model: str = "lstm", seconds: float = 30.0, temperature: float = 1.0, seed: int = 0,
                 tempo: float = 120.0, program: str = "Flute", soundfont: str | None = None) -> dict:
    """A piece as MIDI and rendered WAV, with its notes (pitch, start, end in seconds)."""
    result = gen.compose(model=model, seconds=seconds, temperature=temperature, seed=seed, tempo=tempo,
                         program=program, soundfont=soundfont)
    name = f"{result.model}_seed{result.seed}"
    midi_path = output_path(f"{name}.mid")
    result.midi.write(str(midi_path))
    notes = [{"pitch": n.pitch, "start_s": round(n.start, 4), "end_s": round(n.end, 4), "velocity": n.velocity}
             for inst in result.midi.instruments for n in inst.notes]
    return {"model": result.model, "seed": result.seed, "notices": list(result.notices), "notes": notes,
            "midi": FileData(path=str(midi_path)),
            "audio": FileData(path=write_wav(output_path(f"{name}.wav"), result.audio, result.sr))}


def register() -> None:
    """Add the endpoints to the Blocks being built (call inside ``with gr.Blocks()``)."""
    for fn in (api_analysis, api_genre, api_instruments, api_tags, api_effects_process, api_generate):
        gr.api(fn, api_name=fn.__name__, **heavy())
