"""core.registry: one model per key even under concurrent first requests; device choice."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch

from core import registry


@pytest.fixture(autouse=True)
def clean_registry():
    registry.clear()
    yield
    registry.clear()
    registry.set_device(None)


def test_loads_once_under_concurrent_calls():
    calls = []
    lock = threading.Lock()

    def loader():
        with lock:
            calls.append(1)
        time.sleep(0.2)  # a slow load: every thread arrives while it runs
        return torch.nn.Linear(4, 2)

    with ThreadPoolExecutor(16) as pool:
        models = list(pool.map(lambda _: registry.get("linear", loader), range(32)))
    assert len(calls) == 1
    assert all(m is models[0] for m in models)
    assert registry.loaded() == ["linear"]


def test_slow_load_of_one_key_does_not_block_another():
    started, release = threading.Event(), threading.Event()
    calls = {"slow": 0, "fast": 0}

    def slow():
        calls["slow"] += 1
        started.set()
        release.wait(10)  # held open until the test lets go: "fast" must be answered meanwhile
        return "slow"

    def fast():
        calls["fast"] += 1
        return "fast"

    with ThreadPoolExecutor(3) as pool:
        first = pool.submit(registry.get, "slow", slow)
        assert started.wait(10)
        second = pool.submit(registry.get, "slow", slow)  # waits on the load in progress, never starts another
        try:
            # The timeouts only turn a deadlock into a failure; no speed is asserted.
            assert pool.submit(registry.get, "fast", fast).result(timeout=10) == "fast"
            assert not first.done() and not second.done()  # "fast" was answered while "slow" was still loading
            assert registry.loaded() == ["fast"]
        finally:
            release.set()
        assert first.result(timeout=10) == second.result(timeout=10) == "slow"
    assert calls == {"slow": 1, "fast": 1}
    assert registry.get("fast", fast) == "fast" and calls["fast"] == 1  # cached: asked again, not loaded again
    assert registry.loaded() == ["fast", "slow"]


def test_device_choice():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert registry.device().type == expected
    registry.set_device("cpu")
    assert registry.device() == torch.device("cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA"):
            registry.set_device("cuda")
    with pytest.raises(RuntimeError):
        registry.set_device("not-a-device")


def test_gpu_decorator_is_a_no_op_off_spaces(monkeypatch):
    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)

    def f(x):
        return x + 1

    assert registry.gpu(f) is f
    assert registry.gpu(duration=10)(f) is f
