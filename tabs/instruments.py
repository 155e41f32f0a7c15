"""Instrument classification tab: which instrument plays, how sure the model is, and where it is heard."""
from __future__ import annotations

import gradio as gr
import numpy as np

from core import plots
from core.instruments import api
from server.files import output_path
from server.jobs import cancellable, heavy, in_background, long_job, user_errors
from server.limits import EXAMPLES_DIR, MAX_SECONDS
from tabs.common import intro, shown

TITLE = "Instrument classification"
MODELS = [("musicnn tags mapped to instruments + learned clarinet, trumpet, sax; calibrated (default)", "prior"),
          ("musicnn tags mapped to instruments (zero-shot, no training)", "tags"),
          ("musicnn backbone + trained head", "musicnn"), ("CNN (paper, 3 conv blocks)", "cnn"),
          ("Audio Spectrogram Transformer (paper, 2 layers)", "ast")]
INSTRUMENT_EXAMPLES = EXAMPLES_DIR / "instruments"


@user_errors
@cancellable
def classify(audio_path, model, progress=gr.Progress()):
    """On a long recording, a first look from a few windows comes in under a second, then every window."""
    if audio_path is None:
        raise gr.Error("Upload or record a recording first, or pick an example below.")
    progress(0.1, desc="A first look")
    result = api.predict_file(audio_path, model=model, max_seconds=MAX_SECONDS, first_look=api.FIRST_LOOK_WINDOWS)
    if result.first_look:
        yield _render(result)
        progress(0.4, desc="Classifying every window")
        result = api.predict_file(audio_path, model=model, max_seconds=MAX_SECONDS)
    for notice in result.notices:
        gr.Warning(notice)
    if result.padded and not result.notices:
        gr.Warning("The recording is shorter than the model's window; it was padded.")
    yield _render(result, csv_path=str(result.to_csv(output_path("instrument_timeline.csv"))))


def _render(result, csv_path=None) -> tuple:
    labels, probs = result.labels, result.probabilities
    tags = [[d, t, round(p, 3)] for d, t, p in result.tags.ranked(15)] if result.tags is not None else []
    note = "".join(f"> {n}\n\n" for n in result.notices)
    return (
        note,
        {label: float(p) for label, p in zip(labels, probs)},
        tags,
        shown(plots.bars(labels, probs.tolist(),
                         title="Overall ranking" + (" (first look)" if result.first_look else ""))),
        *([gr.skip()] * 3 if result.first_look else  # the timeline waits for every window
          [shown(plots.timeline(result.segments(), result.duration, title="Top instrument per window",
                                 colors=plots.class_colors(labels))),  # the same colour per instrument as the curves
           shown(plots.probabilities(result.times, result.window_probabilities, labels)), csv_path]),
    )


@user_errors
def tag_batch(files, model, progress=gr.Progress()):
    """Every file tagged in a thread of its own, so that a cancelled request stops between files."""
    if not files:
        raise gr.Error("Choose one or more audio files to tag.")
    if len(files) > api.MAX_BATCH_FILES:
        raise gr.Error(f"{len(files)} files were sent; tag at most {api.MAX_BATCH_FILES} at a time "
                       "(or use core.instruments.tag_files from Python for a whole library).")
    csv_path = output_path("instrument_tags.csv")
    def work(cancel, report):
        return api.tag_files(files, model=model, csv_path=csv_path, progress=report, cancel=cancel)

    rows, skipped = yield from in_background(work, progress, "Tagging", busy=lambda msg: (gr.skip(), gr.skip()))
    if skipped and not rows:  # an API client must not get an empty table with "OK"
        raise gr.Error("No file could be tagged: " + "; ".join(f"{n} ({why})" for n, why in skipped))
    if skipped:
        gr.Warning(f"Skipped {len(skipped)} file(s), listed with the reason in the CSV's 'skipped' column: "
                   + "; ".join(f"{n} ({why})" for n, why in skipped))
    table = [[r["file"], r["instrument"], r["probability"], r.get("tags", ""), "yes" if r.get("full_mix") else ""]
             for r in rows]
    yield table, str(csv_path)


def model_report(model):
    """The paper's Tables 1–3 for the chosen model, from its card (the backbone head: its real-music report)."""
    r = api.report(model)
    if r.confusion is None:  # a head on the taggers: its report is its text; no empty table or frames
        return shown(r.rows or None), shown(None), shown(None), r.markdown
    cm = np.array(r.confusion)
    return (shown(r.rows), shown(plots.confusion(cm, r.labels, title="Confusion matrix (counts)")),
            shown(plots.confusion(cm, r.labels, normalize=True, title="Confusion matrix (% of each true class)")),
            r.markdown)



def build() -> None:
    intro("Upload or record one instrument or voice to hear which of eight it is (clarinet, distorted electric "
          "guitar, female singer, flute, piano, tenor saxophone, trumpet, violin) and **where** it plays; a full "
          "mix gets a notice, and the tags say what is in it.",
          "The default model reads two taggers pretrained on real music (musicnn, MTT and MSD) every 3 s (hop "
          "1.5 s): their own tags, mapped onto the instruments, decide among the instruments a tag speaks for; "
          "clarinet, trumpet and tenor saxophone, which no tag names, are learned from rendered clips and real "
          "samples; the confidence is calibrated on real recordings and a close call is marked uncertain. **tags** "
          "is the bare mapping (it cannot name those three); a head trained on the taggers' embeddings and the "
          "paper's CNN and AST (2 s log-mel windows, rendered clips only) stay selectable. "
          "The model report gives the figures on real recordings first; the examples use a SoundFont "
          "the models never heard. How to offer a Hub checkpoint: docs/instruments.md.")
    choices = list(MODELS)
    if api.hub_model():
        choices.append((f"Hub: {api.hub_model()[len(api.HUB_PREFIX):]} (AudioSet labels mapped)", api.hub_model()))
    model = gr.Dropdown(choices, value=api.DEFAULT_MODEL, label="Model", elem_id="inst-model")
    with gr.Tab("One recording"):
        with gr.Row():
            with gr.Column(scale=1, min_width=320):
                audio = gr.Audio(buttons=["download"], sources=["upload", "microphone"], type="filepath",
                                 label="Recording", elem_id="inst-audio")
                button = gr.Button("Classify", variant="primary", elem_id="inst-run")
                examples = sorted(str(p) for p in INSTRUMENT_EXAMPLES.glob("*.flac"))
                if examples:
                    gr.Examples([[p] for p in examples], inputs=audio, label="Examples (held-out SoundFont)")
                tag_table = gr.Dataframe(headers=["Tagger", "Tag", "Probability"], label="Tags (musicnn model)",
                                         interactive=False, elem_id="inst-tags")
                csv = gr.File(label="Per-window CSV", elem_id="inst-csv")
            with gr.Column(scale=2):
                # the answer first: on screen after the click at 1400×1000, above the figures
                notice = gr.Markdown(label="Notice", show_label=False, elem_id="inst-notice")
                ranking = gr.Label(num_top_classes=3, label="Instrument", elem_id="inst-label")
                bars = gr.Plot(show_label=False, label="Ranking", elem_id="inst-bars", visible=False)
                timeline = gr.Plot(show_label=False, label="Timeline", elem_id="inst-timeline", visible=False)
                curves = gr.Plot(show_label=False, label="Per-class probability", elem_id="inst-curves", visible=False)
        button.click(classify, [audio, model], [notice, ranking, tag_table, bars, timeline, curves, csv],
                     api_name="classify_instrument", **heavy(),
                     api_description="The instrument of a recording as the page shows it (ranking, tags, timeline, "
                                     "CSV). For the figures as data, use /api_instruments.")
    with gr.Tab("Tag a folder"):
        gr.Markdown(f"Up to {api.MAX_BATCH_FILES} files a request; the first {api.BATCH_SECONDS / 60:.0f} min of each "
                    "are tagged. One batch at a time per browser session.")
        files = gr.File(file_count="multiple", file_types=["audio"], type="filepath", label="Audio files",
                        elem_id="inst-batch-files")
        tag_button = gr.Button("Tag all", variant="primary", elem_id="inst-batch-run")
        tags = gr.Dataframe(headers=["File", "Instrument", "Probability", "Top tags", "Full mix"],
                            label="Tags per file",
                            interactive=False, wrap=True, column_widths=["22%", "16%", "10%", "42%", "10%"],
                            elem_id="inst-batch-table")
        tags_csv = gr.File(label="Tags (CSV)")
        tag_button.click(tag_batch, [files, model], [tags, tags_csv], api_name="tag_instruments", **long_job(tag_batch),
                         api_description="Tag many files at once: a row per file (instrument, top tags, full mix) "
                                         "and the CSV, where skipped files keep a row with the reason.")
    with gr.Accordion("Model report (the paper's Tables 1–3)", open=False):
        note = gr.Markdown(label="Model report", show_label=False)
        report = gr.Dataframe(headers=["Class", "Precision", "Recall", "F1", "Support"], interactive=False,
                              visible=False)
        with gr.Row():
            cm_counts, cm_pct = gr.Plot(show_label=False, visible=False), gr.Plot(show_label=False, visible=False)
    model.change(model_report, model, [report, cm_counts, cm_pct, note], api_visibility="private")
    button.click(model_report, model, [report, cm_counts, cm_pct, note], api_visibility="private")
