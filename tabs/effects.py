"""Effect emulation tab: hear a network next to the real (pedalboard) effect, compare, ABX, and capture new gear."""
from __future__ import annotations

import shutil
import time

import gradio as gr
import pandas as pd

from core.audio import write_wav
from core.effects import abx, api, figures, fx
from core.training import Cancelled
from server.files import output_path
from server.jobs import in_background, long_job, user_errors
from server.limits import EXAMPLES_DIR
from tabs.common import example_audio, intro, shown

TITLE = "Effect emulation"
CHOICES = [(e.label, e.name) for e in fx.EFFECTS.values()]
CAPTURE_MODELS = [("LSTM-32 with skip (Wright et al.)", "lstm"), ("NAM LSTM 1×16 (exports .nam)", "nam-lstm-1x16"),
                  ("NAM LSTM 2×8 (exports .nam)", "nam-lstm-2x8"),
                  ("NAM WaveNet feather (exports .nam)", "nam-wavenet-feather"),
                  ("NAM WaveNet lite (exports .nam)", "nam-wavenet-lite"),
                  ("NAM WaveNet standard (exports .nam)", "nam-wavenet-standard"), ("Dilated TCN", "tcn"),
                  ("Wiener-Hammerstein (amp)", "wh"),
                  ("Baseline CNN (paper)", "cnn"), ("Learned FIR (reverb, EQ, cabinet)", "fir"),
                  ("Tapped delay line (echo)", "taps"), ("Modulated delay (chorus)", "chorus")]


def _examples() -> list[str]:
    own = sorted(str(p) for p in (EXAMPLES_DIR / "effects").glob("effects_guitar*.flac"))
    return own + example_audio()


def _metrics_table(m: dict) -> pd.DataFrame:
    return pd.DataFrame([[k, f"{v:.4g}"] for k, v in m.items()], columns=["Metric", "Value"])


#: What the apply handler yields while it works: every output left as it is but the ABX text.
_KEEP = 10


assert fx.MAX_KNOBS == 4, "run() takes one argument per slider"


class KnobSlider(gr.Slider):
    """A slider relabelled per effect. Gradio (and ``server.gradio_internals.StudioBlocks``) check a slider's value
    against the range and label it was built with, not those an update gave it, so that check is left to core
    (``api.check_knobs``: the chosen model's range, and the knob's name in the message)."""

    is_template = True  # rendered by Gradio's own slider
    checked_in_core = True  # server.gradio_internals.StudioBlocks leaves the range check to the handler

    def preprocess(self, payload):
        return payload


def _slider(effect, i: int) -> dict:
    """Slider ``i``'s settings for ``effect``: its i-th knob (label, range, default), or hidden."""
    e = fx.EFFECTS.get(effect)
    ranges = list(e.knob_ranges.items()) if e else []
    if i >= len(ranges):
        return dict(visible=False)
    knob, (lo, hi) = ranges[i]
    return dict(visible=True, minimum=lo, maximum=hi, value=e.knobs[knob], step=fx.KNOB_LABELS.get(knob, ("", 0.01))[1],
                label=fx.knob_label(knob))


def knob_updates(effect):
    """The sliders for ``effect``: one per knob its model follows, the rest hidden."""
    return [gr.update(**_slider(effect, i)) for i in range(fx.MAX_KNOBS)]


def knob_values(effect, values) -> dict:
    """Slider values -> {knob: value} in the order :func:`knob_updates` laid them out."""
    e = fx.EFFECTS.get(effect)
    return {} if e is None else dict(zip(e.knob_ranges, values))


@user_errors
def run(audio_path, effect, knob1=None, knob2=None, knob3=None, knob4=None, progress=gr.Progress()):
    """The real effect and its emulation on a dry recording; its work stops when the request is cancelled.
    ``knob1..4``: the sliders, in the order of the effect's knobs."""
    if audio_path is None:
        raise gr.Error("Upload or record a dry signal first, or pick an example below.")
    settings = knob_values(effect, (knob1, knob2, knob3, knob4))

    def work(cancel, report):
        return api.process(audio_path, effect, settings, progress=report, cancel=cancel)

    res = yield from in_background(work, progress, "Rendering the real effect and the emulation",
                                   busy=lambda msg: (*[gr.skip()] * _KEEP, f"Working: {msg}"))
    for note in res.notes:
        gr.Warning(note)
    card = res.card_markdown()
    if res.worse_than_clean:  # an emulation that does not earn its place on this input says so
        flag = (f"**Not a match here:** the emulation is further from the real effect than the clean input is "
                f"({' and '.join(res.worse_than_clean)}). Use the real effect for this clip.")
        gr.Warning(flag.replace("**", ""))
        card = flag + "\n\n" + card
    progress(0.9, desc="Drawing")
    paths = [write_wav(output_path(f"{name}.wav"), y, res.sr) for name, y in
             (("clean", res.clean), (f"{effect}_effect", res.effect_out), (f"{effect}_model", res.model_out))]
    session = {"effect": effect, "paths": paths}
    yield (*paths, _metrics_table(res.metrics), shown(figures.mel_comparison(res.log_mels(), res.sr)),
           shown(figures.waveform_overlay(res.clean, res.effect_out, res.model_out, res.sr)), card,
           session, abx.ABXState(), None, "Press 'New trial' to start.")


@user_errors
def abx_new(session, state):
    if not session:
        raise gr.Error("Apply an effect first: the ABX test compares that clean, effect and model audio.")
    state = abx.new_trial(state or abx.ABXState(), session["effect"])
    clean, effect, model = session["paths"]
    x = {"A": clean, "B": effect, "model": model}[state.current]
    # A copy under a neutral name, so the file name does not give X away.
    x_path = output_path("X.wav")
    shutil.copy(x, x_path)
    return state, str(x_path), "Listen to A, B and X, then answer."


@user_errors
def abx_answer(choice, state):
    state = abx.answer(state or abx.ABXState(), choice)
    last_x, _ = state.trials[-1]
    reveal = {"model": "the model output", "A": "a hidden copy of A", "B": "a hidden copy of B"}[last_x]
    return state, None, f"X was {reveal}. " + abx.summary(state)


@user_errors
def capture(dry_path, wet_path, model, steps, progress=gr.Progress()):
    """A generator so that Stop (which cancels the event) ends the training too (see server.jobs.in_background)."""
    if dry_path is None or wet_path is None:
        raise gr.Error("Upload both files: the dry recording and the same take through the effect.")

    def work(cancel, report):
        return api.capture(dry_path, wet_path, model=model, steps=steps, progress=report, cancel=cancel)

    # the previous run's model, metrics and zip go at once: nothing on screen may pass for this run's
    yield None, None, None, None, "Checking the pair…"
    try:
        res = yield from in_background(work, progress, "checking the pair",
                                       busy=lambda msg: (*[gr.skip()] * 4, f"Training: {msg}"))
    except Cancelled:
        yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), "Stopped."
        return
    for note in res.notes:
        gr.Warning(note)
    if res.latency_message:
        gr.Info(res.latency_message)
    folder = api.save_capture(res, output_path(f"capture-{res.config.get('architecture', res.kind)}"))
    zip_path = shutil.make_archive(str(folder), "zip", folder)
    out_wav = write_wav(output_path("capture_model_output.wav"), res.out, res.sr)
    fig = figures.waveform_overlay(res.dry, res.wet, res.out, res.sr)
    how = f"Trained {res.kind} for {len(res.history)} steps" if res.history else f"Fitted {res.kind} in closed form"
    msg = (f"{how}; latency removed: {res.latency} samples. "
           "Metrics are on the last 20% of the pair, held out from training."
           + (" The zip holds **model.nam**, which the Neural Amp Modeler plugin loads."
              if res.kind in api.NAM_KINDS else ""))
    yield out_wav, _metrics_table(res.metrics), shown(fig), zip_path, msg


def stopped() -> str:
    """Stop's final word on the capture status. It waits out one progress tick (``in_background`` yields every
    0.5 s), so that a "Training: step …" already on its way cannot land after it and stay on screen."""
    time.sleep(0.6)
    return "Stopped: the training was cancelled; nothing was saved."


def build() -> None:
    intro("Pick an effect and upload a dry recording (a guitar DI, a loop, a voice): hear the real effect and its "
          "trained emulation side by side, with how close the emulation comes. To teach it your own pedal or plugin, "
          "open Capture mode below.",
          "The real effect is pedalboard's DSP; the emulation is a small network trained here. The figures are the "
          "error-to-signal ratio (ESR) and the multi-resolution STFT distance: the model should be closer to the "
          "effect than the clean signal is. Audio comes back as WAV at its true level (nothing is normalised); up to "
          "60 s are processed at 44.1 kHz.")
    session = gr.State(None, time_to_live=3600)  # the last clip processed: released an hour after its last use
    abx_state = gr.State(abx.ABXState())
    with gr.Row():
        with gr.Column(scale=1, min_width=320):
            effect = gr.Dropdown(CHOICES, value="reverb", label="Effect", elem_id="effects-effect")
            # One slider per knob of the chosen effect's model (relabelled when the effect changes).
            sliders = [KnobSlider(**{"minimum": 0, "maximum": 1, "value": 0, "label": f"Knob {i + 1}",
                                     **_slider(effect.value, i)},
                                 elem_id=f"effects-knob-{i}") for i in range(fx.MAX_KNOBS)]
            audio = gr.Audio(buttons=["download"], sources=["upload", "microphone"], type="filepath",
                             label="Dry signal", elem_id="effects-audio")
            button = gr.Button("Apply effect and emulation", variant="primary", elem_id="effects-run")
            gr.Examples(examples=[[p] for p in _examples()], inputs=audio, label="Examples")
            metrics_df = gr.Dataframe(headers=["Metric", "Value"], label="Model vs effect (this input)",
                                      interactive=False, elem_id="effects-metrics")
            card = gr.Markdown(label="Model card", show_label=False, elem_id="effects-card")
        with gr.Column(scale=2):
            with gr.Row():
                clean_a = gr.Audio(buttons=["download"], label="A: clean", type="filepath", interactive=False,
                                   elem_id="effects-clean")
                effect_a = gr.Audio(buttons=["download"], label="B: real effect", type="filepath", interactive=False,
                                    elem_id="effects-effect-audio")
                model_a = gr.Audio(buttons=["download"], label="Model", type="filepath", interactive=False,
                                   elem_id="effects-model-audio")
            mel = gr.Plot(show_label=False, label="Log-mel spectrograms", elem_id="effects-mel", visible=False)
            with gr.Row(equal_height=False):
                overlay = gr.Plot(show_label=False, label="Waveforms (~300 samples)", elem_id="effects-overlay",
                                  scale=3, visible=False)
                with gr.Column(scale=2, min_width=300, variant="panel", elem_id="effects-abx"):
                    gr.Markdown("#### ABX blind test\nA is clean, B the real effect. X is the model, or now and "
                                "then a hidden copy of A or B. Which does X sound like?")
                    x_audio = gr.Audio(buttons=["download"], label="X", type="filepath", interactive=False,
                                       elem_id="effects-abx-x")
                    with gr.Row():
                        abx_button = gr.Button("New trial", variant="primary", size="sm", min_width=80,
                                               elem_id="effects-abx-new")
                        like_a = gr.Button("X is A", size="sm", min_width=60, elem_id="effects-abx-a")
                        like_b = gr.Button("X is B", size="sm", min_width=60, elem_id="effects-abx-b")
                    abx_text = gr.Markdown("Apply an effect, then start a trial.", label="ABX score", show_label=False,
                                           elem_id="effects-abx-score")
    with gr.Accordion("Capture mode: teach it your own plugin or pedal", open=False):
        gr.Markdown(
            "Upload a dry recording and the same recording processed by any gear or plugin (same sample rate, "
            "same take). A constant latency is detected and removed, the chosen model is trained on the first 80% "
            "and judged on the last 20%; the trained model downloads as safetensors + config + card."
        )
        with gr.Row():
            dry_in = gr.Audio(buttons=["download"], sources=["upload"], type="filepath", label="Dry",
                              elem_id="effects-capture-dry")
            wet_in = gr.Audio(buttons=["download"], sources=["upload"], type="filepath", label="Wet (processed)",
                              elem_id="effects-capture-wet")
        gr.Examples(examples=[[str(EXAMPLES_DIR / "effects" / "effects_capture_dry.flac"),
                               str(EXAMPLES_DIR / "effects" / "effects_capture_wet.flac")]],
                    inputs=[dry_in, wet_in],
                    label="Example pair (an overdrive the bundled models never saw, + 12 ms latency)")
        with gr.Row():
            kind = gr.Dropdown(CAPTURE_MODELS, value="lstm", label="Model", elem_id="effects-capture-model")
            steps = gr.Slider(api.MIN_CAPTURE_STEPS, api.MAX_CAPTURE_STEPS, value=300, step=10,
                              label="Training steps (networks)", elem_id="effects-capture-steps")
        with gr.Row():
            train_b = gr.Button("Train", variant="primary", elem_id="effects-capture-train")
            stop_b = gr.Button("Stop", variant="stop", elem_id="effects-capture-stop")
        cap_status = gr.Markdown(label="Capture status", show_label=False, elem_id="effects-capture-status")
        with gr.Row():
            cap_audio = gr.Audio(buttons=["download"], label="Model on the held-out 20%", type="filepath",
                                 interactive=False, elem_id="effects-capture-out")
            cap_metrics = gr.Dataframe(headers=["Metric", "Value"], label="Held-out metrics", interactive=False,
                                       elem_id="effects-capture-metrics")
        cap_plot = gr.Plot(show_label=False, label="Dry / wet / model", elem_id="effects-capture-plot", visible=False)
        cap_file = gr.File(label="Trained model (zip)", elem_id="effects-capture-file")

    outputs = [clean_a, effect_a, model_a, metrics_df, mel, overlay, card, session, abx_state, x_audio, abx_text]
    effect.change(knob_updates, inputs=effect, outputs=sliders, api_visibility="private")
    button.click(run, inputs=[audio, effect, *sliders], outputs=outputs, api_name="effects_apply", **long_job(run),
                 api_description="The real effect and its emulation on a dry recording, with the page's plots "
                                 "and metrics (knob1-4: the chosen effect's knobs; for data, use "
                                 "/api_effects_process).")
    abx_button.click(abx_new, inputs=[session, abx_state], outputs=[abx_state, x_audio, abx_text],
                     api_visibility="private")
    like_a.click(lambda s: abx_answer("A", s), inputs=abx_state, outputs=[abx_state, x_audio, abx_text],
                 api_visibility="private")
    like_b.click(lambda s: abx_answer("B", s), inputs=abx_state, outputs=[abx_state, x_audio, abx_text],
                 api_visibility="private")
    train_event = train_b.click(capture, inputs=[dry_in, wet_in, kind, steps],
                                outputs=[cap_audio, cap_metrics, cap_plot, cap_file, cap_status],
                                api_name="effects_capture",
                                api_description="Train a model of your own effect from a dry and a processed take "
                                                "of the same recording; returns the model as a zip.",
                                **long_job(capture))
    # the final word comes after the cancel has gone through, not beside it
    stop_b.click(None, cancels=[train_event], api_visibility="private").then(stopped, outputs=cap_status,
                                                                             api_visibility="private")
