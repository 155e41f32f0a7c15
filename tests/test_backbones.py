"""The PyTorch musicnn reproduces the TensorFlow original (reference outputs made once with TF 2.15)."""
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from core.backbones import musicnn
from core.backbones.tf_checkpoint import read_index

REF = Path(__file__).parent / "data" / "musicnn"
CLIPS = ("rock", "classical", "violin", "dnb")


@pytest.fixture(scope="module")
def ref():
    return np.load(REF / "reference.npz")


@pytest.mark.parametrize("name,tf", [("mtt", "MTT_musicnn"), ("msd", "MSD_musicnn")])
def test_port_reproduces_tensorflow_tags_and_penultimate_from_audio(ref, name, tf):
    net = musicnn.load(name)
    assert net.labels == list(ref[f"tags_{tf[:3]}"])
    for clip in CLIPS:
        y, sr = sf.read(REF / f"clip_{clip}.wav", dtype="float32")
        X, _ = musicnn.patches(musicnn.log_mel(y, sr))
        np.testing.assert_allclose(X, ref[f"{clip}_mel"], atol=1e-3)
        e = net.embed(X)
        np.testing.assert_allclose(e["tags"], ref[f"{clip}_{tf}_taggram"], atol=1e-3)
        np.testing.assert_allclose(e["penultimate"], ref[f"{clip}_{tf}_penultimate"], atol=1e-3)
        np.testing.assert_allclose(e["mean_pool"], ref[f"{clip}_{tf}_mean_pool"], atol=1e-3)


def test_fast_bfloat16_path_stays_within_one_hundredth_of_the_float32_tags(ref):
    net = musicnn.Musicnn.from_pretrained(str(musicnn.BUNDLED_DIR / "musicnn-mtt")).eval()
    X = np.concatenate([ref[f"{c}_mel"] for c in CLIPS])
    a = net.embed(X)["tags"]
    net.fast = True
    b = net.embed(X)["tags"]
    assert np.abs(a - b).max() < 0.01


def test_relu_bn_max_shortcut_equals_the_literal_layers():
    torch.manual_seed(0)
    bn = torch.nn.BatchNorm2d(6, eps=1e-3).eval()
    with torch.no_grad():
        bn.weight.copy_(torch.tensor([1.0, -2.0, 0.5, -0.1, 3.0, 0.0]))
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
        bn.bias.uniform_(-1, 1)
    z = torch.randn(2, 6, 9, 5)
    expected = bn(torch.relu(z)).amax(dim=3)
    torch.testing.assert_close(musicnn._relu_bn_max(z, bn, dim=3), expected)


def test_patches_cut_like_the_original_and_drop_the_tail():
    mel = np.arange(400 * 96, dtype=np.float32).reshape(400, 96)
    X, starts = musicnn.patches(mel)
    assert X.shape == (2, 187, 96) and list(starts) == [0, 187]
    assert musicnn.patches(mel[:100])[0].shape == (0, 187, 96)


def test_short_clip_is_repeat_padded_to_one_patch_and_flagged():
    net = musicnn.load("mtt")
    y = np.sin(np.linspace(0, 400 * np.pi, 16000)).astype(np.float32)  # 1 s
    e = musicnn.embed_audio(net, y, 16000)
    assert e.padded and e.tags.shape == (1, 50)


def test_index_reader_refuses_a_file_that_is_not_a_checkpoint_index():
    with pytest.raises(ValueError, match="not a TensorFlow checkpoint index"):
        read_index(REF / "clip_violin.wav")


def test_unknown_backbone_name_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="mtt, msd"):
        musicnn.load("musicnnn")


def test_the_full_mix_threshold_is_the_one_chosen_on_real_solo_recordings():
    import json

    from core.backbones import tagging
    from core.classify import mixes

    chosen = json.loads(mixes.FIGURE.read_text())
    assert tagging.MIX_THRESHOLD == chosen["threshold"] and list(tagging.MIX_TAGS) == chosen["tags"]
    assert chosen["solo"]["flagged"] == 0  # no real solo recording raises the notice
    assert not {"rock", "metal", "pop"} & set(tagging.MIX_TAGS)  # a solo electric guitar earns those by itself
    picked = mixes.choose([0.1, 0.27], [0.5, 0.2])
    assert picked["threshold"] == 0.28 and picked["mixes"]["flagged"] == 1


# ----------------------------------------------------------------------------- speed paths (issue 28)

def _literal_front_end(net: musicnn.Musicnn, x: torch.Tensor) -> torch.Tensor:
    """The front end layer by layer as TensorFlow runs it: conv → ReLU → BN → max over every band."""
    x = net.input_bn(x.unsqueeze(1))
    feats = []
    for blk in net.timbral:
        feats.append(blk.bn(torch.relu(blk.conv(torch.nn.functional.pad(x, (0, 0, 3, 3))))).amax(3))
    for blk in net.temporal:
        k = blk.conv.kernel_size[0]
        xp = torch.nn.functional.pad(x, (0, 0, (k - 1) // 2, k - 1 - (k - 1) // 2))
        feats.append(blk.bn(torch.relu(blk.conv(xp))).amax(3))
    return torch.cat(feats, 1)


def _random_bn(bn: torch.nn.Module, gen: torch.Generator) -> None:
    """Random eval-mode BN with about half the scales negative (the case the sign folding handles)."""
    n = bn.weight.numel()
    with torch.no_grad():
        bn.weight.copy_(torch.randn(n, generator=gen))
        bn.weight[: n // 4] = -bn.weight[: n // 4].abs()
        bn.bias.copy_(torch.randn(n, generator=gen))
        bn.running_mean.copy_(torch.randn(n, generator=gen) * 0.1)
        bn.running_var.copy_(torch.rand(n, generator=gen) + 0.5)


def test_sign_folded_max_equals_the_max_and_min_formula_with_negative_bn_scales():
    gen = torch.Generator().manual_seed(1)
    conv = torch.nn.Conv2d(1, 8, (3, 5))
    bn = torch.nn.BatchNorm2d(8, eps=1e-3).eval()
    _random_bn(bn, gen)
    with torch.no_grad():
        bn.weight[0] = 0.0  # a zero scale: either branch is right
    x = torch.randn(3, 1, 11, 20, generator=gen)
    with torch.no_grad():
        old = musicnn._relu_bn_max(conv(x), bn, dim=3)  # max where a ≥ 0, min where a < 0
        s = musicnn._bn_sign(bn)
        a, b = musicnn._bn_affine(bn)
        folded = torch.nn.functional.conv2d(x, conv.weight * s.view(-1, 1, 1, 1), conv.bias * s)
        new = musicnn._signed_max(folded.amax(3), s, a, b)  # one max for every channel
    assert (s < 0).sum() >= 2
    torch.testing.assert_close(new, old, rtol=0, atol=1e-6)
    torch.testing.assert_close(new, bn(torch.relu(conv(x))).amax(3).detach(), rtol=0, atol=1e-6)


@pytest.mark.parametrize("spectral", [True, False])
def test_front_end_equals_the_literal_layers_on_random_weights(spectral):
    """Sign folding, the DFT timbral path (``spectral``) and the 1-D temporal convolutions vs TF's layer order."""
    gen = torch.Generator().manual_seed(2)
    net = musicnn.Musicnn().eval()
    for blk in (*net.timbral, *net.temporal):
        _random_bn(blk.bn, gen)
    _random_bn(net.input_bn, gen)
    net.spectral = spectral
    x = torch.randn(2, musicnn.PATCH_FRAMES, musicnn.N_MELS, generator=gen)
    with torch.no_grad():
        got = net._front_end(net.input_bn(x.unsqueeze(1)).squeeze(1))
        want = _literal_front_end(net, x)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-4)


def test_a_backbone_first_loaded_in_inference_mode_still_prepares_and_runs(ref):
    with torch.inference_mode():  # as core.search loads it on first use
        net = musicnn.Musicnn.from_pretrained(str(musicnn.BUNDLED_DIR / "musicnn-mtt")).eval()
        net.prepare()
        e = net.embed(ref["violin_mel"])
    np.testing.assert_allclose(e["tags"], ref["violin_MTT_musicnn_taggram"], atol=1e-3)
    assert net.prepare() is net.prepare()


def test_prepared_front_end_follows_the_weights_when_they_change():
    net = musicnn.Musicnn().eval()
    first = net.prepare()
    assert net.prepare() is first  # built once
    with torch.no_grad():
        net.timbral[0].bn.weight.mul_(-1)
    again = net.prepare()
    assert again is not first and torch.equal(again.timbral[0]["s"], -first.timbral[0]["s"])


@pytest.fixture(scope="module")
def ort_available():
    pytest.importorskip("onnxruntime")


@pytest.mark.parametrize("name", ["mtt", "msd"])
def test_onnx_runtime_matches_the_torch_float32_path_on_the_same_patches(ref, ort_available, monkeypatch, name):
    net = musicnn.load(name)
    assert net.runtime == "onnxruntime", net.runtime_note  # model.onnx ships beside the weights
    X = np.concatenate([ref[f"{c}_mel"] for c in CLIPS])
    got = net.embed(X)
    monkeypatch.setenv(musicnn.RUNTIME_ENV, "torch")
    assert net.runtime == "torch"
    want = net.embed(X)
    assert np.abs(got["tags"] - want["tags"]).max() < 1e-4
    assert np.abs(got["penultimate"] - want["penultimate"]).max() < 1e-3
    for k in ("mean_pool", "max_pool"):
        np.testing.assert_allclose(got[k], want[k], rtol=1e-5, atol=1e-3)


def test_the_environment_variable_forces_torch(ref, ort_available, monkeypatch):
    net = musicnn.load("mtt")
    monkeypatch.setenv(musicnn.RUNTIME_ENV, "torch")
    assert net.runtime == "torch" and net._session() is None and "torch" in net.runtime_note
    torch_net = musicnn.Musicnn.from_pretrained(str(musicnn.BUNDLED_DIR / "musicnn-mtt")).eval()
    X = ref["rock_mel"]
    np.testing.assert_array_equal(net.embed(X)["tags"], torch_net.embed(X)["tags"])  # the same PyTorch arithmetic
    monkeypatch.delenv(musicnn.RUNTIME_ENV)
    assert net.runtime == "onnxruntime"


def test_without_the_onnx_file_the_backbone_falls_back_to_torch_silently(ref, tmp_path, recwarn):
    net = musicnn.Musicnn.from_pretrained(str(musicnn.BUNDLED_DIR / "musicnn-mtt")).eval()
    net.onnx_path = tmp_path / musicnn.ONNX_FILE  # absent
    assert net.runtime == "torch" and "model.onnx" in net.runtime_note
    e = net.embed(ref["violin_mel"])
    np.testing.assert_allclose(e["tags"], ref["violin_MTT_musicnn_taggram"], atol=1e-3)
    (tmp_path / musicnn.ONNX_FILE).write_bytes(b"not an onnx file")  # a broken file: the same
    net._ort = None
    assert net.runtime == "torch" and "could not be opened" in net.runtime_note
    assert not [w for w in recwarn if "musicnn" in str(w.filename)]


def test_without_onnxruntime_the_backbone_falls_back_to_torch(ref, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails
    net = musicnn.Musicnn.from_pretrained(str(musicnn.BUNDLED_DIR / "musicnn-mtt")).eval()
    net.onnx_path = musicnn.BUNDLED_DIR / "musicnn-mtt" / musicnn.ONNX_FILE
    assert net.runtime == "torch" and "not installed" in net.runtime_note
    assert net.embed(ref["violin_mel"])["tags"].shape == (1, 50)


def test_an_export_of_other_weights_is_refused(ort_available, tmp_path):
    import shutil

    src = musicnn.BUNDLED_DIR / "musicnn-mtt"
    net = musicnn.Musicnn.from_pretrained(str(src)).eval()
    with torch.no_grad():
        net.out.bias.add_(1.0)  # retrained, say, but not re-exported
    net.save_pretrained(str(tmp_path))
    shutil.copy(src / musicnn.ONNX_FILE, tmp_path / musicnn.ONNX_FILE)
    mine = musicnn.Musicnn.from_pretrained(str(tmp_path)).eval()
    mine.onnx_path = tmp_path / musicnn.ONNX_FILE
    assert mine.runtime == "torch" and "other weights" in mine.runtime_note


def test_the_onnx_runtime_path_stops_between_batches_when_cancelled(ref, ort_available):
    from core.training import Cancelled, cancel_scope

    net = musicnn.load("mtt")
    assert net.runtime == "onnxruntime"
    with cancel_scope(lambda: True), pytest.raises(Cancelled):
        net.embed(ref["rock_mel"])


def test_log_mel_keeps_librosas_numbers_with_the_cached_filterbank():
    import librosa

    y = np.random.default_rng(3).standard_normal(2 * musicnn.SR).astype(np.float32) * 0.1
    mel = librosa.feature.melspectrogram(y=y, sr=musicnn.SR, hop_length=musicnn.HOP, n_fft=musicnn.N_FFT,
                                         n_mels=musicnn.N_MELS).T
    want = np.log10(10000 * np.minimum(mel, np.finfo(np.float16).max).astype(np.float16).astype(np.float32) + 1)
    np.testing.assert_array_equal(musicnn.log_mel(y), want)


def test_back_to_back_patches_are_a_view_with_the_same_values():
    mel = np.random.default_rng(4).standard_normal((600, 96)).astype(np.float32)
    X, starts = musicnn.patches(mel)
    assert np.shares_memory(X, mel) and list(starts) == [0, 187, 374]
    np.testing.assert_array_equal(X, np.stack([mel[s:s + 187] for s in starts]))
