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
    started = threading.Event()

    def slow():
        started.set()
        time.sleep(1.0)
        return "slow"

    with ThreadPoolExecutor(2) as pool:
        pool.submit(registry.get, "slow", slow)
        started.wait()
        t0 = time.perf_counter()
        assert registry.get("fast", lambda: "fast") == "fast"
        assert time.perf_counter() - t0 < 0.5


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
