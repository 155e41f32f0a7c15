"""JSON endpoints for scripts: each capability's result object as data, next to the UI's handlers.

The UI endpoints return what the page draws (Markdown, images, component updates); these return the
result dataclasses' ``to_dict()``, with audio and MIDI as files. Through gradio_client::

    from gradio_client import Client, handle_file
    c = Client("http://127.0.0.1:7860/")
    c.predict(handle_file("song.flac"), "musicnn", "mean", api_name="/api_genre")   # {"genre": ..., "excerpts": [...]}

The search endpoints keep one search per client session (``SEARCHES``, released when the session ends).

They share the UI's concurrency groups, its validation and its messages. The heavy ones are cancellable jobs:
while they run they yield ``{"progress": fraction, "message": ...}`` (gradio_client's ``predict`` returns only
the final result), and a client that cancels or disconnects stops the work within a second. Files are read only
when uploaded with the request; models and SoundFonts are named from the bundled ones (``server.guard``).
"""
from __future__ import annotations

import inspect
from collections.abc import Iterator

import gradio as gr
from gradio.data_classes import FileData

from core import analysis, render
from core.audio import write_wav
from core.backbones import tagging
from core.effects import api as effects_api
from core.generation import api as gen
from core.genre import api as genre_api
from core.instruments import api as inst_api
from core.search import PATIENCE, SearchSession
from core.search.api import Workspace
from server.files import note_request, output_path
from server.guard import one_of, uploaded_path
from server.jobs import api_job, heavy, long_job, user_errors
from server.limits import MAX_SECONDS
from server.sessions import session_store


def genre_models() -> list[str]:
    """The genre models a client may name: the bundled ones and the configured Hub checkpoint."""
    return genre_api.bundled_models() + [m for m in [genre_api.hub_model()] if m]


def instrument_models() -> list[str]:
    """The instrument models a client may name: the bundled ones and the configured Hub checkpoint."""
    return list(inst_api.BUNDLED) + [m for m in [inst_api.hub_model()] if m]


@user_errors
def api_analysis(audio: FileData) -> Iterator[dict]:
    """Levels at the file's own rate, tempo with its beats, and key."""
    path = uploaded_path(audio)
    yield from api_job(lambda cancel, report: analysis.analyse_file(path, max_seconds=MAX_SECONDS).to_dict(),
                       "Analysing")


@user_errors
def api_genre(audio: FileData, model: str = genre_api.DEFAULT_MODEL, aggregate: str = "mean") -> Iterator[dict]:
    """Genre probabilities for the whole input, one row per 3 s excerpt, and the tags (musicnn models)."""
    path = uploaded_path(audio)
    model = one_of(model, genre_models(), "model", default=genre_api.DEFAULT_MODEL)
    yield from api_job(lambda cancel, report: genre_api.predict_file(
        path, model=model, aggregate=aggregate, max_seconds=MAX_SECONDS, with_tags=True).to_dict(), "Genre")


@user_errors
def api_instruments(audio: FileData, model: str = inst_api.DEFAULT_MODEL) -> Iterator[dict]:
    """The instrument ranking, one row per window, the full-mix flag and the tags."""
    path = uploaded_path(audio)
    model = one_of(model, instrument_models(), "model", default=inst_api.DEFAULT_MODEL)
    yield from api_job(lambda cancel, report: inst_api.predict_file(
        path, model=model, max_seconds=MAX_SECONDS).to_dict(), "Instruments")


@user_errors
def api_tags(audio: FileData) -> Iterator[dict]:
    """The MTT and MSD taggers' 100 tags: the strongest over the whole input, and every tag per 3 s patch."""
    path = uploaded_path(audio)
    yield from api_job(lambda cancel, report: tagging.tag_file(path, max_seconds=MAX_SECONDS).to_dict(), "Tagging")


@user_errors
def api_effects_process(audio: FileData, effect: str = "reverb", knobs: dict | None = None) -> Iterator[dict]:
    """The real effect and its emulation as WAV files, with ESR and MR-STFT of the model against the effect.
    ``knobs``: settings of the knobs the effect's model follows, e.g. {"room_size": 0.8, "damping": 0.2}
    (the rest stay at their defaults; the result's "knobs" lists every setting used)."""
    path = uploaded_path(audio)
    effect = one_of(effect, effects_api.bundled(), "effect", default="reverb")
    if knobs is not None and not isinstance(knobs, dict):
        raise ValueError(f"knobs must be a JSON object such as {{\"room_size\": 0.8}}; got {knobs!r}.")

    def work(cancel, report):
        res = effects_api.process(path, effect, knobs, progress=report, cancel=cancel)
        return {**res.to_dict(),
                "effect_audio": FileData(path=write_wav(output_path(f"{effect}_effect.wav"), res.effect_out, res.sr)),
                "model_audio": FileData(path=write_wav(output_path(f"{effect}_model.wav"), res.model_out, res.sr))}

    yield from api_job(work, "Rendering the effect and its emulation")


@user_errors
def api_generate(model: str = "lstm", seconds: float = 30.0, temperature: float = 1.0, seed: int = 0,
                 tempo: float = 120.0, program: str = "Flute", soundfont: str | None = None,
                 primer: FileData | None = None, arrangement: str = "melody", key: str | None = None,
                 style: str | None = None, meter: str | None = None) -> Iterator[dict]:
    """A piece as MIDI and rendered WAV, with its notes (pitch, start, end in seconds). ``primer``: a MIDI file
    (e.g. /api_transcribe's) that the LSTM and the Markov chain continue. ``arrangement``: "melody", or a band
    style (folk, pop, waltz, reel, ballad) adding chords, bass and drums tracks to the MIDI and the audio.
    ``key``: a tonic ("G", "Eb") the piece is moved to; ``style``/``meter``: what the LSTM writes, when its card
    lists them (e.g. "irish", "6/8", "4/2", "free");
    left out, the model draws them and ``notices`` says which. ``soundfont``: an installed SoundFont's name."""
    model = one_of(model, gen.MODELS, "model", default="lstm")
    soundfont = None if soundfont is None else one_of(soundfont, render.soundfonts(), "soundfont")
    primer_path = None if primer is None else uploaded_path(primer, "The primer")

    def work(cancel, report):
        result = gen.compose(model=model, seconds=seconds, temperature=temperature, seed=seed, tempo=tempo,
                             program=program, soundfont=soundfont, primer=primer_path,
                             arrangement=arrangement, key=key, style=style, meter=meter)
        name = f"{result.model}_seed{result.seed}"
        midi_path = output_path(f"{name}.mid")
        result.midi.write(str(midi_path))
        return {**result.to_dict(), "midi": FileData(path=str(midi_path)),
                "audio": FileData(path=write_wav(output_path(f"{name}.wav"), result.audio, result.sr))}

    yield from api_job(work, "Composing")


@user_errors
def api_transcribe(audio: FileData, tempo: float = 120.0) -> Iterator[dict]:
    """A hummed, whistled or played melody as notes, and as the primer MIDI that /api_generate's models continue."""
    from core.generation import transcribe

    path = uploaded_path(audio)
    tempo = gen.clamp(tempo, gen.MIN_TEMPO, gen.MAX_TEMPO, "Tempo")

    def work(cancel, report):
        t = transcribe.transcribe(path)
        midi = output_path("primer_transcribed.mid")
        t.to_midi(tempo=tempo).write(str(midi))
        return {**t.to_dict(), "midi": FileData(path=str(midi))}

    yield from api_job(work, "Transcribing")


#: One search per client session (gradio_client keeps its session hash): the track, its features, the answers.
#: A search answered in the last ten minutes is never evicted by others' new searches (they are refused instead).
SEARCHES = session_store(ttl_s=3600.0, max_sessions=16, in_use_s=600.0, what="searches")


def _search_state(session: SearchSession) -> dict:
    """The search as data: the query, the answers, every occurrence found, and the proposal to answer next."""
    out = session.to_dict()
    out["misses"], out["found"] = len(session.negatives), len(session.positives) - 1
    out["proposal"] = None
    if session.pending is not None and not session.ended:
        t = session.to_time(session.pending)
        clip = write_wav(output_path("proposal.wav"), session.track.clip(t, session.d), session.track.sr)
        out["proposal"] = {"start_s": t, "end_s": round(t + session.d, 3), "audio": FileData(path=clip)}
    return out


def _search(request: gr.Request) -> SearchSession:
    ws = SEARCHES.get(getattr(request, "session_hash", None))
    if ws is None or ws.session is None:
        raise ValueError("Start a search first (/api_search_start), from the same Client: the search lives in its "
                         "session, for 15 minutes after its last call.")
    note_request(api=True)
    return ws.session


@user_errors
def api_search_start(audio: FileData, start_s: float, duration_s: float, kind: str = "sample", space: str = "mel",
                     patience: int = PATIENCE, bpm: float | None = None, request: gr.Request = None
                     ) -> Iterator[dict]:
    """Begin a search for the sound at [start_s, start_s + duration_s): returns the first proposal.

    ``kind`` is "sample" (one hit) or "loop"; ``space`` one of mfcc, mel, learned; ``bpm`` None detects the
    tempo, for times in beats. A new start replaces the session's previous search.
    """
    session = getattr(request, "session_hash", None)
    path = uploaded_path(audio)

    def work(cancel, report):
        ws = SEARCHES.get(session)
        if ws is None or ws.path != path:
            ws = Workspace.open(path, max_seconds=MAX_SECONDS)
        search = ws.start(start_s, duration_s, space, patience=patience, kind=kind, bpm=bpm)
        SEARCHES.put(session, ws)
        search.propose()
        return _search_state(search)

    yield from api_job(work, "Reading the track")


@user_errors
def api_search_answer(proposal_s: float, same: bool, request: gr.Request = None) -> dict:
    """Answer the proposal starting at ``proposal_s``: ``same`` true if it is the sound searched for."""
    search = _search(request)
    if search.pending is None or abs(search.to_time(search.pending) - float(proposal_s)) > 1e-6:
        raise ValueError(f"{proposal_s} s is not the open proposal"
                         + (f" ({search.to_time(search.pending)} s)." if search.pending is not None else
                            ": the search has ended; undo the last answer or start again."))
    search.feedback(proposal_s, bool(same))
    search.propose()
    return _search_state(search)


@user_errors
def api_search_undo(request: gr.Request = None) -> dict:
    """Take back the last answer: its window is the open proposal again."""
    search = _search(request)
    search.undo()
    search.propose()
    return _search_state(search)


@user_errors
def api_search_stop(request: gr.Request = None) -> dict:
    """End the search: the state returned holds every occurrence found."""
    search = _search(request)
    search.stop()
    return _search_state(search)


@user_errors
def api_search_tempo(bpm: float | None = None, first_beat_s: float = 0.0, request: gr.Request = None) -> dict:
    """Set the tempo used for times in beats (None: the detected one)."""
    search = _search(request)
    search.set_tempo(bpm, first_beat_s)
    return _search_state(search)


def register(demo: gr.Blocks) -> None:
    """Add the endpoints to ``demo`` while it is being built (call inside its ``with`` block)."""
    for fn in (api_analysis, api_genre, api_instruments, api_tags, api_generate, api_transcribe, api_search_start):
        _name_values(demo, gr.api(_answers_objects(fn), api_name=fn.__name__, **heavy()), fn)
    # the effect renders up to 60 s through the real plugin and the model: a long job, as in the tab
    _name_values(demo, gr.api(_answers_objects(api_effects_process), api_name="api_effects_process",
                              **{k: v for k, v in long_job(api_effects_process).items() if k != "validator"}),
                 api_effects_process)
    for fn in (api_search_answer, api_search_undo, api_search_stop, api_search_tempo):  # milliseconds each
        _name_values(demo, gr.api(_answers_objects(fn), api_name=fn.__name__), fn)


def _answers_objects(fn):
    """The API page types an answer by the return annotation, which it cannot read as a string (``from __future__
    import annotations``) or through a generator; every endpoint here sends JSON objects (progress, then the
    result), so the page says "dict" rather than "Any". The function's own annotation is unchanged."""
    fn.__signature__ = inspect.signature(fn).replace(return_annotation=dict)
    return fn


def _name_values(demo: gr.Blocks, dependency, fn) -> None:
    """The API page names each value by its parameter (and the answer "result"), not "1st", "2nd" ..."""
    params = [p for p in inspect.signature(fn).parameters.values() if p.name != "request"]
    for block_id, param in zip(dependency["inputs"], params):
        demo.blocks[block_id].label = param.name
    for block_id in dependency["outputs"]:
        demo.blocks[block_id].label = "result"
