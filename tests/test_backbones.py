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

    from core.backbones import mixes, tagging

    chosen = json.loads(mixes.FIGURE.read_text())
    assert tagging.MIX_THRESHOLD == chosen["threshold"] and list(tagging.MIX_TAGS) == chosen["tags"]
    assert chosen["solo"]["flagged"] == 0  # no real solo recording raises the notice
    assert not {"rock", "metal", "pop"} & set(tagging.MIX_TAGS)  # a solo electric guitar earns those by itself
    picked = mixes.choose([0.1, 0.27], [0.5, 0.2])
    assert picked["threshold"] == 0.28 and picked["mixes"]["flagged"] == 1
