"""Neural Amp Modeler's own trainer against this app's capture trainer, on the same pairs, one CPU thread each.

    python bench/bench_nam_compare.py                     # every pair and system; prints one JSON object
    python bench/bench_nam_compare.py --write             # ... and stores docs/figures/nam_compare.json
    python bench/bench_nam_compare.py --quick             # smoke test: one pair, a few epochs/steps
    python bench/bench_nam_compare.py --nam-epochs 150 --steps 600 --pairs capture_overdrive,amp_chain

Pairs (written under .cache/nam_compare/): the bundled capture pair (an overdrive with 12 ms of latency), a
pedalboard amp chain and a pedalboard compressor into drive, each on the bundled capture's dry signal.

Both systems see the same data: ``core.effects.train.load_pair`` reads the pair and removes its latency; the
first 80% of the aligned pair is for training, the last 20% is held out, and the score is the ESR
sum((y - y_hat)^2) / sum(y^2) on raw samples (``core.effects.metrics.esr``) over the whole held-out part.

Systems:
  nam-lstm-1x16        NAM's trainer (``nam.train.lightning_module.LightningModule`` + ``nam.data.Dataset`` +
                       PyTorch Lightning) with NAM's "feather" LSTM (1 layer x 16, burn-in 4096, truncate 512)
  nam-wavenet-feather  the same trainer with NAM's "feather" WaveNet (8/4 channels, ~3k parameters)
  ours-nam-lstm-1x16   ``core.effects.train.capture(..., model="nam-lstm-1x16", steps=S)``
  ours-lstm            ``core.effects.train.capture(..., model="lstm", steps=S)``
  ours-tcn             ``core.effects.train.capture(..., model="tcn", steps=S)`` (the dilated TCN)

NAM 0.13's simplified trainer (``nam.train.core.train``) only trains its packed WaveNet and needs one of NAM's
standard reamp files, so this runs NAM's trainer the way ``nam.train.full.main`` does (configs in, Lightning
``Trainer.fit``), with the model/loss/optimiser settings of NAM's earlier "feather" presets (0.7-0.12,
``nam/train/core.py``) written in 0.13's config format, and 0.13's data pipeline (-18 dBFS output normalisation,
batch 16, ny 8192). The aligned pair is fed to it as 24-bit WAV files (``nam.data`` reads WAV only):
train = samples [0, split), validation = [split, end).

Validation: NAM validates on the held-out 20% after every epoch, as it normally does, but here that only logs:
no checkpoint selection, no early stopping, and the ExponentialLR schedule does not read it. The reported ESR is
the last epoch's model, as ours is the last step's. ``esr_best_val_epoch`` is what NAM's own trainer would have
exported (the checkpoint with the best validation loss), which is chosen on the held-out part and so optimistic.
``train_s`` is ``time.perf_counter`` around the training call only (NAM: ``Trainer.fit``, its per-epoch
validation passes included and also given as ``validation_s``; ours: ``core.effects.train.fit`` inside capture).
"""
from __future__ import annotations

import os

if __name__ == "__main__":  # before torch is imported: one thread, and no GPU for either trainer
    for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(_var, "1")
    os.environ["CUDA_VISIBLE_DEVICES"] = ""

import argparse
import contextlib
import copy
import json
import logging
import math
import platform
import shlex
import sys
import time
import warnings
from importlib import metadata as _metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

import numpy as np
import soundfile as sf
import torch

from core.effects import metrics
from core.effects import train as ours

EXAMPLES = ROOT / "assets" / "examples" / "effects"
DRY = EXAMPLES / "effects_capture_dry.flac"
WET = EXAMPLES / "effects_capture_wet.flac"
CACHE = ROOT / ".cache" / "nam_compare"
OUT_JSON = ROOT / "docs" / "figures" / "nam_compare.json"

PAIRS = ("capture_overdrive", "amp_chain", "comp_drive")
PAIR_NOTES = {
    "capture_overdrive": "the bundled capture pair (assets/examples/effects): an overdrive plus 12 ms of latency",
    "amp_chain": "pedalboard: HighpassFilter(80 Hz) -> Distortion(18 dB) -> PeakFilter(700 Hz, -4 dB, Q 0.8) -> "
                 "LowShelfFilter(200 Hz, +3 dB) -> LowpassFilter(4.5 kHz, cabinet) -> Gain(-6 dB)",
    "comp_drive": "pedalboard: Compressor(-20 dB, 4:1, attack 3 ms, release 80 ms) -> Distortion(12 dB)",
}
SYSTEMS = ("nam-lstm-1x16", "nam-wavenet-feather", "ours-nam-lstm-1x16", "ours-lstm", "ours-tcn")
NAM_SYSTEMS = {"nam-lstm-1x16": "lstm", "nam-wavenet-feather": "wavenet"}
OUR_SYSTEMS = {"ours-nam-lstm-1x16": "nam-lstm-1x16", "ours-lstm": "lstm", "ours-tcn": "tcn"}
#: Opt-in (--systems): NAM's feather WaveNet trained by our capture, where this checkout's capture offers it.
OPTIONAL_SYSTEMS = {"ours-nam-wavenet-feather": "nam-wavenet-feather"}

#: Default epochs of NAM's trainer, sized so one run takes ~1.5 min on one thread here (measured on this 2-core
#: machine under load ~1.5: ~0.45 s an epoch for the LSTM, 2.1-2.7 s for the WaveNet; an epoch of a 9.6 s training
#: part is only 3 batches of 16 x 8192 samples, so NAM's usual 100 epochs would be 300 steps).
DEFAULT_NAM_EPOCHS = {"lstm": 180, "wavenet": 45}
#: Our steps: the most capture accepts (~12 ms a step for nam-lstm-1x16, ~18 ms for lstm here: 35-55 s), as near
#: NAM's wall time as capture allows.
DEFAULT_STEPS = ours.MAX_CAPTURE_STEPS
QUICK_NAM_EPOCHS = 2
QUICK_STEPS = ours.MIN_CAPTURE_STEPS

# NAM's training settings (0.13's simplified trainer: batch 16, ny 8192, -18 dBFS normalisation; loss/optimiser
# of its "feather" presets, with fit_mrstft=True as its GUI/Colab trainers defaulted to).
NAM_BATCH = 16
NAM_NY = 8192
NAM_MRSTFT = {"pre_emph_mrstft_weight": 2e-4, "pre_emph_mrstft_coef": 0.85}


def nam_model_config(arch: str) -> dict:
    """The LightningModule config of NAM's "feather" LSTM (1x16) or WaveNet, in NAM 0.13's format."""
    if arch == "lstm":
        return {
            "net": {"name": "LSTM", "config": {"num_layers": 1, "hidden_size": 16, "train_burn_in": 4096,
                                               "train_truncate": 512}},
            # mask_first is what the preset set; NAM 0.13 parses it but no longer applies it.
            "loss": {"val_loss": "mse", "mask_first": 4096, "pre_emph_weight": 1.0, "pre_emph_coef": 0.85,
                     **NAM_MRSTFT},
            "optimizer": {"lr": 0.01},
            "lr_scheduler": {"class": "ExponentialLR", "kwargs": {"gamma": 0.995}},
        }
    if arch == "wavenet":
        def layers(input_size, channels, head, dilations, head_bias):
            return {"input_size": input_size, "condition_size": 1, "channels": channels, "kernel_size": 3,
                    "dilations": dilations, "activation": "Tanh",
                    "head": {"out_channels": head, "kernel_size": 1, "bias": head_bias}}

        return {
            "net": {"name": "WaveNet", "config": {
                "layers_configs": [
                    layers(1, 8, 4, [1, 2, 4, 8, 16, 32, 64], False),
                    layers(8, 4, 1, [128, 256, 512, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512], True),
                ],
                "head_scale": 0.02,
            }},
            "loss": {"val_loss": "esr", **NAM_MRSTFT},
            "optimizer": {"lr": 0.004},
            "lr_scheduler": {"class": "ExponentialLR", "kwargs": {"gamma": 1.0 - 0.007}},  # lr_decay=0.007
        }
    raise ValueError(arch)


# ---------------------------------------------------------------- pairs
def _render(board, dry: np.ndarray, sr: int) -> np.ndarray:
    return np.asarray(board(dry[None].astype(np.float32), sr), np.float32)[0]


def pedalboard_chain(name: str):
    import pedalboard as pb

    if name == "amp_chain":
        return pb.Pedalboard([
            pb.HighpassFilter(cutoff_frequency_hz=80.0),
            pb.Distortion(drive_db=18.0),
            pb.PeakFilter(cutoff_frequency_hz=700.0, gain_db=-4.0, q=0.8),
            pb.LowShelfFilter(cutoff_frequency_hz=200.0, gain_db=3.0),
            pb.LowpassFilter(cutoff_frequency_hz=4500.0),
            pb.Gain(gain_db=-6.0),
        ])
    if name == "comp_drive":
        return pb.Pedalboard([
            pb.Compressor(threshold_db=-20.0, ratio=4.0, attack_ms=3.0, release_ms=80.0),
            pb.Distortion(drive_db=12.0),
        ])
    raise ValueError(name)


def check_dry(path: Path = DRY) -> float:
    """The dry file's length in seconds; capture refuses pairs under ``MIN_CAPTURE_SECONDS``."""
    seconds = sf.info(str(path)).duration
    if seconds < ours.MIN_CAPTURE_SECONDS:
        raise SystemExit(f"{path} is {seconds:.1f} s; capture needs at least {ours.MIN_CAPTURE_SECONDS:.0f} s.")
    return seconds


def make_pair(name: str, cache: Path) -> tuple[Path, Path]:
    """The (dry, wet) files of a pair, rendering the pedalboard ones on the bundled dry signal."""
    if name == "capture_overdrive":
        return DRY, WET
    dry, sr = sf.read(str(DRY), dtype="float32", always_2d=False)
    wet = _render(pedalboard_chain(name), dry, sr)
    path = cache / name / "wet.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), wet, sr, subtype="PCM_24")
    return DRY, path


def align_for_nam(dry_path: Path, wet_path: Path, directory: Path) -> dict:
    """Aligned pair (as capture sees it), its 80/20 split, and the same aligned pair as WAV files for NAM."""
    dry, wet, lag, notes, sr = ours.load_pair(str(dry_path), str(wet_path))
    split = int(0.8 * len(dry))  # as capture splits
    directory.mkdir(parents=True, exist_ok=True)
    x_path, y_path = directory / "nam_input.wav", directory / "nam_output.wav"
    sf.write(str(x_path), dry, sr, subtype="PCM_24")
    sf.write(str(y_path), wet, sr, subtype="PCM_24")
    return {"dry": dry, "wet": wet, "lag": int(lag), "notes": notes, "sr": int(sr), "split": split,
            "x_path": x_path, "y_path": y_path}


# ---------------------------------------------------------------- NAM's trainer
@contextlib.contextmanager
def _quiet_lightning():
    """No progress bars, model summaries or "GPU available" lines; NAM's and Lightning's warnings off."""
    names = ("lightning.pytorch", "pytorch_lightning", "lightning_fabric", "lightning", "nam")
    levels = {n: logging.getLogger(n).level for n in names}
    for n in names:
        logging.getLogger(n).setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for n, level in levels.items():
            logging.getLogger(n).setLevel(level)


def _n_params(model: torch.nn.Module) -> int:
    return int(sum(p.numel() for p in model.parameters()))  # trainable weights (NAM also keeps a sample-rate buffer)


def train_nam(arch: str, pair: dict, epochs: int, workdir: Path, seed: int = 0) -> dict:
    import pytorch_lightning as pl
    from nam.data import Split, apply_joint_dataset_hooks, get_joint_dataset_hooks, init_dataset
    from nam.train.lightning_module import LightningModule
    from torch.utils.data import DataLoader

    class Monitor(pl.Callback):
        """Times the validation passes and keeps the best-validation epoch's weights (in memory, for
        ``esr_best_val_epoch`` only: training never reads them)."""

        def __init__(self):
            self.validation_s, self.best, self.best_state, self.best_epoch, self._t = 0.0, math.inf, None, None, None
            self.last_esr = None

        def on_validation_epoch_start(self, trainer, module):
            self._t = time.perf_counter()

        def on_validation_epoch_end(self, trainer, module):
            self.validation_s += time.perf_counter() - self._t
            loss, esr = trainer.callback_metrics.get("val_loss"), trainer.callback_metrics.get("ESR")
            self.last_esr = None if esr is None else float(esr)
            if loss is not None and math.isfinite(float(loss)) and float(loss) < self.best:
                self.best, self.best_epoch = float(loss), int(trainer.current_epoch)
                self.best_state = copy.deepcopy(module.net.state_dict())

    torch.manual_seed(seed)
    model_config = nam_model_config(arch)
    module = LightningModule.init_from_config(model_config)
    net = module.net
    data_config = {
        "train": {"ny": NAM_NY, "stop_samples": pair["split"]},
        "validation": {"ny": None, "start_samples": pair["split"]},
        "common": {"x_path": str(pair["x_path"]), "y_path": str(pair["y_path"]), "delay": 0,
                   "nx": net.receptive_field,
                   "require_input_pre_silence": None},  # a playing take has no silence before the split
        "joint": [{"name": "nam.data.normalize_joint_dataset_output", "kwargs": {"level_rms_dbfs": -18.0}}],
    }
    train_set, val_set = init_dataset(data_config, Split.TRAIN), init_dataset(data_config, Split.VALIDATION)
    apply_joint_dataset_hooks(dataset_train=train_set, dataset_validation=val_set,
                              hooks=get_joint_dataset_hooks(data_config["joint"]))
    net.sample_rate = train_set.sample_rate
    for ds in (train_set, val_set):
        ds.handshake(net)
        net.handshake(ds)
    y_scale = float(train_set._y_scale or 1.0)  # the normalisation gain; NAM's .nam export divides it out
    train_loader = DataLoader(train_set, batch_size=NAM_BATCH, shuffle=True, pin_memory=False, drop_last=True,
                              num_workers=0)
    val_loader = DataLoader(val_set)
    monitor = Monitor()
    with _quiet_lightning():
        trainer = pl.Trainer(accelerator="cpu", devices=1, max_epochs=epochs, callbacks=[monitor], logger=False,
                             enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                             num_sanity_val_steps=0, default_root_dir=str(workdir), deterministic=False)
        t0 = time.perf_counter()
        trainer.fit(module, train_loader, val_loader)
        train_s = time.perf_counter() - t0
    for ds in (train_set, val_set):
        ds.teardown()

    dry_test, wet_test = pair["dry"][pair["split"]:], pair["wet"][pair["split"]:]

    def held_out_esr(state=None) -> float:
        if state is not None:
            net.load_state_dict(state)
        net.eval()
        with torch.no_grad():  # NAM's forward: LSTM from its learned start state, WaveNet zero-padded in front
            y = net(torch.from_numpy(np.ascontiguousarray(dry_test, np.float32))).numpy() / y_scale
        return metrics.esr(wet_test, y) if np.all(np.isfinite(y)) else float("nan")

    esr_last = held_out_esr()
    esr_best = held_out_esr(monitor.best_state) if monitor.best_state is not None else None
    return {
        "trainer": "nam", "arch": arch, "esr": esr_last, "train_s": round(train_s, 2),
        "validation_s": round(monitor.validation_s, 2), "epochs": int(trainer.current_epoch),
        "steps": int(trainer.global_step), "samples_per_step": NAM_BATCH * (NAM_NY + net.receptive_field - 1),
        "params": _n_params(net), "receptive_field": int(net.receptive_field),
        "esr_best_val_epoch": esr_best, "best_val_epoch": monitor.best_epoch,
        # NAM's own last validation ESR (it skips the WaveNet's first receptive field): a cross-check of "esr"
        "nam_logged_val_esr": monitor.last_esr, "y_scale": y_scale,
        "config": {"model": model_config, "batch_size": NAM_BATCH, "ny": NAM_NY,
                   "normalize_output_rms_dbfs": -18.0, "validation": "held-out 20%, logged only"},
    }


# ---------------------------------------------------------------- this app's capture
@contextlib.contextmanager
def _timed_fit(box: dict):
    """Time ``core.effects.train.fit`` (the training inside capture) without touching capture itself."""
    original = ours.fit

    def timed(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            box["train_s"] = time.perf_counter() - t0

    ours.fit = timed
    try:
        yield box
    finally:
        ours.fit = original


def train_ours(model: str, dry_path: Path, wet_path: Path, steps: int) -> dict:
    box = {}
    t0 = time.perf_counter()
    with _timed_fit(box):
        res = ours.capture(str(dry_path), str(wet_path), model=model, steps=steps)
    total_s = time.perf_counter() - t0
    spec = ours.NETWORK_DEFAULTS[model]
    return {  # capture's ESR: the model's raw output on the held-out 20% (before its listening peak limiter)
        "trainer": "ours", "model": model, "esr": float(res.metrics["ESR model vs effect"]),
        "train_s": round(box["train_s"], 2), "capture_total_s": round(total_s, 2),
        "steps": len(res.history),
        "samples_per_step": spec["batch"] * (spec["seq"] + spec.get("warmup", 0)
                                             + getattr(res.model, "receptive_field", 0)),
        "params": _n_params(res.model), "held_out_samples": len(res.dry),
        "config": {**spec, "steps": len(res.history)},  # the run's steps, not the default
    }


# ---------------------------------------------------------------- main
def _versions() -> dict:
    def v(name):
        try:
            return _metadata.version(name)
        except _metadata.PackageNotFoundError:
            return None

    return {"neural-amp-modeler": v("neural-amp-modeler"), "pytorch-lightning": v("pytorch-lightning"),
            "torch": torch.__version__, "pedalboard": v("pedalboard"), "numpy": np.__version__,
            "python": platform.python_version()}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nam-epochs", type=int, help="epochs of NAM's trainer, both architectures (default: LSTM "
                   f"{DEFAULT_NAM_EPOCHS['lstm']}, WaveNet {DEFAULT_NAM_EPOCHS['wavenet']}; "
                   f"--quick {QUICK_NAM_EPOCHS})")
    p.add_argument("--nam-lstm-epochs", type=int, help="epochs for NAM's LSTM only (overrides --nam-epochs)")
    p.add_argument("--nam-wavenet-epochs", type=int, help="epochs for NAM's WaveNet only (overrides --nam-epochs)")
    p.add_argument("--steps", type=int, help=f"steps of our capture (default {DEFAULT_STEPS}; --quick {QUICK_STEPS})")
    p.add_argument("--pairs", default=None, help=f"comma-separated subset of {','.join(PAIRS)}")
    p.add_argument("--systems", default=None, help=f"comma-separated subset of {','.join(SYSTEMS)} "
                   f"(or also {','.join(OPTIONAL_SYSTEMS)})")
    p.add_argument("--quick", action="store_true", help="smoke test: the first pair, tiny epochs/steps")
    p.add_argument("--cache", type=Path, default=CACHE, help="where the pairs and NAM's files go")
    p.add_argument("--out", type=Path, default=None, help=f"with --write: the JSON path (default {OUT_JSON})")
    p.add_argument("--write", action="store_true", help="store the JSON (docs/figures/nam_compare.json)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    base = {a: args.nam_epochs or (QUICK_NAM_EPOCHS if args.quick else DEFAULT_NAM_EPOCHS[a])
            for a in DEFAULT_NAM_EPOCHS}
    args.epochs = {"lstm": args.nam_lstm_epochs or base["lstm"], "wavenet": args.nam_wavenet_epochs or base["wavenet"]}
    args.steps = args.steps or (QUICK_STEPS if args.quick else DEFAULT_STEPS)
    if not ours.MIN_CAPTURE_STEPS <= args.steps <= ours.MAX_CAPTURE_STEPS:
        p.error(f"--steps must be {ours.MIN_CAPTURE_STEPS}-{ours.MAX_CAPTURE_STEPS} (capture's bounds)")
    if min(args.epochs.values()) < 1:
        p.error("NAM epochs must be at least 1")
    pairs = args.pairs.split(",") if args.pairs else list(PAIRS[:1] if args.quick else PAIRS)
    systems = args.systems.split(",") if args.systems else list(SYSTEMS)
    optional = [k for k, v in OPTIONAL_SYSTEMS.items() if v in ours.NETWORK_DEFAULTS]
    for name, allowed, given in (("pair", PAIRS, pairs), ("system", SYSTEMS + tuple(optional), systems)):
        bad = [g for g in given if g not in allowed]
        if bad:
            p.error(f"unknown {name} {', '.join(bad)}; choose from {', '.join(allowed)}")
    args.pair_list, args.system_list = pairs, systems
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    threads_before = torch.get_num_threads()
    torch.set_num_threads(1)  # both trainers: one intra-op thread (capture's own single_thread() agrees)
    try:
        return _run(args, argv)
    finally:
        torch.set_num_threads(threads_before)


def _run(args, argv) -> dict:
    dry_seconds = check_dry()
    command = "python bench/bench_nam_compare.py" + "".join(
        " " + shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    out = {
        "command": command,
        "versions": _versions(),
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "cpu_count": os.cpu_count(),
        "load_avg_1min": round(os.getloadavg()[0], 2),
        "nam_epochs": args.epochs, "steps": args.steps, "quick": args.quick, "seed": args.seed,
        "dry_seconds": round(dry_seconds, 3),
        "split": "train on the first 80% of the aligned pair, ESR (raw samples) on the last 20%",
        "nam_validation": "NAM validates on the held-out 20% every epoch (logging only: no checkpoint selection, no "
                          "early stopping, no scheduler input); 'esr' is the last epoch's model, 'esr_best_val_epoch' "
                          "the best-validation epoch NAM would export (selected on the held-out part: optimistic)",
        "notes": __doc__.split("Systems:")[1].strip(),
        "pairs": {},
    }
    print(f"[nam_compare] {len(args.pair_list)} pair(s) x {len(args.system_list)} system(s); NAM "
          f"{args.epochs} epochs, ours {args.steps} steps; load {out['load_avg_1min']}", file=sys.stderr, flush=True)
    t_all = time.perf_counter()
    for name in args.pair_list:
        directory = args.cache / name
        dry_path, wet_path = make_pair(name, args.cache)
        pair = align_for_nam(dry_path, wet_path, directory)
        row = {"description": PAIR_NOTES[name], "dry": _rel(dry_path), "wet": _rel(wet_path), "sr": pair["sr"],
               "latency_samples": pair["lag"], "aligned_samples": len(pair["dry"]), "train_samples": pair["split"],
               "held_out_samples": len(pair["dry"]) - pair["split"],
               "esr_clean_vs_effect": metrics.esr(pair["wet"][pair["split"]:], pair["dry"][pair["split"]:]),
               "notes": pair["notes"], "systems": {}}
        for system in args.system_list:
            if system in NAM_SYSTEMS:
                arch = NAM_SYSTEMS[system]
                result = train_nam(arch, pair, args.epochs[arch], directory, args.seed)
            else:
                result = train_ours({**OUR_SYSTEMS, **OPTIONAL_SYSTEMS}[system], dry_path, wet_path, args.steps)
                if result["held_out_samples"] != len(pair["dry"]) - pair["split"]:
                    raise RuntimeError("capture held out a different part than the benchmark's split")
            row["systems"][system] = result
            print(f"[nam_compare] {name:18s} {system:20s} ESR {result['esr']:.4g}  train {result['train_s']:.1f} s  "
                  f"steps {result['steps']}  params {result['params']}", file=sys.stderr, flush=True)
        out["pairs"][name] = row
    out["total_s"] = round(time.perf_counter() - t_all, 1)
    text = json.dumps(out, indent=2, default=_json_default)
    print(text)
    if args.write:
        path = args.out or OUT_JSON
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
        print(f"[nam_compare] wrote {path}", file=sys.stderr)
    return json.loads(text)


def _rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _json_default(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(type(o))


if __name__ == "__main__":
    with contextlib.suppress(RuntimeError):  # settable only before any inter-op work (so not inside pytest)
        torch.set_num_interop_threads(1)
    main()
