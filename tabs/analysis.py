"""Audio analysis tab: levels, tempo and key, waveform with its beat grid, log-mel, chroma and zero-crossing rate."""
from __future__ import annotations

import gradio as gr

from core import analysis, plots
from core import key as key_
from core import tempo as tempo_
from server.files import output_path
from server.jobs import cancellable, heavy, user_errors
from server.limits import MAX_SECONDS
from tabs.common import example_audio, intro, shown

TITLE = "Audio analysis"


def _beats_csv(tempo, downbeats=()) -> str:
    path = output_path("beats.csv")
    bars = {round(float(t), 4) for t in downbeats}
    path.write_text("beat,time_s,downbeat\n" + "".join(f"{i},{t:.4f},{int(round(float(t), 4) in bars)}\n"
                                                       for i, t in enumerate(tempo.beats)))
    return str(path)


def _chord_files(chords) -> list[str] | None:
    """The chords as CSV and as a MIDI chord track (one block chord per chord)."""
    if chords is None or not any(c.label != "N" for c in chords.segments):
        return None
    midi = output_path("chords.mid")
    chords.to_midi(midi)
    return [str(chords.to_csv(output_path("chords.csv"))), str(midi)]


def _waveform(state: dict):
    return plots.beat_waveform(state["envelope"], state.get("tempo"), state.get("downbeats"), state.get("chords"))


@user_errors
@cancellable
def run(audio_path, progress=gr.Progress()):
    if audio_path is None:
        raise gr.Error("Upload or record some audio first, or pick an example below.")
    progress(0.1, desc="Loading, measuring levels, tempo and key")
    result = analysis.analyse_file(audio_path, max_seconds=MAX_SECONDS)
    if result.trimmed:
        gr.Warning(
            f"The recording is {result.source_duration_s:.0f} s long; only the first {MAX_SECONDS:.0f} s were analysed."
        )
    progress(0.6, desc="Drawing")
    csv_path = analysis.to_csv(result, output_path("features.csv"))
    env = plots.envelope(result.y, result.sr)
    tempo = result.tempo
    # what the tempo control needs to redraw the grid: the drawn envelope, beats, bars and chords, not the audio
    state = {"envelope": env, "tempo": tempo, "downbeats": result.downbeats, "chords": result.chord_spans()}
    figures = plots.analysis_figures(result, env)
    return (
        [list(row) for row in result.summary_rows()],
        csv_path,
        *[shown(f) for f in figures],  # the frames appear with their first figure
        tempo.bpm if tempo else None,
        _beats_csv(tempo, result.downbeats) if tempo else None,
        _chord_files(result.chords),
        state if tempo is not None else None,
    )


@user_errors
def rescale_tempo(beat_state, factor: float):
    """×2 or ÷2: the beat grid doubled or every other beat, redrawn without analysing again."""
    if not beat_state:
        raise gr.Error("Analyse a recording with a steady beat first.")
    tempo = beat_state["tempo"].scaled(factor)
    state = {**beat_state, "tempo": tempo}
    return tempo.bpm, _waveform(state), _beats_csv(tempo, state.get("downbeats", ())), state


@user_errors
def type_tempo(beat_state, bpm):
    """A typed tempo: the grid redrawn at it from the detected first beat."""
    if not beat_state:
        raise gr.Error("Analyse a recording with a steady beat first.")
    tempo = beat_state["tempo"].typed(bpm, beat_state["envelope"].duration)
    state = {**beat_state, "tempo": tempo, "downbeats": ()}  # a typed grid has no detected bars
    return tempo.bpm, _waveform(state), _beats_csv(tempo), state


def _measured() -> str:
    """How far to trust the tempo, the key and the chords, in the figures their evaluate commands wrote."""
    parts = []
    t = tempo_.measured_real()
    if t and "beatnet" in t:
        b, o, lb = t["beatnet"], t["ours"], t["librosa_beat_track"]
        parts.append(f"On {t['modules']} real tracker modules ({t['packages']} packages, exact tempo from the file) "
                     f"BeatNet's tempo is right {b['acc1']:.0%} of the time, or at double/half/triple {b['acc2']:.0%} "
                     f"(beat F {b['beat_f']:.2f}; its settings were chosen on these modules), against "
                     f"{o['acc1']:.0%} / {o['acc2']:.0%} for the periodicity chooser and {lb['acc1']:.0%} / "
                     f"{lb['acc2']:.0%} for librosa.")
    k = key_.measured()
    if k:
        w = k.get("with_chords")
        parts.append(f"On {k['pieces']} Bach chorales rendered here the key is right "
                     + (f"{w['accuracy']:.0%} of the time with crema's chords and the chroma together "
                        f"(chroma alone {k['accuracy']:.0%})" if w else f"{k['accuracy']:.0%} of the time")
                     + "; the chords are scored there too (docs/chords.md).")
    return " ".join(parts) or "Tempo and key have not been measured on labelled music yet."


def build() -> None:
    intro("Upload or record audio (wav, flac, ogg, mp3) to measure its levels and loudness, find its **tempo**, beats "
          "and bars, **chords** and **key**, and see its spectrogram. If the tempo comes out at double or half speed, "
          "press ×2 or ÷2, or type it.",
          "**Levels** are measured on the file as it is, at its own rate and channels: sample and true peak "
          "(4× oversampled), integrated loudness, short-term maximum and loudness range (BS.1770 / EBU R128), RMS and "
          "DC offset per channel, clipped samples. **Tempo**, beats and bars come from BeatNet and the **chords** "
          "from crema (networks trained on real songs by their authors), drawn on the waveform and downloadable as "
          "CSV and a MIDI chord track; the **key** reads the chroma and the chords together, with its confidence and "
          "the runner-up. " + _measured() + " Then a log-mel "
          "spectrogram, chroma and zero-crossing rate of a 22.05 kHz mono copy.")
    beat_state = gr.State(None, time_to_live=3600)
    with gr.Row():
        with gr.Column(scale=1, min_width=320):
            audio = gr.Audio(buttons=["download"], sources=["upload", "microphone"], type="filepath", label="Audio",
                             elem_id="analysis-audio")
            button = gr.Button("Analyse", variant="primary", elem_id="analysis-run")
            gr.Examples(examples=[[p] for p in example_audio()], inputs=audio,
                        label="Examples (rendered here from MIDI)")
            stats = gr.Dataframe(headers=["Property", "Value"], label="Levels, tempo and key", interactive=False,
                                 elem_id="analysis-stats", wrap=True, max_height=720, column_widths=["35%", "65%"])
            with gr.Row():
                bpm = gr.Number(None, label="Tempo (BPM): ×2, ÷2 or type it", minimum=20, maximum=400, interactive=True,
                                elem_id="analysis-bpm")
                double = gr.Button("×2", elem_id="analysis-double", min_width=60)
                halve = gr.Button("÷2", elem_id="analysis-halve", min_width=60)
            beats_csv = gr.File(label="Beat times, downbeats marked (CSV)", elem_id="analysis-beats")
            chord_files = gr.File(label="Chords (CSV, and a MIDI chord track)", file_count="multiple",
                                  elem_id="analysis-chords")
            csv = gr.File(label="Per-frame features (CSV)", elem_id="analysis-csv")
        with gr.Column(scale=2):
            # no empty frames before the first analysis: each plot appears with its figure
            waveform = gr.Plot(show_label=False, label="Waveform and beats", elem_id="analysis-waveform", visible=False)
            mel = gr.Plot(show_label=False, label="Log-mel spectrogram", elem_id="analysis-mel", visible=False)
            chroma = gr.Plot(show_label=False, label="Chroma", elem_id="analysis-chroma", visible=False)
            zcr = gr.Plot(show_label=False, label="Zero-crossing rate", elem_id="analysis-zcr", visible=False)
    outputs = [stats, csv, waveform, mel, chroma, zcr, bpm, beats_csv, chord_files, beat_state]
    button.click(run, inputs=audio, outputs=outputs, api_name="analyse", **heavy(),
                 api_description="Levels, tempo, beats, chords and key of an audio file, with the plots the page "
                                 "shows. For the figures as data, use /api_analysis.")
    # Analyse as soon as a recording stops; uploads and examples wait for the button.
    audio.stop_recording(run, inputs=audio, outputs=outputs, api_visibility="private", **heavy())
    for btn, factor in ((double, 2.0), (halve, 0.5)):
        btn.click(lambda s, f=factor: rescale_tempo(s, f), inputs=beat_state,
                  outputs=[bpm, waveform, beats_csv, beat_state],
                  api_visibility="private")
    bpm.submit(type_tempo, inputs=[beat_state, bpm], outputs=[bpm, waveform, beats_csv, beat_state],
               api_visibility="private")
