"""Reference outputs from the ORIGINAL TensorFlow musicnn (Pons & Serra, ISC licence).

Writes tests/data/musicnn/clip_*.wav (16 kHz mono float) and
tests/data/musicnn/reference.npz, which the PyTorch port is checked against.

This script is NOT part of the app or the test suite: nothing may import it, and
tensorflow must never go into requirements*.txt. Run it by hand, from the repo
root, inside a throwaway venv outside the repo:

    python3 -m venv /work/tfvenv
    /work/tfvenv/bin/pip install "tensorflow-cpu==2.15.1" "numpy<2" librosa soundfile
    /work/tfvenv/bin/pip install --no-deps /path/to/musicnn-0.1.0-py3-none-any.whl
    /work/tfvenv/bin/python scripts/musicnn_reference.py

(Versions used for the committed npz: Python 3.11.7, tensorflow-cpu 2.15.1,
numpy 1.26.4, librosa 0.11.0, soundfile 0.14.0, scipy 1.17.1, musicnn 0.1.0.)
musicnn's own pins (numpy<1.17, tensorflow>=1.14) cannot be met on Python 3.11,
hence --no-deps.

Keys in reference.npz (n = number of 3 s patches of the clip):
    {clip}_mel                       float32 (n, 187, 96)  network input, exactly
                                     what musicnn.extractor.batch_data() returns
    {clip}_{model}_taggram           float32 (n, 50)  sigmoid outputs
    {clip}_{model}_penultimate       float32 (n, 200)  computed per patch (as cnn3)
    {clip}_{model}_mean_pool         float32 (n, 753)
    {clip}_{model}_max_pool          float32 (n, 753)
    {clip}_{model}_cnn3              float32 (n, 187, 64)  computed per patch (see
                                     note below: extractor() itself returns a wrong
                                     cnn3 for n > 1)
    tags_MTT, tags_MSD               str arrays of the 50 tag names, in output order
    clips                            str array of clip names
    versions                         str array "name=version"
model is MTT_musicnn or MSD_musicnn.

Every taggram/penultimate/mean_pool/max_pool array is checked here against
musicnn.extractor.extractor(path, model, input_length=3, input_overlap=False,
extract_features=True), and every mel against musicnn.extractor.batch_data().
penultimate and cnn3 are taken from our own per-patch runs of the same graph
(checked equal for the first patch), because extractor()'s loop over the second
and later patches concatenates the stale first-patch cnn1/cnn2/cnn3/penultimate
again (it unpacks into midend1_/midend2_/midend3_/backend_ but concatenates
cnn1_/cnn2_/cnn3_/penultimate_). taggram, mean_pool, max_pool (and timbral,
temporal) from extractor() are correct for every patch.
"""

import os
import sys

import librosa
import numpy as np
import soundfile as sf
import tensorflow as tf
from musicnn import configuration as config
from musicnn import extractor as mx  # also calls tf.compat.v1.disable_eager_execution()
from musicnn import models

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(REPO, "tests", "data", "musicnn")

# name -> (source file in the repo, offset s, duration s). The genre files are
# only 9.0 s long and violin.flac only 3.0 s, so offsets/durations are chosen
# to give 3, 2, 1 and 3 patches (violin: 3.0 s -> 188 frames -> exactly 1 patch).
CLIPS = {
    "rock": ("assets/examples/genre/rock_131bpm.ogg", 0.0, 9.0),
    "classical": ("assets/examples/genre/classical_80bpm.ogg", 1.0, 8.0),
    "violin": ("assets/examples/instruments/violin.flac", 0.0, 3.0),
    "dnb": ("assets/examples/search/drum_and_bass_loops_and_samples.ogg", 10.0, 9.0),
}
MODELS = ["MTT_musicnn", "MSD_musicnn"]


def make_clips():
    os.makedirs(OUT_DIR, exist_ok=True)
    paths = {}
    for name, (src, offset, duration) in CLIPS.items():
        y, _ = librosa.load(os.path.join(REPO, src), sr=config.SR, mono=True,
                            offset=offset, duration=duration)
        path = os.path.join(OUT_DIR, f"clip_{name}.wav")
        # libsndfile puts a timestamped PEAK chunk in float WAVs, so only rewrite
        # when the samples differ (keeps a rerun from touching committed bytes)
        if not (os.path.exists(path) and np.array_equal(sf.read(path, dtype="float32")[0], y)):
            sf.write(path, y.astype(np.float32), config.SR, subtype="FLOAT")
        back, sr = librosa.load(path, sr=config.SR)
        assert sr == config.SR and np.array_equal(back, y), name
        paths[name] = path
    return paths


def n_frames_for(input_length=3):
    # same as extractor(): 3 s -> 187 frames
    return librosa.time_to_frames(input_length, sr=config.SR, n_fft=config.FFT_SIZE,
                                  hop_length=config.FFT_HOP) + 1


def run_graph(model, batches):
    """Same graph and restore as extractor(), but restore failures raise (extractor()
    swallows them with a bare except) and every patch's cnn3 is kept."""
    n_frames = n_frames_for()
    num_classes = len(config.MTT_LABELS if "MTT" in model else config.MSD_LABELS)
    tf.compat.v1.reset_default_graph()
    with tf.name_scope("model"):
        x = tf.compat.v1.placeholder(tf.float32, [None, n_frames, config.N_MELS])
        is_training = tf.compat.v1.placeholder(tf.bool)
        (y, timbral, temporal, cnn1, cnn2, cnn3, mean_pool, max_pool,
         penultimate) = models.define_model(x, is_training, model, num_classes)
        normalized_y = tf.nn.sigmoid(y)
    sess = tf.compat.v1.Session()
    sess.run(tf.compat.v1.global_variables_initializer())
    saver = tf.compat.v1.train.Saver()
    saver.restore(sess, os.path.dirname(mx.__file__) + "/" + model + "/")
    out = {}
    for name, batch in batches.items():
        rows = {k: [] for k in ("taggram", "penultimate", "mean_pool", "max_pool", "cnn3")}
        for i in range(batch.shape[0]):  # batch size 1, like config.BATCH_SIZE
            t, pen, mp, xp, c3 = sess.run(
                [normalized_y, penultimate, mean_pool, max_pool, cnn3],
                feed_dict={x: batch[i:i + 1], is_training: False})
            rows["taggram"].append(t[0])
            rows["penultimate"].append(pen[0])
            rows["mean_pool"].append(mp[0])
            rows["max_pool"].append(xp[0])
            rows["cnn3"].append(c3[0, :, :, 0])  # (1, 187, 64, 1) -> (187, 64)
        res = {k: np.stack(v).astype(np.float32) for k, v in rows.items()}
        # whole clip as one batch must agree (inference-mode BN, no cross-talk)
        t_all = sess.run(normalized_y, feed_dict={x: batch, is_training: False})
        assert np.allclose(t_all, res["taggram"], atol=1e-5), (model, name)
        out[name] = res
    sess.close()
    return out


def main():
    paths = make_clips()
    n_frames = n_frames_for()
    assert n_frames == 187
    data = {}
    batches = {}
    for name, path in paths.items():
        batch, _ = mx.batch_data(path, n_frames, n_frames)  # input_overlap=False
        batches[name] = batch
        data[f"{name}_mel"] = batch.astype(np.float32)
        print(name, "mel", batch.shape, batch.dtype)

    for model in MODELS:
        ours = run_graph(model, batches)
        for name, path in paths.items():
            taggram, tags, feats = mx.extractor(path, model=model, input_length=3,
                                                input_overlap=False, extract_features=True)
            r = ours[name]
            assert np.allclose(taggram, r["taggram"], atol=1e-6), (model, name)
            for k in ("mean_pool", "max_pool"):
                assert np.allclose(feats[k], r[k], atol=1e-6), (model, name, k)
            # extractor's penultimate and cnn3 are right for the first patch only:
            # every later row is a copy of the first patch (stale variables in its
            # loop). cnn3 is also np.squeeze'd and time-concatenated: (n*187, 64).
            n = r["taggram"].shape[0]
            pen = np.reshape(feats["penultimate"], (n, -1))
            c3 = np.reshape(feats["cnn3"], (n, n_frames, -1))
            for i in range(n):
                assert np.allclose(pen[i], r["penultimate"][0], atol=1e-6), (model, name)
                assert np.allclose(c3[i], r["cnn3"][0], atol=1e-6), (model, name)
            for k, v in r.items():
                data[f"{name}_{model}_{k}"] = v
            mean_tags = r["taggram"].mean(0)
            top = np.argsort(-mean_tags)[:5]
            print(model, name, [(tags[i], round(float(mean_tags[i]), 3)) for i in top])

    data["tags_MTT"] = np.array(config.MTT_LABELS)
    data["tags_MSD"] = np.array(config.MSD_LABELS)
    data["clips"] = np.array(list(CLIPS))
    import scipy
    data["versions"] = np.array([
        f"python={sys.version.split()[0]}", f"tensorflow={tf.__version__}",
        f"numpy={np.__version__}", f"librosa={librosa.__version__}",
        f"soundfile={sf.__version__}", f"scipy={scipy.__version__}", "musicnn=0.1.0"])
    out = os.path.join(OUT_DIR, "reference.npz")
    np.savez_compressed(out, **data)
    print("wrote", out, os.path.getsize(out), "bytes")


if __name__ == "__main__":
    main()
