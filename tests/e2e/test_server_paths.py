"""No endpoint opens a path on the server: every endpoint, every file or name parameter, tried with server paths.

Raw REST calls (what an attacker sends, not gradio_client) give each file parameter a server file as FileData,
as FileData without its meta, and as a bare string; each name parameter (model, SoundFont, effect...) a server
folder or file that the engine could load. Every call must be refused, with the same words whether or not the
path exists, so that an answer tells nothing about the server's files.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import ROOT

pytestmark = pytest.mark.e2e

#: Loadable things on the server: a model folder, a SoundFont, an audio file (made in the test).
SERVER_NAMES = [str(ROOT / "assets" / "models" / "genre" / "cnn"), "/usr/share/sounds/sf2/FluidR3_GM.sf2",
                "/etc/shadow"]


def _post(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def call(app_url: str, name: str, data: list) -> tuple[str, str]:
    """("complete" | "error" | "refused", what came back) for one raw REST call."""
    status, body = _post(f"{app_url}/gradio_api/call/{name.lstrip('/')}", {"data": data})
    if status != 200:
        return "refused", str(body.get("detail", body))
    with urllib.request.urlopen(f"{app_url}/gradio_api/call/{name.lstrip('/')}/{body['event_id']}", timeout=120) as r:
        text = r.read().decode()
    events = [line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("event: ")]
    datas = [line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("data: ")]
    return events[-1], datas[-1]


def _default(param: dict):
    if param.get("parameter_has_default"):
        return param.get("parameter_default")
    return {"float": 1.0, "int": 1, "bool": True}.get(param["python_type"]["type"], None)


def _cases(info: dict, secret: str):
    """(endpoint, parameter, data) with one server path in a file or name parameter, the rest at defaults."""
    for name, endpoint in info["named_endpoints"].items():
        params = endpoint["parameters"]
        for i, p in enumerate(params):
            kind = p["python_type"]["type"]
            if "filepath" in kind:
                values = [{"path": secret, "meta": {"_type": "gradio.FileData"}}, {"path": secret}, secret]
                values = [[v] for v in values] if kind.startswith("list") else values
            elif "str" in kind or kind.startswith("Literal"):
                values = SERVER_NAMES + [secret]
            else:
                continue
            for value in values:
                data = [_default(q) for q in params]
                # every file parameter holds a server path, so no real upload can make the call succeed
                for j, q in enumerate(params):
                    if "filepath" in q["python_type"]["type"] and j != i:
                        data[j] = {"path": secret, "meta": {"_type": "gradio.FileData"}}
                data[i] = value
                yield name, p["parameter_name"], data


def test_every_endpoint_refuses_server_paths_and_says_the_same_whether_they_exist(app_url, tmp_path):
    secret = tmp_path / "secret.wav"
    t = np.arange(22_050 * 4) / 22_050
    sf.write(secret, (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 22_050)
    missing = tmp_path / "missing.wav"
    with urllib.request.urlopen(f"{app_url}/gradio_api/info", timeout=30) as r:
        info = json.load(r)
    tried = set()
    for (name, param, data), (_, _, data_missing) in zip(_cases(info, str(secret)), _cases(info, str(missing))):
        outcome, text = call(app_url, name, data)
        assert outcome in ("error", "refused"), f"{name}({param}) accepted a server path: {text[:300]}"
        assert "Traceback" not in text and "upstream Gradio app" not in text, (name, param, text)
        _, text_missing = call(app_url, name, data_missing)
        assert text.replace(str(secret), "P") == text_missing.replace(str(missing), "P"), (name, param)
        tried.add(name)
    # every endpoint that takes a file or a name was tried
    takes = {n for n, e in info["named_endpoints"].items()
             if any("filepath" in p["python_type"]["type"] or "str" in p["python_type"]["type"]
                    or p["python_type"]["type"].startswith("Literal") for p in e["parameters"])}
    assert tried == takes and {"/api_analysis", "/api_generate", "/api_effects_process", "/genre"} <= tried


def test_the_direct_routes_that_skip_the_queue_are_closed(app_url):
    status, body = _post(f"{app_url}/gradio_api/run/api_analysis", {"data": [{"path": "/etc/hostname"}]})
    assert status == 404 and "queue" in str(body)
