"""Recipes, learning-rate schedules, PacGAN packing and the generator EMA (issue 8)."""
import json
import math

import numpy as np
import pytest

import minigan as mg
from minigan import nn, sample, train
from minigan.gan import GANTrainer, load_checkpoint
from minigan.gan.ema import GeneratorEMA
from minigan.gan.recipes import FIELDS, LOSS_DEFAULTS, MODEL_RECIPES, RECIPES, lr_factor, resolve

TINY = ["--n-samples", "64", "--batch-size", "16", "--no-progress"]


def _run(tmp_path, *args, name="run"):
    out = tmp_path / name
    return train.main([*args, "--out", str(out)]), out


# --- the recipe table ------------------------------------------------------------------------
def test_every_row_resolves_to_every_field_and_says_where_it_comes_from():
    for (dataset, loss), row in RECIPES.items():
        settings, source = resolve(dataset, loss)
        assert set(settings) == set(FIELDS) and source == row["source"]
        assert row["measured"] and "to be measured" not in row["measured"], (dataset, loss)
        assert (settings["steps"] is None) != (settings["epochs"] is None), "a row gives steps or epochs"
        for key in set(row) - {"source", "measured", "packed", "conditional"}:
            assert key in FIELDS and settings[key] == row[key], key


def test_resolve_layers_loss_then_dataset_then_row_then_flags():
    settings, source = resolve("gauss1d", "wgan-gp")
    assert settings["d_steps"] == 5 and settings["gp_weight"] == 10.0 and settings["betas"] == (0.5, 0.9)
    assert settings["model"] == "toy" and "no tuned row" in source
    tuned, _ = resolve("ring", "nonsaturating")
    assert tuned["lr_g"] == RECIPES["ring", "nonsaturating"]["lr_g"] != LOSS_DEFAULTS["nonsaturating"]["lr_g"]
    flagged, _ = resolve("ring", "nonsaturating", {"lr_g": 5e-4, "batch_size": None})
    assert flagged["lr_g"] == 5e-4 and flagged["batch_size"] == tuned["batch_size"]   # None: keep the row's
    by_epochs, _ = resolve("ring", "nonsaturating", {"epochs": 3})
    assert by_epochs["epochs"] == 3 and by_epochs["steps"] is None     # a given length replaces the row's
    by_steps, _ = resolve("digits", "nonsaturating", {"steps": 7})
    assert by_steps["steps"] == 7 and by_steps["epochs"] is None


def test_a_packed_run_takes_the_rows_packed_length_unless_one_is_given():
    plain, _ = resolve("ring", "nonsaturating")
    packed, _ = resolve("ring", "nonsaturating", {"pack": 2})
    assert packed["steps"] == RECIPES["ring", "nonsaturating"]["packed"]["steps"] != plain["steps"]
    assert resolve("ring", "nonsaturating", {"pack": 2, "steps": 10})[0]["steps"] == 10
    assert resolve("ring", "nonsaturating", {"pack": 2, "epochs": 1})[0]["steps"] is None


def test_a_conditional_run_takes_the_rows_conditional_settings_unless_flags_say_otherwise():
    row = MODEL_RECIPES["digits", "nonsaturating", "dcgan"]
    plain, _ = resolve("digits", "nonsaturating", {"model": "dcgan"})
    told, _ = resolve("digits", "nonsaturating", {"model": "dcgan"}, conditional=True)
    assert (plain["steps"], plain["batch_size"]) == (row["steps"], row["batch_size"])
    assert (told["steps"], told["batch_size"]) == (row["conditional"]["steps"], row["conditional"]["batch_size"])
    assert (told["steps"], told["batch_size"]) != (plain["steps"], plain["batch_size"])
    assert (plain["width"], told["width"]) == (2, 1)         # told the label, the narrow model is enough
    varied = ("steps", "batch_size", "width")
    assert {k: v for k, v in told.items() if k not in varied} == {k: v for k, v in plain.items() if k not in varied}
    flags, _ = resolve("digits", "nonsaturating", {"model": "dcgan", "epochs": 3, "batch_size": 32}, conditional=True)
    assert (flags["steps"], flags["epochs"], flags["batch_size"]) == (None, 3, 32)
    mlp, _ = resolve("digits", "nonsaturating", conditional=True)   # a row without conditional settings
    assert mlp == resolve("digits", "nonsaturating")[0]


@pytest.mark.parametrize("call, message", [
    (lambda: resolve("ring", "hinge"), "unknown loss 'hinge'; valid losses: minimax, nonsaturating, wgan, wgan-gp"),
    (lambda: resolve("ring", "wgan", {"lr": 1.0}), "unknown recipe settings ['lr']"),
    (lambda: resolve("ring", "wgan", {"lr_schedule": "step"}), "unknown lr schedule 'step'; valid: constant"),
    (lambda: lr_factor("exp", 10), "unknown lr schedule 'exp'"),
    (lambda: lr_factor("linear", 10, decay_start=1.0), "lr_decay_start must be in [0, 1), got 1.0"),
])
def test_recipe_errors_name_the_thing_and_the_choices(call, message):
    with pytest.raises((KeyError, ValueError)) as err:
        call()
    assert message in str(err.value)


def test_lr_schedules_have_their_documented_values():
    const = lr_factor("constant", 100)
    assert [const(t) for t in (0, 50, 100)] == [1.0, 1.0, 1.0]
    lin = lr_factor("linear", 100, lr_final=0.01, decay_start=0.5)
    assert lin(0) == lin(50) == 1.0
    assert lin(75) == pytest.approx(1 - 0.99 * 0.5) and lin(100) == pytest.approx(0.01)
    assert lin(150) == pytest.approx(0.01)      # past the end (a resumed run with more steps): stays at the floor
    cos = lr_factor("cosine", 100, lr_final=0.1, decay_start=0.0)
    for t in (0, 25, 50, 100):
        assert cos(t) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t / 100)))


def _toy_trainer(**kwargs):
    mg.manual_seed(0)
    data = mg.tensor(np.random.default_rng(0).standard_normal((32, 2)))
    G = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))
    D = nn.Sequential(nn.Linear(2 * kwargs.get("pack", 1), 8), nn.LeakyReLU(0.2), nn.Linear(8, 1), nn.Sigmoid())
    return GANTrainer(G, D, lambda: data, 3, **kwargs)


def test_schedule_scales_both_learning_rates_once_per_generator_step():
    factor = lr_factor("linear", 10, lr_final=0.1, decay_start=0.2)
    trainer = _toy_trainer(lr_g=1e-3, lr_d=2e-3, d_steps=2, lr_lambda=factor)
    for t in range(1, 11):
        trainer.step()
        assert trainer.opt_g.param_groups[0]["lr"] == pytest.approx(1e-3 * factor(t))
        assert trainer.opt_d.param_groups[0]["lr"] == pytest.approx(2e-3 * factor(t))
    resumed = _toy_trainer(lr_g=1e-3, lr_d=2e-3, d_steps=2, lr_lambda=factor)
    resumed.load_state_dict(trainer.state_dict())        # the schedule is replayed to the saved step
    assert resumed.opt_g.param_groups[0]["lr"] == pytest.approx(1e-3 * factor(10))


# --- PacGAN packing --------------------------------------------------------------------------
def test_pack_puts_m_samples_side_by_side_for_the_discriminator():
    trainer = _toy_trainer(pack=4)
    seen = []
    forward = trainer.D.forward
    trainer.D.forward = lambda x: (seen.append(x.shape), forward(x))[1]
    trainer.step()
    assert seen == [(16, 8), (8, 8)]         # [real; fake] packs together, then the G step's 32 fakes
    x = mg.tensor(np.arange(12.0).reshape(6, 2))
    packed = _toy_trainer(pack=3)._pack(x).numpy()
    np.testing.assert_array_equal(packed, [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]])


def test_pack_errors():
    G, D = nn.Linear(3, 2), nn.Linear(2, 1)
    for bad in (0, 1.5):
        with pytest.raises(ValueError, match=f"pack must be a positive integer .*, got {bad}"):
            GANTrainer(G, D, lambda: None, 3, pack=bad)
    trainer = _toy_trainer(pack=3)           # 32 samples do not split into packs of 3
    with pytest.raises(ValueError, match="batch of 32 samples does not split into packs of 3; choose a batch size"):
        trainer.step()


# --- the generator EMA ------------------------------------------------------------------------
def test_ema_follows_its_formula_with_warm_up():
    lin = nn.Linear(2, 1)
    ema = GeneratorEMA(lin, 0.9)
    expected = lin.weight.numpy().copy()
    for t in range(1, 30):
        with mg.no_grad():
            lin.weight.copy_(lin.weight.data + 1.0)
        ema.update(lin)
        decay = min(0.9, (1 + t) / (10 + t))
        expected = decay * expected + (1 - decay) * lin.weight.numpy()
        np.testing.assert_allclose(ema.state_dict()["weight"], expected, rtol=1e-6)
    with pytest.raises(ValueError, match=r"EMA decay must be in \[0, 1\), got 1.0"):
        GeneratorEMA(lin, 1.0)


def test_ema_weights_are_applied_only_inside_the_block_and_buffers_are_copied():
    G = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    ema = GeneratorEMA(G, 0.5)
    trained = G.state_dict()
    G(mg.tensor(np.random.default_rng(1).standard_normal((8, 2))))      # moves BatchNorm's running stats
    ema.update(G)
    np.testing.assert_array_equal(ema.state_dict()["1.running_mean"], G.state_dict()["1.running_mean"])
    with pytest.raises(RuntimeError, match="boom"):
        with ema.applied_to(G):
            np.testing.assert_array_equal(G.state_dict()["0.weight"], ema.state_dict()["0.weight"])
            raise RuntimeError("boom")
    np.testing.assert_array_equal(G.state_dict()["0.weight"], trained["0.weight"])   # put back
    other = GeneratorEMA(nn.Linear(2, 2), 0.5)
    with pytest.raises(KeyError, match="EMA state does not fit the generator"):
        other.load_state_dict(ema.state_dict(), 1)


def test_trainer_generates_with_the_average_and_checkpoints_it():
    trainer = _toy_trainer(ema=0.9)
    for _ in range(5):
        trainer.step()
    z = mg.tensor(np.ones((2, 3)))
    with trainer.ema.applied_to(trainer.G):
        averaged = trainer.G(z).numpy()
    np.testing.assert_array_equal(trainer.generate(z).numpy(), averaged)
    assert not np.allclose(trainer.G(z).numpy(), averaged)
    state = trainer.state_dict()
    assert state["ema_updates"] == 5
    fresh = _toy_trainer(ema=0.9)
    fresh.load_state_dict(state)
    np.testing.assert_array_equal(fresh.generate(z).numpy(), averaged)
    with pytest.raises(KeyError, match="no generator EMA"):
        _toy_trainer(ema=0.9).load_state_dict({k: v for k, v in state.items() if k != "G_ema"})


# --- the command line -------------------------------------------------------------------------
def test_config_records_resolved_values_command_versions_and_seed(tmp_path):
    rc, out = _run(tmp_path, "--dataset", "ring", "--loss", "nonsaturating", "--seed", "3", "--steps", "4", *TINY)
    assert rc == 0
    config = json.loads((out / "config.json").read_text())
    row = RECIPES["ring", "nonsaturating"]
    assert config["lr_g"] == row["lr_g"] and config["lr_d"] == row["lr_d"] and config["ema"] == row["ema"]
    assert config["seed"] == 3 and config["steps"] == 4 and config["batch_size"] == 16 and config["threads"] == 1
    assert config["command"].startswith("python -m minigan.train --dataset ring --loss nonsaturating --seed 3")
    assert set(config["versions"]) == {"minigan", "numpy", "scipy", "python"}
    assert config["recipe"] == row["source"]


def test_k_is_an_alias_of_d_steps(tmp_path):
    configs = []
    for flag in ("--k", "--d-steps"):
        rc, out = _run(tmp_path, "--dataset", "gauss1d", flag, "3", "--steps", "2", *TINY, name=flag)
        assert rc == 0
        configs.append(json.loads((out / "config.json").read_text())["d_steps"])
    assert configs == [3, 3]


def test_resume_with_schedule_ema_and_pack_is_identical_to_a_straight_run(tmp_path, monkeypatch):
    args = ["--dataset", "ring", "--loss", "nonsaturating", "--pack", "2", "--ema", "0.9", "--lr-schedule", "cosine",
            "--sample-every", "2", *TINY]
    assert _run(tmp_path, *args, "--steps", "6", name="straight")[0] == 0
    step = GANTrainer.step

    def killed_after_step_5(self):   # the run dies mid-way; its last checkpoint is step 4's
        if self.step_count == 5:
            raise SystemExit("killed")
        return step(self)
    monkeypatch.setattr(GANTrainer, "step", killed_after_step_5)
    with pytest.raises(SystemExit, match="killed"):
        _run(tmp_path, *args, "--steps", "6", name="resumed")
    monkeypatch.setattr(GANTrainer, "step", step)
    assert load_checkpoint(tmp_path / "resumed" / "checkpoint.npz")["trainer"]["step"] == 4
    rc, resumed = _run(tmp_path, *args, "--steps", "6", "--resume", name="resumed")
    assert rc == 0
    a, b = (load_checkpoint(tmp_path / n / "checkpoint.npz")["trainer"] for n in ("straight", "resumed"))
    for part in ("G", "D", "G_ema"):
        for key, value in a[part].items():
            np.testing.assert_array_equal(value, b[part][key], err_msg=f"{part}.{key}")
    assert a["opt_g"]["param_groups"][0]["lr"] == b["opt_g"]["param_groups"][0]["lr"]
    assert (tmp_path / "straight" / "metrics.csv").read_text() == (resumed / "metrics.csv").read_text()


def test_log_every_sets_the_csv_cadence_and_pictures_are_written(tmp_path):
    rc, out = _run(tmp_path, "--dataset", "ring", "--steps", "7", "--log-every", "3", *TINY)
    assert rc == 0
    steps = [int(r.split(",")[0]) for r in (out / "metrics.csv").read_text().splitlines()[1:]]
    assert steps == [3, 6, 7]                # and the last step, always
    assert {p.name for p in out.glob("*.png")} == {"samples.png", "progress.png", "losses.png"}


@pytest.mark.parametrize("args, message", [
    (["--pack", "3", "--batch-size", "16"], "--pack 3: the batch size 16 is not a multiple of it; choose --batch-size 15"),
    (["--lr-schedule", "step"], "argument --lr-schedule: invalid choice: 'step'"),
    (["--ema", "1"], "argument --ema: must be in [0, 1), got 1"),
    (["--lr-decay-start", "-0.1"], "argument --lr-decay-start: must be in [0, 1), got -0.1"),
])
def test_bad_recipe_flags_are_one_line_errors(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as exit_:
        _run(tmp_path, "--dataset", "ring", "--n-samples", "64", "--no-progress", *args)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_sample_weights_choose_the_average_or_the_trained_generator(tmp_path, capsys):
    rc, out = _run(tmp_path, "--dataset", "ring", "--ema", "0.9", "--steps", "5", *TINY)
    assert rc == 0
    files = {}
    for weights in ("auto", "ema", "trained"):
        files[weights] = tmp_path / f"{weights}.npy"
        assert sample.main(["--checkpoint", str(out / "checkpoint.npz"), "--n", "10", "--out", str(files[weights]),
                            "--weights", weights]) == 0
    auto, ema, trained = (np.load(files[w]) for w in ("auto", "ema", "trained"))
    np.testing.assert_array_equal(auto, ema)
    assert not np.allclose(ema, trained)
    rc, plain = _run(tmp_path, "--dataset", "ring", "--ema", "0", "--steps", "2", *TINY, name="plain")
    with pytest.raises(SystemExit):
        sample.main(["--checkpoint", str(plain / "checkpoint.npz"), "--n", "4", "--out", str(tmp_path / "x.npy"),
                     "--weights", "ema"])
    assert "this checkpoint has no generator EMA" in capsys.readouterr().err


def test_a_model_row_replaces_the_data_sets_row_when_model_names_it():
    from minigan.gan.recipes import MODEL_RECIPES
    for (dataset, loss, model), row in MODEL_RECIPES.items():
        settings, source = resolve(dataset, loss, {"model": model})
        assert source == row["source"] and row["measured"]
        for key in set(row) - {"source", "measured", "packed", "conditional"}:
            assert settings[key] == row[key], key
    dcgan, _ = resolve("digits", "nonsaturating", {"model": "dcgan", "steps": 7})
    plain, _ = resolve("digits", "nonsaturating")
    assert dcgan["steps"] == 7 and dcgan["ema"] == 0.999 and plain["model"] == "small" and not plain["ema"]
    other, _ = resolve("digits", "nonsaturating", {"model": "mlp"})   # no row for it: the data set's defaults
    assert other["model"] == "mlp" and other["epochs"] == plain["epochs"]
