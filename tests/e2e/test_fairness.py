"""One client cannot fill the queue: past its cap its requests are refused at the door, with one message,
while another client's analysis is answered. Raw REST, as a flood is sent (bench/bench_fairness.py measures
the victim's wait under the issue's floods)."""
from __future__ import annotations

import threading

import httpx
import pytest

from server.fairness import PER_CLIENT
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.e2e


def _upload(url, path):
    with open(path, "rb") as f:
        r = httpx.post(f"{url}/gradio_api/upload", files={"files": (path.name, f)}, timeout=60)
    return {"path": r.json()[0], "meta": {"_type": "gradio.FileData"}}


def _post(url, name, data, client):
    # uvicorn takes the client's address from X-Forwarded-For on loopback: two simulated clients
    r = httpx.post(f"{url}/gradio_api/call/{name}", json={"data": data}, headers={"X-Forwarded-For": client},
                   timeout=60)
    return r.status_code, r.json()


def _outcome(url, name, event_id):
    with httpx.stream("GET", f"{url}/gradio_api/call/{name}/{event_id}", timeout=120) as r:
        return [line[7:] for line in r.iter_lines() if line.startswith("event: ")][-1]


def test_a_flooding_client_is_refused_past_its_cap_and_another_client_is_served(app_url, tmp_path):
    import numpy as np
    import soundfile as sf

    # two minutes: the admitted jobs are still running when the last request of the burst arrives
    y, sr = sf.read(EXAMPLES / "folk_tune_hildebrandslied.mp3")
    long = tmp_path / "two_minutes.flac"
    sf.write(long, np.tile(y, (6, 1) if y.ndim == 2 else 6)[: 120 * sr], sr)
    song = _upload(app_url, long)
    answers = []
    def ask():
        answers.append(_post(app_url, "api_genre", [song, "musicnn", "mean"], "10.0.0.1"))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    admitted = [body["event_id"] for status, body in answers if status == 200]
    refused = [body["detail"] for status, body in answers if status == 429]
    assert len(admitted) <= PER_CLIENT and len(refused) >= 8 - PER_CLIENT
    assert all("already have" in message for message in refused)
    status, body = _post(app_url, "api_analysis", [song], "10.0.0.2")  # another client is not refused
    assert status == 200 and _outcome(app_url, "api_analysis", body["event_id"]) == "complete"
    assert all(_outcome(app_url, "api_genre", e) == "complete" for e in admitted)  # the admitted work is done
    # light steps (search answers) are never counted: the flooding client still gets its answer
    status, body = _post(app_url, "api_search_stop", [], "10.0.0.1")
    assert status == 200


def test_a_raw_call_with_values_missing_is_told_which_values_it_takes(app_url):
    status, body = _post(app_url, "api_genre", [None], "10.0.0.3")
    assert status == 200
    with httpx.stream("GET", f"{app_url}/gradio_api/call/api_genre/{body['event_id']}", timeout=60) as r:
        text = r.read().decode()
    assert "takes 3 values (audio, model, aggregate); it got 1" in text
