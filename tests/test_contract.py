"""Every capability against the contract (core.capability): one call, one result with to_dict(), bundled
models that rebuild from a config.json naming their kind, a card beside each, examples, an evaluate command."""
import pytest

from core.capability import REGISTRY, Capability, discover, problems

CAPABILITIES = discover()


def test_every_capability_package_registers_itself_in_the_apps_order():
    assert list(CAPABILITIES) == ["analysis", "genre", "instruments", "search", "library", "effects",
                                  "generation"]


@pytest.mark.parametrize("name", list(CAPABILITIES))
def test_capability_meets_the_contract_and_every_bundled_model_rebuilds_from_its_config(name):
    assert problems(CAPABILITIES[name]) == []


def test_the_contract_tells_an_author_what_is_missing(tmp_path):
    class Result:  # no to_dict
        pass

    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text("{}")
    cap = Capability("new", run=lambda x: Result(), result=Result, load=lambda n: None, models_dir=tmp_path,
                     default_model="other", bundled=lambda: ["m"])
    found = " ".join(problems(cap))
    for words in ("no to_dict()", "no evaluate command", "default model 'other'", "no 'kind'", "no card.json"):
        assert words in found
    assert "new" not in REGISTRY  # checking does not register
