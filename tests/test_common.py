"""Shared tab helpers: handed-back files are swept, heavy handlers share one limit."""
import os
import time

from tabs import common


def test_output_paths_are_unique_and_old_ones_are_swept():
    a, b = common.output_path("x.csv"), common.output_path("x.csv")
    assert a != b and a.parent.parent == common.OUTPUT_ROOT
    a.write_text("old")
    past = time.time() - common.OUTPUT_TTL_S - 10
    os.utime(a.parent, (past, past))
    assert common.sweep_outputs() >= 1 and not a.parent.exists() and b.parent.exists()


def test_heavy_handlers_share_one_concurrency_group_of_two_on_cpu():
    assert common.heavy() == {"concurrency_id": "heavy", "concurrency_limit": 2}


def test_every_heavy_listener_in_the_app_is_in_the_shared_group():
    import app

    demo = app.build_app()
    fns = {fn.api_name: fn for fn in demo.fns.values()}
    for name in ("analyse", "genre", "classify_instrument", "tag_instruments", "effects_apply", "effects_capture",
                 "generate", "search_load"):
        fn = next(f for f in fns.values() if f.api_name == name)
        assert fn.concurrency_id == "heavy" and fn.concurrency_limit == 2, name
    fn = next(f for f in fns.values() if f.api_name == "search_yes")
    assert fn.concurrency_id != "heavy"  # answers never wait behind long jobs


def test_gradio_cache_is_cleaned_hourly():
    import app

    assert app.build_app().delete_cache == (3600, 7200)
