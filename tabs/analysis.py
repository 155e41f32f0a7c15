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


def _beats_csv(tempo) -> str:
    path = output_path("beats.csv")
    path.write_text("beat,time_s\n" + "".join(f"{i},{t:.4f}\n" for i, t in enumerate(tempo.beats)))
    return str(path)


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
    sr, hop = result.sr, result.hop_length
    csv_path = analysis.to_csv(result, output_path("features.csv"))
    env = plots.envelope(result.y, sr)
    tempo = result.tempo
    # what the tempo control needs to redraw the grid: the drawn envelope and the beats, not the audio
    beat_state = {"envelope": env, "tempo": tempo} if tempo is not None else None
    figures = (plots.waveform(env, beats=tempo.beats if tempo else None, bpm=tempo.bpm if tempo else None),
               plots.spectrogram(result.log_mel, sr, hop_length=hop), plots.chroma(result.chroma, sr, hop_length=hop),
               plots.zcr(result.zcr, sr, hop_length=hop))
    return (
        [list(row) for row in result.summary_rows()],
        csv_path,
        *[shown(f) for f in figures],  # the frames appear with their first figure
        tempo.bpm if tempo else None,
        _beats_csv(tempo) if tempo else None,
        beat_state,
    )


@user_errors
def rescale_tempo(beat_state, factor: float):
    """×2 or ÷2: the beat grid doubled or every other beat, redrawn without analysing again."""
    if not beat_state:
        raise gr.Error("Analyse a recording with a steady beat first.")
    tempo = beat_state["tempo"].scaled(factor)
    state = {**beat_state, "tempo": tempo}
    return tempo.bpm, plots.waveform(state["envelope"], beats=tempo.beats, bpm=tempo.bpm), _beats_csv(tempo), state


@user_errors
def type_tempo(beat_state, bpm):
    """A typed tempo: the grid redrawn at it from the detected first beat."""
    if not beat_state:
        raise gr.Error("Analyse a recording with a steady beat first.")
    tempo = beat_state["tempo"].typed(bpm, beat_state["envelope"].duration)
    state = {**beat_state, "tempo": tempo}
    return tempo.bpm, plots.waveform(state["envelope"], beats=tempo.beats, bpm=tempo.bpm), _beats_csv(tempo), state


def _measured() -> str:
    """How far to trust the tempo and the key, in the figures their evaluate commands wrote."""
    parts = []
    t = tempo_.measured_real()
    if t:
        o, lb = t["ours"], t["librosa_beat_track"]
        parts.append(f"On {t['modules']} real tracker modules ({t['packages']} packages, exact tempo from the "
                     f"file) the tempo is right {o['acc1']:.0%} of the time, or at double/half/triple "
                     f"{o['acc2']:.0%} (librosa {lb['acc1']:.0%} / {lb['acc2']:.0%}).")
    k = key_.measured()
    if k:
        wrong = round(k["pieces"] * (1 - k["accuracy"]))
        parts.append(f"The key is right on {k['accuracy']:.0%} of {k['pieces']} Bach chorales rendered here "
                     f"(MIREX score {k['mirex_weighted']:.2f}); of the {wrong} it gets wrong, the runner-up is "
                     f"right in {k['runner_up_is_truth']}.")
    return " ".join(parts) or "Tempo and key have not been measured on labelled music yet."


def build() -> None:
    intro("Upload or record audio (wav, flac, ogg, mp3) to measure its levels and loudness, find its **tempo**, beat "
          "grid and **key**, and see its spectrogram. If the tempo comes out at double or half speed, press ×2 or ÷2, "
          "or type it.",
          "**Levels** are measured on the file as it is, at its own rate and channels: sample and true peak "
          "(4× oversampled), integrated loudness, short-term maximum and loudness range (BS.1770 / EBU R128), RMS and "
          "DC offset per channel, clipped samples. **Tempo** comes with its beat grid on the waveform, the **key** "
          "(Krumhansl–Kessler profiles on the chroma) with the runner-up. " + _measured() + " Then a log-mel "
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
            beats_csv = gr.File(label="Beat times (CSV)", elem_id="analysis-beats")
            csv = gr.File(label="Per-frame features (CSV)", elem_id="analysis-csv")
        with gr.Column(scale=2):
            # no empty frames before the first analysis: each plot appears with its figure
            waveform = gr.Plot(show_label=False, label="Waveform and beats", elem_id="analysis-waveform", visible=False)
            mel = gr.Plot(show_label=False, label="Log-mel spectrogram", elem_id="analysis-mel", visible=False)
            chroma = gr.Plot(show_label=False, label="Chroma", elem_id="analysis-chroma", visible=False)
            zcr = gr.Plot(show_label=False, label="Zero-crossing rate", elem_id="analysis-zcr", visible=False)
    outputs = [stats, csv, waveform, mel, chroma, zcr, bpm, beats_csv, beat_state]
    button.click(run, inputs=audio, outputs=outputs, api_name="analyse", **heavy(),
                 api_description="Levels, tempo and key of an audio file, with the plots the page shows. For the "
                                 "figures as data, use /api_analysis.")
    # Analyse as soon as a recording stops; uploads and examples wait for the button.
    audio.stop_recording(run, inputs=audio, outputs=outputs, api_visibility="private", **heavy())
    for btn, factor in ((double, 2.0), (halve, 0.5)):
        btn.click(lambda s, f=factor: rescale_tempo(s, f), inputs=beat_state,
                  outputs=[bpm, waveform, beats_csv, beat_state],
                  api_visibility="private")
    bpm.submit(type_tempo, inputs=[beat_state, bpm], outputs=[bpm, waveform, beats_csv, beat_state],
               api_visibility="private")
