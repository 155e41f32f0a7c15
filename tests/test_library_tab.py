"""The Sample library tab's handlers: libraries only under the server's data folder, clear refusals."""
import gradio as gr
import pytest

from server import limits
from tabs import library as tab


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(tab, "LIBRARY_DIR", tmp_path / "libraries")
    return tmp_path


def test_the_example_library_is_copied_under_the_data_folder_and_listed(data_dir):
    assert tab.libraries() == ["example"]
    copied = sorted(p.name for p in (data_dir / "libraries" / "example").rglob("*.flac"))
    assert len(copied) == 27 and "bd_808.flac" in copied
    assert not (data_dir / "libraries" / "example" / "README.md").exists()


@pytest.mark.parametrize("name", ["../", "/etc", str(limits.ROOT), "example/../../x"])
def test_a_library_outside_the_data_folder_is_refused(data_dir, name):
    with pytest.raises(ValueError, match="library"):
        tab._folder(name)


def test_a_search_needs_a_query_and_answers_need_a_search(data_dir):
    with pytest.raises(gr.Error, match="Upload a sound, or pick a file"):
        for _ in tab.start("example", None, None, "musicnn", "", None, None, None):
            pass
    with pytest.raises(gr.Error, match="Start a search first"):
        tab.answer(None, "kicks/bd_808.flac", True)
    with pytest.raises(gr.Error, match="Start a search first"):
        tab.export(None)


def test_the_data_folder_is_configurable_and_the_app_serves_it():
    import app  # noqa: F401 (launch's allowed_paths names LIBRARY_DIR)

    assert limits.LIBRARY_DIR.parent == limits.DATA_DIR
    assert "LIBRARY_DIR" in (limits.ROOT / "app.py").read_text()
