"""Cards are written by code: evaluate commands merge what they measured and keep every other key."""
import json
from pathlib import Path

from core.search import evaluate as search_eval
from core.search import spaces
from core.training import read_card, update_card

ROOT = Path(__file__).resolve().parents[1]


def test_update_card_merges_metrics_and_keeps_every_other_key(tmp_path):
    (tmp_path / "card.json").write_text(json.dumps({"name": "m", "seed": 3,
                                                    "metrics": {"final_loss": 0.1, "acc": 0.5}}))
    card = update_card(tmp_path, {"acc": 0.75}, "python -m x.evaluate", data="40 tracks", notes="why")
    assert card == read_card(tmp_path)
    assert card["seed"] == 3 and card["notes"] == "why"
    assert card["metrics"] == {"final_loss": 0.1, "acc": 0.75, "eval_command": "python -m x.evaluate",
                               "eval_data": "40 tracks"}


def test_search_evaluate_writes_the_recalls_the_tab_reads(tmp_path, monkeypatch):
    (tmp_path / "enc").mkdir()
    (tmp_path / "enc" / "card.json").write_text(json.dumps({"name": "enc", "config": {"model": {}}}))
    table = {f"{system}/{kind}": {"all": value, "n": n}
             for system, value in (("naive", 0.5), ("mfcc", 0.6), ("learned", 0.65), ("mel", 0.7))
             for kind, n in (("sample", 9), ("loop", 4))}
    search_eval.write_card(table, 3, "tiny", "python -m core.search.evaluate --data tiny", directory=tmp_path / "enc")
    monkeypatch.setattr(spaces, "MODEL_DIR", tmp_path)
    assert spaces.measured_recall("enc") == {"mel": (0.7, 0.7), "learned": (0.65, 0.65), "mfcc": (0.6, 0.6)}
    card = read_card(tmp_path / "enc")
    assert card["config"] == {"model": {}}
    assert card["metrics"]["eval_data"] == "3 generated tracks (tiny): 9 samples, 4 loops"


def test_the_bundled_search_card_holds_the_figures_its_evaluation_wrote():
    saved = json.loads((ROOT / "docs" / "figures" / "search_eval.json").read_text())
    recall = spaces.measured_recall()
    for space in ("mel", "learned", "mfcc"):
        assert recall[space] == tuple(round(saved["table"][f"{space}/{kind}"]["all"], 3) for kind in ("sample", "loop"))
