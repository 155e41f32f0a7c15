"""bench/bench_nam_compare.py in --quick mode: NAM's own trainer and our capture on every pair, tiny runs."""
import importlib.util
import json
import math
from pathlib import Path

import pytest

pytest.importorskip("nam")  # neural-amp-modeler, a dev requirement
pytest.importorskip("pytorch_lightning")
pytest.importorskip("pedalboard")

ROOT = Path(__file__).resolve().parent.parent


def _bench():
    spec = importlib.util.spec_from_file_location("bench_nam_compare", ROOT / "bench" / "bench_nam_compare.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_quick_run_scores_every_pair_and_system(tmp_path):
    import torch

    bench = _bench()
    out = tmp_path / "nam_compare.json"
    threads = torch.get_num_threads()
    result = bench.main(["--quick", "--pairs", ",".join(bench.PAIRS), "--cache", str(tmp_path / "pairs"),
                         "--write", "--out", str(out)])
    assert torch.get_num_threads() == threads  # main puts the thread count back
    written = json.loads(out.read_text())
    assert written == result
    assert written["threads"] == 1 and written["quick"] is True
    assert written["versions"]["neural-amp-modeler"] and written["versions"]["torch"]
    assert "--quick" in written["command"] and isinstance(written["load_avg_1min"], float)
    assert set(written["pairs"]) == set(bench.PAIRS)
    for name, pair in written["pairs"].items():
        assert pair["train_samples"] + pair["held_out_samples"] == pair["aligned_samples"]
        assert pair["held_out_samples"] == pair["aligned_samples"] - int(0.8 * pair["aligned_samples"])
        assert set(pair["systems"]) == set(bench.SYSTEMS), name
        for system, row in pair["systems"].items():
            assert math.isfinite(row["esr"]) and row["esr"] >= 0, (name, system)
            assert row["train_s"] > 0 and row["steps"] > 0 and row["params"] > 0, (name, system)
        nam_lstm, ours_lstm = pair["systems"]["nam-lstm-1x16"], pair["systems"]["ours-nam-lstm-1x16"]
        assert nam_lstm["params"] == ours_lstm["params"]  # the same 1x16 LSTM in both trainers
        assert nam_lstm["epochs"] == bench.QUICK_NAM_EPOCHS and ours_lstm["steps"] == bench.QUICK_STEPS
        # NAM's own validation ESR (on the held-out part) agrees with the benchmark's (the LSTM sees all of it)
        assert nam_lstm["nam_logged_val_esr"] == pytest.approx(nam_lstm["esr"], rel=1e-3)
    # the pairs, NAM's WAV files and the output went to tmp_path only
    assert (tmp_path / "pairs" / "amp_chain" / "wet.wav").exists()
    assert (tmp_path / "pairs" / "capture_overdrive" / "nam_input.wav").exists()
    assert written["pairs"]["capture_overdrive"]["latency_samples"] > 0  # the bundled pair's 12 ms, found
