"""core.training: the papers' stopping and LR rules, checkpoints with model cards."""
import json

import torch

from core import training


def test_early_stopping_needs_a_real_improvement():
    stop = training.EarlyStopping(patience=3, min_delta=0.01, mode="max")
    values = [0.50, 0.505, 0.509, 0.52, 0.521, 0.525, 0.529]
    decisions = [stop.step(v) for v in values]
    # 0.52 is the last improvement by > 1 point; three epochs later it stops.
    assert stop.best == 0.52 and stop.best_epoch == 3
    assert decisions == [False, False, False, False, False, False, True]


def test_plateau_scheduler_multiplies_by_0_2():
    model = torch.nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    sched = training.plateau_scheduler(opt, patience=2)
    for loss in [1.0, 1.0, 1.0, 1.0]:
        sched.step(loss)
    assert opt.param_groups[0]["lr"] == 0.2


def test_checkpoint_round_trip(tmp_path):
    training.set_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    card = training.ModelCard(
        name="tiny", task="test", architecture="mlp", training_data="none", command="pytest", seed=0,
        metrics={"acc": 1.0},
    )
    training.save_checkpoint(model, tmp_path / "tiny", card, extra={"hidden": 4})
    clone = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    clone.load_state_dict(training.load_state(tmp_path / "tiny"))
    x = torch.randn(5, 3)
    assert torch.equal(model(x), clone(x))
    assert training.read_card(tmp_path / "tiny")["metrics"] == {"acc": 1.0}
    assert json.loads((tmp_path / "tiny" / "config.json").read_text()) == {"hidden": 4}


def test_distributed_reads_the_launchers_environment(monkeypatch):
    # Set explicitly both ways: the suite itself may run under torchrun, which sets these.
    for name in ("RANK", "LOCAL_RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    assert training.distributed() == (0, 0, 1)
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "4")
    assert training.distributed() == (3, 1, 4)


def test_start_run_alone_is_rank_zero_on_the_registrys_device(monkeypatch):
    from core import registry
    from core.training import start_run, wrap

    for name in ("RANK", "LOCAL_RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    run = start_run(seed=3)
    assert (run.rank, run.world, run.is_main, run.device) == (0, 1, True, registry.device())
    model = torch.nn.Linear(2, 2)
    assert wrap(model, run) is model  # no DistributedDataParallel alone


def test_progress_bar_takes_the_one_progress_shape(capsys):
    from core.training import progress_bar

    report = progress_bar("fit", steps=10)
    for k in range(1, 11):
        report(k / 10, f"step {k}/10")
    assert "step 10/10" in capsys.readouterr().err
    progress_bar("quiet", enabled=False)(0.5, "nothing drawn")  # other workers draw nothing


def test_resume_point_round_trips_and_is_none_before_the_first_save(tmp_path):
    from core.training import load_resume, save_resume

    assert load_resume(tmp_path / "run") is None
    save_resume(tmp_path / "run", epoch=4, history={"loss": [1.0, 0.5]})
    assert load_resume(tmp_path / "run") == {"epoch": 4, "history": {"loss": [1.0, 0.5]}}
