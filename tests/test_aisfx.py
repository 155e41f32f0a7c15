"""The aiSFX port against the original package (tests/data/aisfx/reference.npz, made once by
scripts/aisfx_reference.py with the package's own essentia spectrogram and inference code)."""
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from core.backbones import aisfx

DATA = Path(__file__).parent / "data" / "aisfx"
REF = np.load(DATA / "reference.npz")


def _clip(name):
    y, sr = sf.read(DATA / f"{name}.flac", dtype="float32")
    assert sr == aisfx.SR
    return y


@pytest.mark.parametrize("name", ["pattern", "blip"])
def test_the_spectrogram_is_the_packages_essentia_one(name):
    ours, theirs = aisfx.spectrogram(_clip(name)), REF[f"{name}_spectrogram"]
    assert ours.shape == theirs.shape
    assert np.abs(ours - theirs).max() < 1e-3 * max(1.0, float(np.abs(theirs).max()))


def test_the_network_and_the_whole_path_reproduce_the_packages_embeddings():
    net = aisfx.load()  # float16 weights on disk
    theirs = REF["pattern_embeddings"]
    ours = aisfx.embed_blocks(net, _clip("pattern"), aisfx.SR, seconds=None)
    assert ours.shape == theirs.shape == (2, aisfx.DIM)
    # float16 weights: a few parts in a thousand of the embedding's scale; the direction is the same
    assert np.abs(ours - theirs).max() < 5e-3 * np.abs(theirs).max()
    cos = (ours * theirs).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(theirs, axis=1)
    assert cos.min() > 0.9999


def test_a_clip_under_one_block_is_padded_not_refused_and_one_vector_comes_per_file():
    net = aisfx.load()
    v = aisfx.embed(net, _clip("blip"), aisfx.SR)
    assert v.shape == (aisfx.DIM,) and v.dtype == np.float32 and np.isfinite(v).all() and np.any(v)
    # any rate in: 22.05 kHz audio is brought to the network's 44.1 kHz, as the caller would do it
    from core.audio import resample

    y22 = resample(_clip("pattern"), aisfx.SR, 22_050)
    np.testing.assert_allclose(aisfx.embed(net, y22, 22_050),
                               aisfx.embed(net, resample(y22, 22_050, aisfx.SR), aisfx.SR), rtol=1e-5, atol=1e-5)


def test_the_bundled_model_rebuilds_from_its_config_and_refuses_another_kind(tmp_path):
    import json
    import shutil

    assert isinstance(aisfx.from_dir(aisfx.BUNDLED_DIR), aisfx.EmbeddingNet)
    other = tmp_path / "other"
    shutil.copytree(aisfx.BUNDLED_DIR, other)
    (other / "config.json").write_text(json.dumps({"kind": "musicnn", "kwargs": {}}))
    with pytest.raises(ValueError, match="not 'aisfx-embedding'"):
        aisfx.from_dir(other)
