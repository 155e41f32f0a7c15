"""Audio analysis tab: waveform, log-mel, chroma and zero-crossing rate of any recording."""
from __future__ import annotations

import gradio as gr

from core import analysis, plots
from tabs.common import MAX_SECONDS, example_audio, output_path, heavy, user_errors

TITLE = "Audio analysis"


@user_errors
def run(audio_path, progress=gr.Progress()):
    if audio_path is None:
        raise gr.Error("Upload or record some audio first, or pick an example below.")
    progress(0.1, desc="Loading and computing features")
    result = analysis.analyse_file(audio_path, max_seconds=MAX_SECONDS)
    if result.trimmed:
        gr.Warning(
            f"The recording is {result.source_duration_s:.0f} s long; only the first {MAX_SECONDS:.0f} s were analysed."
        )
    progress(0.6, desc="Drawing")
    sr, hop = result.sr, result.hop_length
    csv_path = analysis.to_csv(result, output_path("features.csv"))
    return (
        [list(row) for row in result.stats.as_rows()],
        csv_path,
        plots.waveform(result.y, sr),
        plots.spectrogram(result.log_mel, sr, hop_length=hop),
        plots.chroma(result.chroma, sr, hop_length=hop),
        plots.zcr(result.zcr, sr, hop_length=hop),
    )


def build() -> None:
    gr.Markdown(
        "Upload or record audio (wav, flac, ogg, mp3) to see its waveform, a log-mel spectrogram "
        "(n_fft 1024, hop 512, 128 mels), chroma and zero-crossing rate, with its levels."
    )
    with gr.Row():
        with gr.Column(scale=1, min_width=320):
            audio = gr.Audio(sources=["upload", "microphone"], type="filepath", label="Audio", elem_id="analysis-audio")
            button = gr.Button("Analyse", variant="primary", elem_id="analysis-run")
            gr.Examples(examples=[[p] for p in example_audio()], inputs=audio, label="Examples (rendered here from MIDI)")
            stats = gr.Dataframe(headers=["Property", "Value"], label="Levels", interactive=False, elem_id="analysis-stats")
            csv = gr.File(label="Per-frame features (CSV)", elem_id="analysis-csv")
        with gr.Column(scale=2):
            waveform = gr.Plot(label="Waveform", elem_id="analysis-waveform")
            mel = gr.Plot(label="Log-mel spectrogram", elem_id="analysis-mel")
            chroma = gr.Plot(label="Chroma", elem_id="analysis-chroma")
            zcr = gr.Plot(label="Zero-crossing rate", elem_id="analysis-zcr")
    outputs = [stats, csv, waveform, mel, chroma, zcr]
    button.click(run, inputs=audio, outputs=outputs, api_name="analyse", **heavy())
    # Analyse as soon as a recording stops; uploads and examples wait for the button.
    audio.stop_recording(run, inputs=audio, outputs=outputs, api_visibility="private", **heavy())
