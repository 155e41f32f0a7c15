"""Sample library tab: index a folder of one-shots and loops, search it by example with Yes/No, find duplicates."""
from __future__ import annotations

import shutil

import gradio as gr

from core.key import key_names
from core.library import Catalog, Filters, LibrarySearch, SearchEnded, find_duplicates, index
from core.library.index import DEFAULT_SPACE, SPACES
from server.files import output_path
from server.guard import one_of
from server.jobs import cancellable, heavy, long_job, user_errors
from server.limits import EXAMPLES_DIR, LIBRARY_DIR
from tabs.common import intro

TITLE = "Sample library"
EXAMPLE_LIBRARY = EXAMPLES_DIR / "library"
EXAMPLE_NAME = "example"
SPACE_CHOICES = [("aiSFX (trained on sound-effects libraries)", "aisfx"),
                 ("musicnn (taggers trained on real music)", "musicnn"), ("log-mel statistics", "mel")]
HEADERS = ["file", "similarity", "duration (s)", "tags", "BPM", "key", "answer"]
ANY_KEY = "any key"
KEY_CHOICES = [ANY_KEY] + [f"{tonic} {mode}" for tonic, mode in key_names()]
DUPLICATE_HEADERS = ["group", "file", "similarity"]


def libraries() -> list[str]:
    """The libraries under the server's data folder (the bundled example copied there on first use)."""
    example = LIBRARY_DIR / EXAMPLE_NAME
    if not example.exists() and EXAMPLE_LIBRARY.is_dir():
        shutil.copytree(EXAMPLE_LIBRARY, example, ignore=shutil.ignore_patterns("README.md"))
    return sorted(p.name for p in LIBRARY_DIR.iterdir() if p.is_dir()) if LIBRARY_DIR.is_dir() else []


def _folder(name):
    """A library by name, only among the folders under the data directory: a client never names a path."""
    return LIBRARY_DIR / one_of(name, libraries(), "library", default=EXAMPLE_NAME)


def _files(name) -> list[str]:
    try:
        return list(Catalog.load(_folder(name)).paths)
    except Exception:  # not indexed yet: nothing to pick from
        return []


@user_errors
@cancellable
def build_index(name, progress=gr.Progress()):
    """Index new and changed files (incremental; unreadable files are listed, never stop the run)."""
    folder = _folder(name)
    report = index(folder, progress=lambda f, m: progress(f, desc=m))
    note = f"**{name}**: {report.summary()}"
    if report.errors:
        note += "\n\nNot indexed:\n" + "\n".join(f"- `{path}`: {why}" for path, why in report.errors[:20])
    files = _files(name)
    return note, gr.update(choices=files, value=files[0] if files else None)


def _render(s: LibrarySearch | None):
    """The state, status, the candidate to judge (audio + its name), the table, exports, the answer buttons."""
    if s is None:
        return None, "Index a library, then search it.", None, None, [], None, *_buttons(None)
    nxt = None if s.ended else s.next()
    yes = len(s.positives)
    if s.ended:
        status = (f"**Search ended**: {s.patience} No answers in a row. {yes} chosen. Undo the last answer to go "
                  "on, or download the results.")
    elif nxt is None:
        status = f"**No file left** that passes the filters. {yes} chosen."
    else:
        status = (f"**Is this what you are looking for?** `{nxt.path}` (similarity {nxt.score:.2f}). "
                  f"Chosen {yes}, No in a row {s.misses_in_a_row} of {s.patience}.")
    rows = [[r.path, round(r.score, 3), round(r.duration, 2), ", ".join(r.tags), r.bpm, r.key, r.answer]
            for r in s.table(20)]
    audio = str(s.catalog.full_path(nxt.path)) if nxt is not None else None
    return s, status, audio, nxt.path if nxt is not None else None, rows, None, *_buttons(s)


def _buttons(s: LibrarySearch | None) -> list[dict]:
    live = s is not None and not s.ended and s.next() is not None
    return [gr.update(interactive=live), gr.update(interactive=live),
            gr.update(interactive=s is not None and bool(s.history))]


@user_errors
@cancellable
def start(name, upload, library_file, space, tag, min_s, max_s, bpm, key=ANY_KEY, progress=gr.Progress()):
    folder = _folder(name)
    if upload is None and not library_file:
        raise gr.Error("Upload a sound, or pick a file of the library, to search by example.")
    progress(0.3, desc="Reading the query")
    query = upload if upload is not None else folder / one_of(library_file, _files(name), "file")
    key = one_of(key or ANY_KEY, KEY_CHOICES, "key", default=ANY_KEY)
    filters = Filters(tag=(tag or "").strip() or None, min_s=min_s or None, max_s=max_s or None, bpm=bpm or None,
                      key=None if key == ANY_KEY else key)
    space = one_of(space, SPACES, "space", default=DEFAULT_SPACE)
    return _render(LibrarySearch(folder, query, space=space, filters=filters))


def _search(state) -> LibrarySearch:
    if not isinstance(state, LibrarySearch):
        raise ValueError("Start a search first.")
    return state


@user_errors
def answer(state, candidate, yes: bool):
    s = _search(state)
    nxt = s.next()
    if not candidate or nxt is None or nxt.path != candidate:
        return _render(s)  # a stale or repeated click: the candidate it answered is gone
    try:
        s.answer(candidate, yes)
    except SearchEnded as err:
        gr.Warning(str(err))
    return _render(s)


@user_errors
def undo(state):
    s = _search(state)
    s.undo()
    return _render(s)


@user_errors
def export(state):
    s = _search(state)
    files = [s.to_csv(output_path("library_results.csv")), s.to_json(output_path("library_results.json"))]
    if s.chosen():
        files.append(s.export_zip(output_path("chosen_samples.zip")))
    return files


@user_errors
@cancellable
def duplicates(name, progress=gr.Progress()):
    progress(0.3, desc="Comparing fingerprints")
    groups = find_duplicates(_folder(name))
    rows = [[k + 1, path, round(g.similarity, 4)] for k, g in enumerate(groups) for path in g.paths]
    note = (f"{len(groups)} group(s) of near-duplicates (same sound re-encoded, trimmed or at another level)."
            if groups else "No near-duplicates in this library.")
    return rows, note


def build() -> None:
    intro("Index a folder of one-shots and loops, then **search it by example**: upload a sound (or pick one of the "
          "library) and answer **Yes** or **No** to each proposal; the ranking learns from every answer. Filter by "
          "tag, length, tempo and key, export the results and a zip of the chosen files, and find near-duplicates.",
          "The library lives on the server (its data folder); the example is 27 CC0 drum, percussion, bass and loop "
          "samples from Debian's sonic-pi-samples. Indexing is incremental: only new or changed files are read. "
          "The search is the loop-search paper's Algorithm 1 taken from one track to a library (Rocchio feedback "
          "in the embedding space; the session ends after five No answers in a row). Figures and the command "
          "line: docs/library.md.")
    state = gr.State(None, time_to_live=3600)
    with gr.Row():
        with gr.Column(scale=1, min_width=320):
            name = gr.Dropdown(libraries(), value=EXAMPLE_NAME, label="Library", elem_id="library-name")
            index_button = gr.Button("Index the library", elem_id="library-index")
            index_note = gr.Markdown(elem_id="library-index-note")
            upload = gr.Audio(sources=["upload"], type="filepath", label="Query: a sound of yours",
                              elem_id="library-query")
            library_file = gr.Dropdown([], label="…or a file of the library", elem_id="library-file",
                                       allow_custom_value=False)
            space = gr.Radio(SPACE_CHOICES, value=DEFAULT_SPACE, label="Similarity", elem_id="library-space")
            with gr.Accordion("Filters", open=False):
                tag = gr.Textbox(label="Tag or name contains", elem_id="library-tag")
                with gr.Row():
                    min_s = gr.Number(None, minimum=0, label="Shortest (s)")
                    max_s = gr.Number(None, minimum=0, label="Longest (s)")
                    bpm = gr.Number(None, minimum=0, maximum=400, label="Tempo (BPM, loops)")
                key = gr.Dropdown(KEY_CHOICES, value=ANY_KEY, label="Key (loops; its relative major/minor too)",
                                  elem_id="library-key")
            go = gr.Button("Search by example", variant="primary", elem_id="library-search")
        with gr.Column(scale=2):
            status = gr.Markdown("Index a library, then search it.", elem_id="library-status")
            candidate_audio = gr.Audio(label="Proposal", interactive=False, autoplay=True, elem_id="library-proposal")
            candidate = gr.Textbox(visible=False, label="Proposal shown")
            with gr.Row():
                yes = gr.Button("Yes", variant="primary", interactive=False, elem_id="library-yes")
                no = gr.Button("No", variant="stop", interactive=False, elem_id="library-no")
                back = gr.Button("Undo", interactive=False, elem_id="library-undo")
            table = gr.Dataframe(headers=HEADERS, label="Results (answered first, then the best open ones)",
                                 interactive=False, elem_id="library-table")
            with gr.Row():
                export_button = gr.Button("Export CSV, JSON and the chosen files", elem_id="library-export")
            files = gr.File(label="Downloads", file_count="multiple", elem_id="library-files")
            with gr.Accordion("Near-duplicates", open=False):
                dup_button = gr.Button("Find near-duplicates", elem_id="library-duplicates")
                dup_note = gr.Markdown()
                dup_table = gr.Dataframe(headers=DUPLICATE_HEADERS, interactive=False, elem_id="library-dup-table")
    buttons = [yes, no, back]
    outputs = [state, status, candidate_audio, candidate, table, files, *buttons]
    index_button.click(build_index, inputs=name, outputs=[index_note, library_file], api_name="library_index",
                       api_description="Index a server library (new and changed files only).", **long_job(build_index))
    name.change(lambda n: gr.update(choices=_files(n), value=None), inputs=name, outputs=library_file,
                api_visibility="private")
    go.click(start, inputs=[name, upload, library_file, space, tag, min_s, max_s, bpm, key], outputs=outputs,
             api_name="library_search", api_description="Search a library by example: the first proposal.",
             **heavy())
    yes.click(answer, inputs=[state, candidate, gr.State(True)], outputs=outputs, api_name="library_yes")
    no.click(answer, inputs=[state, candidate, gr.State(False)], outputs=outputs, api_name="library_no")
    back.click(undo, inputs=state, outputs=outputs, api_name="library_undo")
    export_button.click(export, inputs=state, outputs=files, api_name="library_export")
    dup_button.click(duplicates, inputs=name, outputs=[dup_table, dup_note], api_name="library_duplicates",
                     **heavy())
