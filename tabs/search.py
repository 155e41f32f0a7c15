"""Loop and sample search tab: mark one occurrence, answer yes/no about proposals, export every time found."""
from __future__ import annotations

from pathlib import Path

import gradio as gr

from core.audio import write_wav
from core.search import PATIENCE, SPACES, SearchEnded, SearchSession, check_query, view
from core.search.api import MAX_BPM, MAX_PATIENCE, MIN_DURATION, Workspace
from core.search.spaces import measured_recall
from server.files import output_path
from server.jobs import cancellable, heavy, user_errors
from server.limits import EXAMPLES_DIR, MAX_SECONDS
from tabs.common import intro, shown

TITLE = "Loop & sample search"
EXAMPLE = EXAMPLES_DIR / "search" / "drum_and_bass_loops_and_samples.ogg"
GROOVE = EXAMPLES_DIR / "house_groove_124bpm.ogg"
#: (track, query start, duration, hint, space): the example's two loops and its vocal chop (truth in its .json),
#: and the house groove's crash cymbal (every fourth bar).
EXAMPLES = [
    [str(EXAMPLE), 5.5, 5.5, "loop", "mel"],
    [str(EXAMPLE), 27.5, 2.8, "loop", "learned"],
    [str(EXAMPLE), 3.4, 0.8, "sample", "mfcc"],
    [str(GROOVE), 5.8, 1.0, "sample", "mel"],
]
#: What each example is, instead of the same file name three times.
EXAMPLE_LABELS = ["Drum & bass: loop 1 at 5.5 s (log-mel)", "Drum & bass: loop 2 at 27.5 s (learned)",
                  "Drum & bass: vocal chop at 3.4 s (MFCC)", "House groove: crash cymbal at 5.8 s (log-mel)"]
SPACE_CHOICES = [(label, key) for key, label in SPACES.items()]
DEFAULT_SPACE = "mel"  # the best measured here (docs/search.md)
HEADERS = ["start (s)", "end (s)", "start (beat)", "end (beat)", "source"]


def _overview(ws: Workspace, session=None):
    segs = view.segments(session) if session is not None else []
    ws.overview = view.overview(ws.envelope, segs=segs)
    return ws.overview.image


def _status(session: SearchSession) -> str:
    found, misses = len(session.positives) - 1, len(session.negatives)
    tempo = session.track.tempo(session.bpm, session.first_beat)
    beat = (f" Beats at {tempo[0]:.1f} BPM ({'yours' if session.bpm else 'detected; type the tempo if it is wrong'})."
            if tempo else " No steady beat found: times in seconds only.")
    if session.ended:
        why = (f"{misses} misses = patience" if misses >= session.patience else
               "no window left that overlaps none of the answered ones" if session.exhausted else "you stopped it")
        return (f"**Search ended** ({why}): {found} occurrence(s) found besides the query. "
                "Undo the last answer to go on, or download the times below." + beat)
    t = session.to_time(session.pending) if session.pending is not None else None
    return (f"**Is this the same sound?** Proposal at **{t:.2f}–{t + session.d:.2f} s**. "
            f"Found {found}, misses {misses} of {session.patience}." + beat)


def _render(ws: Workspace):
    """Every output of a search step, from the workspace's session."""
    s: SearchSession = ws.session
    proposal = None
    if s.pending is not None and not s.ended:
        t = s.to_time(s.pending)
        proposal = write_wav(output_path("proposal.wav"), s.track.clip(t, s.d), s.track.sr)
    rows = [[r["start_s"], r["end_s"], r.get("start_beat", ""), r.get("end_beat", ""), r["source"]]
            for r in s.occurrences()]
    stem = Path(ws.path).stem
    csv_path = s.to_csv(output_path(f"{stem}_occurrences.csv"))
    json_path = s.to_json(output_path(f"{stem}_occurrences.json"))
    return (ws, _status(s), proposal, s.to_time(s.pending) if s.pending is not None else None,
            shown(_overview(ws, s)), shown(view.timeline(s)), rows, [csv_path, json_path], *answer_buttons(s))



def answer_buttons(s: SearchSession | None) -> list[dict]:
    """Yes / No / Undo / Stop enabled only when they do something: an open proposal to answer, an answer to take
    back, a search to end (a click after Stop once did nothing, silently)."""
    live = s is not None and not s.ended and s.pending is not None
    can_undo = s is not None and bool(s.answers)
    return [gr.update(interactive=live), gr.update(interactive=live), gr.update(interactive=can_undo),
            gr.update(interactive=s is not None and not s.ended)]


@user_errors
@cancellable
def load_track(path, state, progress=gr.Progress()):
    if path is None:
        return None, None, gr.update(), gr.update(), "Upload a track or pick an example."
    progress(0.2, desc="Loading")
    ws = Workspace.open(path, max_seconds=MAX_SECONDS)
    note = f"Loaded {ws.duration:.1f} s. Set the query (or click the picture), then **Start search**."
    if ws.truncated:  # cut to the cap: say so, or found times would silently stop at the cut
        note += (f" The file lasts {ws.source_duration / 60:.1f} min; only the first {ws.duration / 60:.0f} min "
                 "are searched.")
    return (ws, shown(_overview(ws)), gr.update(maximum=round(ws.duration, 2)),
            gr.update(maximum=round(ws.duration / 3, 2)), note)


def _workspace(state) -> Workspace:
    if not isinstance(state, Workspace):
        raise ValueError("Load a track first: upload one or pick an example.")
    return state


@user_errors
def click_overview(state, evt: gr.SelectData):
    ws = _workspace(state)
    if ws.overview is None:
        raise ValueError("Load a track first.")
    return round(ws.overview.time_at(evt.index[0]), 2)


@user_errors
def play_query(state, t0, d):
    ws = _workspace(state)
    return write_wav(output_path("query.wav"), ws.clip(t0, d), ws.sr)


@user_errors
@cancellable
def start(state, t0, d, kind, space, patience, bpm=None, first_beat=0.0, progress=gr.Progress()):
    ws = _workspace(state)
    check_query(ws.duration, t0, d)  # before the slow part
    if space not in ws.tracks:
        progress(0.2, desc=f"Computing {SPACES.get(space, space)} features")
    session = ws.start(t0, d, space, patience=patience, kind=kind, bpm=bpm, first_beat=first_beat)
    if session.bpm is None:
        progress(0.5, desc="Estimating the tempo")
        session.track.tempo()  # once per track, for the export in beats
    progress(0.8, desc="Finding the best match")
    session.propose()
    return _render(ws)


def _session(state) -> SearchSession:
    ws = _workspace(state)
    if ws.session is None:
        raise ValueError("Start a search first.")
    return ws.session


@user_errors
def answer(state, shown_t, is_positive: bool):
    s = _session(state)
    if shown_t is None or s.pending is None or abs(s.to_time(s.pending) - float(shown_t)) > 1e-6:
        return _render(state)  # a stale or repeated click: the proposal it answered is gone
    try:
        s.feedback(shown_t, is_positive)
    except SearchEnded as err:
        gr.Warning(str(err))
        return _render(state)
    s.propose()
    return _render(state)


@user_errors
def undo(state):
    s = _session(state)
    if s.undo() is None:
        gr.Info("Nothing to undo.")
        s.propose()
    return _render(state)


@user_errors
def scale_tempo(state, factor: float):
    """×2 / ÷2 on the tempo in use (the exports in beats follow at once); the BPM box shows the result."""
    s = _session(state)
    bpm = s.scale_tempo(factor)
    return (round(bpm, 2), *_render(state))


@user_errors
def stop(state):
    _session(state).stop()
    return _render(state)


def build() -> None:
    intro("Mark one occurrence of a sound (a one-shot **sample** or a **loop**) and press **Start search**: the app "
          "proposes the other places it is heard, one at a time; answer **yes** or **no** and it learns from each "
          "answer. Export every time found as CSV or JSON, in seconds and beats.",
          "Jakubik's Algorithm 1: a nearest-neighbour search over every window of the query's length, where each "
          "yes joins the query and each no pushes its neighbours down. The search ends after *patience* misses in "
          "a row. Times in beats use the detected tempo, or yours.")
    # One Workspace per browser session: released when the tab closes (app.py's unload) or after an idle hour.
    state = gr.State(None, time_to_live=3600)
    with gr.Row():
        with gr.Column(scale=1, min_width=320):
            audio = gr.Audio(buttons=["download"], sources=["upload"], type="filepath", label="Track",
                             elem_id="search-audio")
            t0 = gr.Slider(0, 600, value=0, step=0.01, label="Query start t0 (s)", elem_id="search-t0")
            d = gr.Slider(MIN_DURATION, 200, value=1.0, step=0.01, label="Query duration d (s)", elem_id="search-d")
            kind = gr.Radio(["sample", "loop"], value="sample", label="The query is a", elem_id="search-kind")
            with gr.Row():  # the action right under the query, above the settings most users leave alone
                play = gr.Button("Play query", elem_id="search-play")
                go = gr.Button("Start search", variant="primary", elem_id="search-start")
            query_audio = gr.Audio(buttons=["download"], label="Query", interactive=False, elem_id="search-query-audio")
            recall = measured_recall()
            space = gr.Radio(SPACE_CHOICES, value=DEFAULT_SPACE, label="Feature space", elem_id="search-space",
                             info="Recall within patience 5 on held-out tracks (samples / loops): " + ", ".join(
                                 f"{SPACES[k].split(' (')[0]} {a:.2f} / {b:.2f}" for k, (a, b) in recall.items()))
            with gr.Row():
                patience = gr.Number(PATIENCE, precision=0, minimum=1, maximum=MAX_PATIENCE,
                                     label="Patience (misses before the search ends)", elem_id="search-patience")
            with gr.Row():
                bpm = gr.Number(None, minimum=0, maximum=MAX_BPM, label="Tempo in BPM (0: detect)",
                                elem_id="search-bpm")
                first_beat = gr.Number(0.0, minimum=0, maximum=MAX_SECONDS, label="Beat 0 at (s), with your tempo",
                                       elem_id="search-first-beat")
                double = gr.Button("Tempo ×2", elem_id="search-tempo-double", min_width=80)
                halve = gr.Button("Tempo ÷2", elem_id="search-tempo-halve", min_width=80)
            gr.Examples(examples=EXAMPLES, inputs=[audio, t0, d, kind, space], example_labels=EXAMPLE_LABELS,
                        label="Examples: two loops and a vocal chop in a drum & bass track made here, "
                              "a house groove's crash")
        with gr.Column(scale=2):
            note = gr.Markdown("Upload a track or pick an example.", label="Status", show_label=False,
                               elem_id="search-status")
            # the proposal and its answers first: after Start search they are on screen without scrolling
            proposal = gr.Audio(buttons=["download"], label="Proposal", interactive=False, autoplay=True,
                                elem_id="search-proposal")
            # the proposal on screen: answers refer to it, not to whatever is newest
            shown = gr.Number(visible=False, label="Proposal shown (s)")
            with gr.Row():
                # answers mean nothing before a search: off until Start search succeeds (answer_buttons)
                yes = gr.Button("Yes, same sound", variant="primary", elem_id="search-yes", interactive=False)
                no = gr.Button("No", variant="stop", elem_id="search-no", interactive=False)
                back = gr.Button("Undo", elem_id="search-undo", interactive=False)
                end = gr.Button("Stop", elem_id="search-stop", interactive=False)
            picture = gr.Image(label="Track", interactive=False, elem_id="search-overview", buttons=[], visible=False)
            timeline = gr.Plot(show_label=False, label="Timeline", elem_id="search-timeline", visible=False)
            table = gr.Dataframe(headers=HEADERS, label="Occurrences", interactive=False, elem_id="search-table")
            files = gr.File(label="Export (CSV and JSON)", file_count="multiple", elem_id="search-export")
    answers = [yes, no, back, end]
    outputs = [state, note, proposal, shown, picture, timeline, table, files, *answers]
    audio.change(load_track, inputs=[audio, state], outputs=[state, picture, t0, d, note], api_name="search_load",
                 api_description="Load a track to search in (this client's session keeps it).",
                 **heavy()).then(lambda: [gr.update(interactive=False)] * 4, outputs=answers, api_visibility="private")
    picture.select(click_overview, inputs=state, outputs=t0, api_visibility="private")
    play.click(play_query, inputs=[state, t0, d], outputs=query_audio, api_name="search_play_query",
               api_description="The query [t0, t0 + d) of the loaded track, as audio.")
    go.click(start, inputs=[state, t0, d, kind, space, patience, bpm, first_beat], outputs=outputs,
             api_name="search_start",
             api_description="Start a search for the query [t0, t0 + d): returns the first proposal (for data, "
                             "use /api_search_start).")
    yes.click(lambda s, t: answer(s, t, True), inputs=[state, shown], outputs=outputs, api_name="search_yes",
              api_description="The proposal starting at t is the sound searched for: returns the next one.")
    no.click(lambda s, t: answer(s, t, False), inputs=[state, shown], outputs=outputs, api_name="search_no",
             api_description="The proposal starting at t is not the sound searched for: returns the next one.")
    back.click(undo, inputs=state, outputs=outputs, api_name="search_undo",
               api_description="Take back the last answer.")
    end.click(stop, inputs=state, outputs=outputs, api_name="search_stop",
              api_description="End the search: the table and the exports hold every occurrence found.")
    for btn, factor in ((double, 2.0), (halve, 0.5)):
        btn.click(lambda s, f=factor: scale_tempo(s, f), inputs=state, outputs=[bpm, *outputs],
                  api_visibility="private")
