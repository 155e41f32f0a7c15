"""Genre detection tab: whole-song genre distribution, genre over time, and the model's report."""
from __future__ import annotations

import gradio as gr
import numpy as np

from core import plots
from core.genre import api as genre
from server.files import output_path
from server.jobs import cancellable, heavy, user_errors
from server.limits import MAX_SECONDS
from tabs.common import example_audio, intro, shown

TITLE = "Genre detection"
ARCH_NAMES = {"prior": "musicnn tags mapped to genres, calibrated (real music; default)",
              "tags": "musicnn tags mapped to genres (zero-shot, no training)",
              "musicnn": "musicnn backbone + trained head", "cnn": "CNN (paper)",
              "crnn": "CRNN / ConvcurrentNet (paper)", "rnn": "RNN (paper)",
              "dense": "Dense (paper)", "ast": "AST (small, log-mel)"}
AGGREGATE_CHOICES = [("Mean of excerpt probabilities", "mean"), ("Maximum per genre (paper)", "max")]


def model_choices() -> list[tuple[str, str]]:
    choices = [(ARCH_NAMES.get(n, n), n) for n in genre.bundled_models()]
    hub = genre.hub_model()
    if hub:
        choices.append((f"Hub: {hub[4:]} (AudioSet labels mapped)", hub))
    return choices


def genre_examples() -> list[str]:
    """The shared examples plus the per-genre clips rendered for this tab."""
    extra = sorted(str(p) for p in (genre.BUNDLED_DIR.parents[1] / "examples" / "genre").glob("*.ogg"))
    return example_audio() + extra


def _summary(result) -> str:
    head = f"### {result.top} — {result.confidence:.0%}" + (" (uncertain)" if result.uncertain else "") \
        + (" (first look)" if result.first_look else "")
    return (head + f"\n{len(result.starts)} excerpt(s) of 3 s, aggregated by the {result.aggregate}; "
            f"model: {ARCH_NAMES.get(result.model, result.model)}."
            + "".join(f"\n\n> {n}" for n in result.notices))


def _verdict(result) -> tuple:
    """The summary and the distribution (what a first look shows), and the timeline once every excerpt is read."""
    return (_summary(result),
            shown(plots.bars(result.labels, [float(v) for v in result.probs],
                             title="Genre distribution (whole input)")),
            gr.skip() if result.first_look else
            shown(plots.timeline(result.segments(), max(result.duration, 3.0),
                                 title="Genre over time (per 3 s excerpt)")))


@user_errors
@cancellable
def run(audio_path, model_name, aggregate, progress=gr.Progress()):
    """A generator: on a long song, a first look from a few excerpts comes in under a second, then every excerpt."""
    if audio_path is None:
        raise gr.Error("Upload or record some audio first, or pick an example below.")
    if not model_name:
        raise gr.Error("No genre model is available: train one with python -m core.genre.train (see docs/genre.md).")
    progress(0.1, desc="Loading the model")
    genre.load(model_name)
    kwargs = dict(model=model_name, aggregate=aggregate, max_seconds=MAX_SECONDS, with_tags=True)
    progress(0.2, desc="A first look")
    result = genre.predict_file(audio_path, first_look=genre.FIRST_LOOK_EXCERPTS, with_spectrogram=True, **kwargs)
    if result.first_look:
        yield (*_verdict(result), *[gr.skip()] * 5)
        progress(0.4, desc="Classifying every 3 s excerpt")
        result = genre.predict_file(audio_path, with_spectrogram=True, **kwargs)
    for notice in result.notices + result.tags.notices:
        gr.Warning(notice)
    progress(0.8, desc="Drawing")
    S_db, sr = result.spectrogram
    csv_path = result.to_csv(output_path("genre_excerpts.csv"))
    tags_csv = result.tags.to_csv(output_path("tags.csv"))
    names, values = result.tags.taggram(12)
    yield (
        *_verdict(result),
        [[d, t, round(p, 3)] for d, t, p in result.tags.ranked(15)],
        shown(plots.taggram(names, values, result.tags.starts)),
        shown(plots.spectrogram(S_db, sr, title="Log-mel spectrogram of the input")),
        csv_path,
        tags_csv,
    )


@user_errors
def model_report(model_name):
    """The selected model's card: metrics table, curves and test confusion matrix."""
    if not model_name:
        return "No model selected.", shown(None), shown(None)
    r = genre.report(model_name)
    h = r.history
    curves = plots.curves({"train loss": h["train_loss"], "val loss": h["val_loss"], "train acc": h["train_acc"],
                           "val acc": h["val_acc"]}, title="Loss and accuracy") if h else None
    confusion = (plots.confusion(np.array(r.confusion), r.labels, normalize=True, title="Test tracks, per excerpt")
                 if r.confusion is not None else None)
    return r.markdown, shown(curves), shown(confusion)


def build() -> None:
    choices = model_choices()
    default = choices[0][1] if choices else None
    intro("Upload or record a song to see its genre, how sure the model is and how the genre moves through the "
          "track, with the **tags** (genre, mood, era, instruments, vocals) that two taggers trained on real music "
          "hear in it.",
          "The default model starts from those taggers' own tags (musicnn, MTT and MSD) mapped onto the genres and "
          "lets data correct the mapping only where real recordings showed a correction is better; so far none did, "
          "so it is the mapping with a calibrated confidence, and a close call is marked uncertain. **tags** is the "
          "bare mapping; a head trained on the taggers' embeddings, the paper's four networks and the AST (trained "
          "on a generated corpus) stay selectable. Every 3 s excerpt is classified and the excerpts "
          "are aggregated; on a long song a first look from a few excerpts comes first. The model report gives the "
          "figures on real recordings first. How to train your own, and how to offer a Hub checkpoint: docs/genre.md.")
    with gr.Row():
        with gr.Column(scale=1, min_width=320):
            audio = gr.Audio(buttons=["download"], sources=["upload", "microphone"], type="filepath", label="Audio",
                             elem_id="genre-audio")
            model = gr.Dropdown(choices, value=default, label="Model", elem_id="genre-model")
            aggregate = gr.Radio(AGGREGATE_CHOICES, value="mean", label="Whole-song aggregation")
            button = gr.Button("Detect genre", variant="primary", elem_id="genre-run")
            gr.Examples(examples=[[p] for p in genre_examples()], inputs=audio,
                        label="Examples (rendered here from MIDI)")
            csv = gr.File(label="Per-excerpt probabilities (CSV)", elem_id="genre-csv")
            tags_csv = gr.File(label="Tags per 3 s patch (CSV)", elem_id="genre-tags-csv")
        with gr.Column(scale=2):
            summary = gr.Markdown(label="Summary", show_label=False, elem_id="genre-summary")
            bars = gr.Plot(show_label=False, label="Genre distribution", elem_id="genre-bars", visible=False)
            strip = gr.Plot(show_label=False, label="Genre over time", elem_id="genre-strip", visible=False)
            tags = gr.Dataframe(headers=["Tagger", "Tag", "Probability"],
                                label="Tags (MTT and MSD taggers, whole input)",
                                interactive=False, elem_id="genre-tags")
            taggram = gr.Plot(show_label=False, label="Tags over time", elem_id="genre-taggram", visible=False)
            mel = gr.Plot(show_label=False, label="Spectrogram", elem_id="genre-mel", visible=False)
    first = model_report(default) if default else ("", shown(None), shown(None))
    with gr.Accordion("Model report (held-out test metrics, curves, confusion matrix)", open=False):
        report = gr.Markdown(first[0], elem_id="genre-report")
        with gr.Row():
            curves = gr.Plot(first[1]["value"], show_label=False, label="Training curves", visible=first[1]["visible"])
            confusion = gr.Plot(first[2]["value"], show_label=False, label="Confusion matrix",
                                visible=first[2]["visible"])
    outputs = [summary, bars, strip, tags, taggram, mel, csv, tags_csv]
    button.click(run, inputs=[audio, model, aggregate], outputs=outputs, api_name="genre", **heavy(),
                 api_description="The genre of a song as the page shows it (summary, plots, tags, CSV files). "
                                 "For the figures as data, use /api_genre.")
    audio.stop_recording(run, inputs=[audio, model, aggregate], outputs=outputs, api_visibility="private", **heavy())
    model.change(model_report, inputs=model, outputs=[report, curves, confusion], api_visibility="private")
