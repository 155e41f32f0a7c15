"""MIDI generation tab: LSTM and GAN melodies, rendered audio, piano roll and the paper's analysis plots."""
from __future__ import annotations

import gradio as gr

from core import plots
from core.audio import write_wav
from core.generation import api as gen
from core.generation import transcribe
from core.render import soundfonts
from core.validate import MAX_SEED
from server.files import output_path
from server.jobs import cancellable, heavy, user_errors
from server.limits import EXAMPLES_DIR
from tabs.common import intro, shown

TITLE = "MIDI generation"
#: (label, core.generation.arrange style): the melody alone, or harmonised by rule with a band.
ARRANGEMENTS = [("Melody only", "melody"), ("Folk band (guitar, bass, shaker)", "folk"),
                ("Pop (piano, bass, backbeat)", "pop"), ("Waltz (3/4: accordion oom-pah-pah)", "waltz"),
                ("Reel (driving guitar and snare)", "reel"), ("Ballad (piano arpeggios, soft drums)", "ballad")]
MODEL_CHOICES = [
    ("LSTM with a pointer (next-event model)", "lstm"),
    ("GAN (LSTM trained adversarially, WGAN-GP)", "gan"),
    ("Markov chain (baseline)", "markov"),
    ("Random notes (baseline)", "random"),
]
#: General MIDI programs that suit a folk melody, by their General MIDI names (what the API takes; a number 0–127
#: works too).
INSTRUMENTS = ["Flute", "Acoustic Grand Piano", "Violin", "Clarinet", "Oboe", "Trumpet", "Accordion",
               "Acoustic Guitar (nylon)", "Fiddle", "Recorder"]


@user_errors
@cancellable
def run(model, seconds, temperature, seed, tempo, program, soundfont, primer, arrangement="melody", key="any",
        style="any", meter="any", progress=gr.Progress()):
    """The piece: audio, MIDI and piano roll, and (for the comparison drawn next) the two analyses."""
    progress(0.1, desc="Generating, arranging and rendering")
    result = gen.compose(model=model, seconds=seconds, temperature=temperature, seed=seed,
                         primer=primer, tempo=tempo, program=program, soundfont=soundfont or None,
                         arrangement=arrangement or "melody", key=key, style=style, meter=meter)
    for notice in result.notices:
        gr.Warning(notice)
    name = f"{result.model}_seed{result.seed}"
    midi_path = output_path(f"{name}.mid")
    result.midi.write(str(midi_path))
    wav_path = write_wav(output_path(f"{name}.wav"), result.audio, result.sr)
    roll = plots.piano_roll(result.midi, title=f"Piano roll: {dict((v, k) for k, v in MODEL_CHOICES)[model]}")
    return wav_path, str(midi_path), shown(roll), (result.analysis, result.reference_analysis, result.reference_title)


@user_errors
@cancellable
def hum(recording, tempo, program):
    """A hummed, whistled or played recording → the primer MIDI (its melody), shown as a piano roll."""
    if recording is None:
        raise gr.Error("Record or upload a few seconds of humming, whistling or playing first, or pick the example.")
    t = transcribe.transcribe(recording)
    for notice in t.notices:
        gr.Info(notice)
    pm = t.to_midi(tempo=tempo, program=gen.program_number(program))
    path = output_path("primer_transcribed.mid")
    pm.write(str(path))
    roll = plots.piano_roll(pm, title=f"Transcribed primer: {len(t.melody())} notes (basic-pitch)")
    return str(path), shown(roll), (f"Heard **{len(t.melody())} notes** in {t.duration:.1f} s; they are the primer "
                                    "now. Press **Generate**: the piece starts with them, and the LSTM, the GAN or "
                                    "the Markov chain continues them.")


def compare(analyses):
    """The six comparison figures, drawn after the piece is heard (they take as long as the piece itself);
    the analyses held for them are released."""
    if not analyses:
        return *[gr.skip()] * 6, None
    a, r, title = analyses
    figures = (plots.spectrogram(a.log_mel, a.sr, title="Log-mel spectrogram (generated)"),
               plots.spectrogram(r.log_mel, r.sr, title=f"Log-mel spectrogram (real: {title})"),
               plots.chroma(a.chroma, a.sr, title="Chroma (generated)"),
               plots.chroma(r.chroma, r.sr, title="Chroma (real)"),
               plots.zcr(a.zcr, a.sr, title="Zero-crossing rate (generated)"),
               plots.zcr(r.zcr, r.sr, title="Zero-crossing rate (real)"))
    # the frames appear with their first figures: no six empty frames under a page that has made nothing yet
    return *[shown(f) for f in figures], None


def training_curves(model):
    history = gen.loss_history(model)
    if not history:
        return shown(None)
    return shown(plots.curves(history, xlabel="training step" if "step" in history else "×100 training steps",
                              title=f"{model.upper()} training losses"))


#: How the meter tokens that are not a time signature read in the Meter menu
METER_LABELS = {"free": "free (no time signature)", "other": "another meter"}


def meter_choices(meters: list[str]) -> list[tuple[str, str]]:
    """(label, value) per meter the model knows: time signatures by bar length, then free and other meters."""
    def order(m: str):
        n, _, d = m.partition("/")
        return (1, m) if m in METER_LABELS else (0, int(n) / int(d), int(d))
    return [(METER_LABELS.get(m, m), m) for m in sorted(meters, key=order)]


def build() -> None:
    intro("Generate a folk melody with an **LSTM** or a **GAN** trained here (or a baseline), in the style, meter and "
          "key you choose, alone or with a band; hear it, download the MIDI, or hum a few notes for it to continue.",
          "The networks learned from music21's folk collections (German, Irish and American tunes). The piece is "
          "rendered through FluidSynth and compared, by log-mel spectrogram, chroma and zero-crossing rate, with a "
          "real held-out tune rendered the same way. The MIDI carries the piece's meter, key, tempo and track names; "
          "every instrument stays in its playable range, and a hummed primer opens the piece.")
    with gr.Row():
        with gr.Column(scale=1, min_width=320):
            model = gr.Dropdown(MODEL_CHOICES, value="lstm", label="Model", elem_id="gen-model")
            button = gr.Button("Generate", variant="primary", elem_id="gen-run")  # above the fold at 1400×1000
            seconds = gr.Slider(gen.MIN_SECONDS, gen.MAX_SECONDS, value=30, step=1, label="Length (s)")
            temperature = gr.Slider(gen.MIN_TEMPERATURE, gen.MAX_TEMPERATURE, value=1.0, step=0.05, label="Temperature")
            seed = gr.Number(value=0, precision=0, minimum=0, maximum=MAX_SEED, label="Seed")
            tempo = gr.Slider(gen.MIN_TEMPO, gen.MAX_TEMPO, value=120, step=1, label="Tempo (BPM)")
            program = gr.Dropdown(INSTRUMENTS, value="Flute", label="Instrument (General MIDI)")
            arrangement = gr.Dropdown(ARRANGEMENTS, value="melody", label="Arrangement (chords, bass and drums)",
                                      elem_id="gen-arrangement")
            known = gen.known_conditions("lstm")
            with gr.Row():
                key = gr.Dropdown([("as written", "any"), *[(k, k) for k in gen.KEYS]], value="any",
                                  label="Key (tonic)",
                                  elem_id="gen-key", min_width=100)
                style = gr.Dropdown([("any", "any"), *[(s_, s_) for s_ in known["style"]]], value="any",
                                    label="Style", visible=bool(known["style"]), elem_id="gen-style", min_width=100)
                meter = gr.Dropdown([("any", "any"), *meter_choices(known["meter"])], value="any",
                                    label="Meter", visible=bool(known["meter"]), elem_id="gen-meter", min_width=100)
            fonts = list(soundfonts())
            soundfont = gr.Dropdown(fonts, value=fonts[0] if fonts else None, label="SoundFont")
            primer = gr.File(label="Primer MIDI (optional: the piece starts with it; LSTM, GAN, Markov continue it)",
                             file_types=[".mid", ".midi"], type="filepath", elem_id="gen-primer")
            with gr.Accordion("Hum, whistle or play a primer", open=False, elem_id="gen-hum"):
                recording = gr.Audio(sources=["upload", "microphone"], type="filepath", buttons=["download"],
                                     label="A few seconds of melody (record or upload)",
                                     elem_id="gen-hum-audio")
                gr.Examples([[str(EXAMPLES_DIR / "generation" / "primer_flute_melody.ogg")]], inputs=recording,
                            label="Example (a held-out folk tune on a flute, rendered here)")
                hum_button = gr.Button("Transcribe to a primer", elem_id="gen-hum-run")
                hum_note = gr.Markdown(elem_id="gen-hum-note")
                hum_roll = gr.Plot(show_label=False, label="Transcribed primer", elem_id="gen-hum-roll", visible=False)
        with gr.Column(scale=2):
            audio = gr.Audio(buttons=["download"], label="Rendered audio", type="filepath", elem_id="gen-audio",
                             interactive=False)
            midi = gr.File(label="MIDI", elem_id="gen-midi")
            roll = gr.Plot(show_label=False, label="Piano roll", elem_id="gen-roll", visible=False)
    with gr.Row():
        mel = gr.Plot(show_label=False, label="Log-mel (generated)", elem_id="gen-mel", visible=False)
        mel_ref = gr.Plot(show_label=False, label="Log-mel (real)", elem_id="gen-mel-ref", visible=False)
    with gr.Row():
        chroma = gr.Plot(show_label=False, label="Chroma (generated)", elem_id="gen-chroma", visible=False)
        chroma_ref = gr.Plot(show_label=False, label="Chroma (real)", visible=False)
    with gr.Row():
        zcr = gr.Plot(show_label=False, label="ZCR (generated)", elem_id="gen-zcr", visible=False)
        zcr_ref = gr.Plot(show_label=False, label="ZCR (real)", visible=False)
    with gr.Accordion("Training curves and model card", open=False):
        curves = gr.Plot(show_label=False, label="Losses", elem_id="gen-curves", visible=False)
    hum_button.click(hum, inputs=[recording, tempo, program], outputs=[primer, hum_roll, hum_note],
                     api_name="transcribe_primer", **heavy(),
                     api_description="A hummed, whistled or played recording as the primer MIDI the models continue.")
    analyses = gr.State(None)  # the piece's and the real tune's analyses, from run to compare, then released
    event = button.click(
        run, inputs=[model, seconds, temperature, seed, tempo, program, soundfont, primer, arrangement, key, style,
                     meter],
        outputs=[audio, midi, roll, analyses], api_name="generate", **heavy(),
        api_description="A piece as audio, MIDI and piano roll (for its notes as data, use /api_generate).",
    )
    event.success(compare, inputs=analyses, outputs=[mel, mel_ref, chroma, chroma_ref, zcr, zcr_ref, analyses],
                  api_visibility="private").then(training_curves, inputs=model, outputs=curves,
                                                 api_visibility="private")
    model.change(training_curves, inputs=model, outputs=curves, api_visibility="private")
