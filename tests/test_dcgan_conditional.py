"""The DCGAN presets and the conditional GAN's models (issue 12)."""
import numpy as np
import pytest

import minigan as mg
from minigan import nn
from minigan.gan.conditional import ConditionalDiscriminator, ConditionalGenerator
from minigan.gan.dcgan import dcgan_discriminator, dcgan_generator


@pytest.mark.parametrize("shape", [(28, 28), (8, 8)])
def test_dcgan_shapes_and_ranges(shape):
    mg.manual_seed(0)
    G, D = dcgan_generator(16, shape), dcgan_discriminator(shape)
    x = G(mg.randn(5, 16))
    assert x.shape == (5, shape[0] * shape[1])
    assert float(x.abs().max()) <= 1.0                       # Tanh output
    p = D(x)
    assert p.shape == (5, 1) and 0 < float(p.min()) and float(p.max()) < 1
    logits = dcgan_discriminator(shape, output="logit")(x)
    assert float(logits.abs().max()) > 0 and logits.shape == (5, 1)


def test_dcgan_follows_radford_guidelines():
    """BatchNorm everywhere but D's input and G's output; LeakyReLU 0.2 in D, ReLU in G; N(0, 0.02) init."""
    mg.manual_seed(0)
    G, D = dcgan_generator(100, (28, 28)), dcgan_discriminator((28, 28))
    g_kinds, d_kinds = [type(m).__name__ for m in G], [type(m).__name__ for m in D]
    assert g_kinds[-3:] == ["ConvTranspose2d", "Tanh", "Flatten"]          # no BN right before the output
    assert d_kinds[:3] == ["Unflatten", "Conv2d", "LeakyReLU"]             # no BN at the input
    assert "BatchNorm2d" in g_kinds and "BatchNorm2d" in d_kinds
    assert all(m.negative_slope == 0.2 for m in D if isinstance(m, nn.LeakyReLU))
    assert not any(isinstance(m, nn.LeakyReLU) for m in G)
    big = G[4].weight.numpy()                      # ConvTranspose2d(128, 64, 4): 131,072 weights
    assert big.shape == (128, 64, 4, 4)            # PyTorch's (in, out, kh, kw)
    assert abs(big.mean()) < 1e-3 and 0.019 < big.std() < 0.021
    bn = G[5].weight.numpy()
    assert abs(bn.mean() - 1) < 0.01 and 0.01 < bn.std() < 0.03
    assert not np.any(D[4].running_mean.numpy())


def test_dcgan_8x8_generator_ends_with_a_smoothing_convolution():
    """8x8: ConvT 4/2/1 to 16 channels at full resolution (BN, ReLU), then a 3x3 convolution to the
    pixels; still no BN right before the output, and the convolution has Radford's init and a bias."""
    mg.manual_seed(0)
    G = dcgan_generator(100, (8, 8))
    kinds = [type(m).__name__ for m in G]
    assert kinds[-6:] == ["ConvTranspose2d", "BatchNorm2d", "ReLU", "Conv2d", "Tanh", "Flatten"]
    last = G[-3]
    assert last.weight.shape == (1, 16, 3, 3) and last.padding == (1, 1) and last.stride == (1, 1)
    assert last.bias is not None and not np.any(last.bias.numpy())
    assert 0.01 < last.weight.numpy().std() < 0.03                     # N(0, 0.02), 144 draws
    assert G[-6].weight.shape == (32, 16, 4, 4) and G[-6].bias is None
    assert G(mg.randn(2, 100)).shape == (2, 64)


@pytest.mark.parametrize("shape", [(27, 27), (28, 14), (2,)])
def test_dcgan_rejects_other_shapes(shape):
    with pytest.raises(ValueError, match=r"28x28 or 8x8 .* --model mlp"):
        dcgan_generator(8, shape)


def test_conditional_generator_uses_the_label():
    mg.manual_seed(0)
    G = ConditionalGenerator(nn.Sequential(nn.Linear(4 + 3, 8), nn.Tanh()), n_classes=10, embed_dim=3)
    z = mg.randn(1, 4)
    outs = [G(z, mg.tensor(np.array([k]))).numpy() for k in range(3)]
    assert not np.allclose(outs[0], outs[1]) and not np.allclose(outs[1], outs[2])
    assert sorted(G.state_dict()) == ["body.0.bias", "body.0.weight", "embed.weight"]
    loss = G(mg.randn(6, 4), mg.tensor(np.array([0, 1, 2, 0, 1, 2]))).sum()
    loss.backward()
    grad = G.embed.weight.grad.numpy()
    assert np.all(grad[:3] != 0) and np.all(grad[3:] == 0)    # only the labels used get a gradient


def test_conditional_models_need_one_label_per_sample():
    G = ConditionalGenerator(nn.Linear(5, 2), n_classes=10, embed_dim=1)
    with pytest.raises(ValueError, match="one label per sample: got 3 samples and 2 labels"):
        G(mg.randn(3, 4), mg.tensor(np.array([0, 1])))
    with pytest.raises(ValueError, match="no labels"):
        G(mg.randn(3, 4), None)
    with pytest.raises(ValueError, match="at least 2 classes"):
        ConditionalGenerator(nn.Linear(5, 2), n_classes=1, embed_dim=1)


def test_conditional_conv_discriminator_sees_the_label_at_every_pixel():
    mg.manual_seed(0)
    body = dcgan_discriminator((8, 8), in_channels=5, unflatten=False)
    D = ConditionalDiscriminator(body, n_classes=10, embed_dim=4, image_shape=(8, 8))
    x = mg.randn(2, 64)
    y = mg.tensor(np.array([3, 3]))
    assert D(x, y).shape == (2, 1)
    assert body[0].weight.shape == (32, 5, 4, 4)     # 1 image channel + 4 label channels
    other = D(x, mg.tensor(np.array([4, 4]))).numpy()
    assert not np.allclose(D(x, y).numpy(), other)


# --- the conditional GAN through the trainer and the command line --------------------------------
from minigan import train  # noqa: E402
from minigan.gan import GANTrainer, load_checkpoint  # noqa: E402
from minigan.gan.conditional import class_labels  # noqa: E402


def _tiny_conditional(n_classes=3, dim=4, latent=2):
    G = ConditionalGenerator(nn.Sequential(nn.Linear(latent + n_classes, dim), nn.Tanh()), n_classes, n_classes)
    D = ConditionalDiscriminator(nn.Sequential(nn.Linear(dim + n_classes, 1), nn.Sigmoid()), n_classes, n_classes)
    return G, D


def test_trainer_draws_fakes_for_the_real_batch_labels():
    mg.manual_seed(0)
    G, D = _tiny_conditional()
    seen = []
    real_y = mg.tensor(np.array([0, 2, 2, 1]))
    original = G.forward
    G.forward = lambda z, y: seen.append(y.numpy().copy()) or original(z, y)
    trainer = GANTrainer(G, D, lambda: (mg.randn(4, 4), real_y), latent_dim=2)
    metrics = trainer.step()
    assert all(np.array_equal(y, [0, 2, 2, 1]) for y in seen) and len(seen) == 2   # the D step and the G step
    assert np.isfinite(metrics["d_loss"]) and G.embed.weight.grad is not None
    out = trainer.generate(mg.randn(3, 2), mg.tensor(np.array([0, 1, 2])))
    assert out.shape == (3, 4)
    with pytest.raises(ValueError, match="needs the labels y"):
        trainer.generate(mg.randn(3, 2))


def test_trainer_refuses_half_conditional_models_and_packing():
    G, D = _tiny_conditional()
    with pytest.raises(ValueError, match="conditional generator AND discriminator"):
        GANTrainer(G, nn.Sequential(nn.Linear(4, 1), nn.Sigmoid()), lambda: None, latent_dim=2)
    with pytest.raises(ValueError, match="pack > 1 with a conditional GAN"):
        GANTrainer(G, D, lambda: None, latent_dim=2, pack=2)


def test_class_labels_give_a_row_per_class_or_one_label():
    assert class_labels(6, 3).tolist() == [0, 0, 1, 1, 2, 2]
    assert class_labels(4, 10, label=7).tolist() == [7] * 4
    with pytest.raises(ValueError, match="choose 0..9"):
        class_labels(4, 10, label=10)


@pytest.mark.parametrize("model", ["small", "dcgan"])
def test_conditional_run_end_to_end(tmp_path, model, capsys):
    from minigan import sample
    from minigan.evaluate import evaluate_state
    out = tmp_path / "run"
    assert train.main(["--dataset", "digits", "--conditional", "--model", model, "--dry-run", "--out", str(out),
                       "--no-progress"]) == 0
    state = load_checkpoint(out / "checkpoint.npz")
    assert state["config"]["conditional"] is True and state["config"]["n_classes"] == 10
    assert sample.main(["--checkpoint", str(out / "checkpoint.npz"), "--label", "7", "--n", "5",
                        "--out", str(tmp_path / "sevens.npy")]) == 0
    assert np.load(tmp_path / "sevens.npy").shape == (5, 8, 8)
    assert sample.main(["--checkpoint", str(out / "checkpoint.npz"), "--n", "20", "--out", str(tmp_path / "all.png")]) == 0
    result = evaluate_state(state, 100, log=None, cache_dir=tmp_path)
    assert 0.0 <= result["metrics"]["label_agreement"] <= 1.0
    # the picture of the run and of sample: ten of each class, a row per class
    assert (out / "samples.png").exists()


def test_conditional_errors_are_one_line(tmp_path, capsys):
    for argv, message in ((["--dataset", "ring", "--conditional"], "has no class labels"),
                          (["--dataset", "digits", "--conditional", "--pack", "2"], "--conditional with --pack")):
        with pytest.raises(SystemExit) as exit_:
            train.main([*argv, "--dry-run", "--out", str(tmp_path / "x")])
        assert exit_.value.code == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1


def test_resume_cannot_switch_conditional_on(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert train.main(["--dataset", "digits", "--dry-run", "--out", out, "--no-progress"]) == 0
    with pytest.raises(SystemExit):
        train.main(["--resume", "--conditional", "--out", out, "--steps", "5", "--no-progress"])
    assert "--conditional (was False, now True)" in capsys.readouterr().err


# --- width: the channel (or hidden size) multiplier -----------------------------------------
def test_dcgan_width_multiplies_every_channel_count():
    mg.manual_seed(0)
    G, D = dcgan_generator(100, (8, 8), width=2), dcgan_discriminator((8, 8), width=2)
    convs = lambda net: [m.weight.shape for m in net if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    assert G[0].weight.shape == (2 * 64 * 2 * 2, 100)                  # Linear to (128, 2, 2)
    assert convs(G) == [(128, 64, 4, 4), (64, 32, 4, 4), (1, 32, 3, 3)]  # ConvT (in, out), Conv (out, in)
    assert convs(D) == [(64, 1, 4, 4), (128, 64, 4, 4)] and D[-2].weight.shape == (1, 128 * 2 * 2)
    assert G(mg.randn(3, 100)).shape == (3, 64) and D(G(mg.randn(3, 100))).shape == (3, 1)
    assert convs(dcgan_generator(100, (8, 8), width=1)) == [(64, 32, 4, 4), (32, 16, 4, 4), (1, 16, 3, 3)]


def test_mlp_presets_take_the_width_too():
    from minigan.gan import make_discriminator, make_generator
    linears = lambda net: [m.weight.shape for m in net if isinstance(m, nn.Linear)]
    assert linears(make_generator("small", 10, 64, width=2)) == [(256, 10), (512, 256), (64, 512)]
    assert linears(make_discriminator("small", 64, width=3)) == [(768, 64), (384, 768), (1, 384)]
    assert linears(make_generator("small", 10, 64)) == [(128, 10), (256, 128), (64, 256)]


@pytest.mark.parametrize("width", [0, -1, 1.5, True, "2"])
def test_a_bad_width_names_itself(width):
    from minigan.gan import make_generator
    with pytest.raises(ValueError, match=rf"width must be a positive integer .*got {width!r}"):
        dcgan_generator(100, (8, 8), width=width)
    with pytest.raises(ValueError, match="width must be a positive integer"):
        make_generator("small", 10, 64, width=width)


def test_width_goes_from_the_command_line_to_the_checkpoint_and_back(tmp_path, capsys):
    from minigan import sample
    from minigan.gan.checkpoint import save_checkpoint
    out = tmp_path / "run"
    argv = ["--dataset", "digits", "--model", "dcgan", "--width", "2", "--dry-run", "--no-progress", "--out", str(out)]
    assert train.main(argv) == 0
    state = load_checkpoint(out / "checkpoint.npz")
    assert state["config"]["width"] == 2
    assert state["trainer"]["G"]["0.weight"].shape == (512, 100)      # both wide players were trained and saved
    assert state["trainer"]["D"]["1.weight"].shape == (64, 1, 4, 4)
    assert sample.main(["--checkpoint", str(out / "checkpoint.npz"), "--n", "4", "--out", str(tmp_path / "s.npy")]) == 0
    resume = ["--dry-run", "--steps", "5", "--resume", "--no-progress", "--out", str(out)]
    with pytest.raises(SystemExit):                           # the width defines the networks
        train.main(["--width", "1", *resume])
    assert "--width (was 2, now 1)" in capsys.readouterr().err
    assert train.main(["--width", "2", *resume]) == 0 and load_checkpoint(out / "checkpoint.npz")["trainer"]["step"] == 5
    # a config that does not match its weights is the checkpoint's fault, said in one line
    state["config"]["width"] = 1
    save_checkpoint(tmp_path / "mismatch.npz", state)
    with pytest.raises(SystemExit):
        sample.main(["--checkpoint", str(tmp_path / "mismatch.npz"), "--n", "4", "--out", str(tmp_path / "m.npy")])
    err = capsys.readouterr().err
    assert "--checkpoint " in err and "mismatch.npz" in err and len(err.strip().splitlines()) == 1
    # a checkpoint from before width was recorded (so trained at width 1, though the row now says 2)
    # resumes and samples as width 1
    narrow = tmp_path / "old"
    small = ["--dataset", "digits", "--model", "dcgan", "--width", "1", "--n-samples", "64", "--batch-size", "16",
             "--no-progress"]
    assert train.main([*small, "--steps", "2", "--out", str(narrow)]) == 0
    old = load_checkpoint(narrow / "checkpoint.npz")
    del old["config"]["width"]
    save_checkpoint(narrow / "checkpoint.npz", old)
    assert sample.main(["--checkpoint", str(narrow / "checkpoint.npz"), "--n", "4", "--out", str(tmp_path / "o.npy")]) == 0
    assert train.main(["--resume", "--steps", "4", "--n-samples", "64", "--no-progress", "--out", str(narrow)]) == 0
    assert load_checkpoint(narrow / "checkpoint.npz")["config"]["width"] == 1
    with pytest.raises(SystemExit):
        train.main(["--resume", "--width", "2", "--steps", "6", "--n-samples", "64", "--no-progress", "--out", str(narrow)])
    assert "--width (was 1, now 2)" in capsys.readouterr().err


@pytest.mark.parametrize("model, g_first, d_first", [("dcgan", (512, 110), (64, 11, 4, 4)), ("small", (256, 110), (512, 74))])
def test_a_wide_conditional_gan_is_wide_on_both_sides(tmp_path, model, g_first, d_first):
    out = tmp_path / "run"
    assert train.main(["--dataset", "digits", "--conditional", "--model", model, "--width", "2", "--dry-run",
                       "--no-progress", "--out", str(out)]) == 0
    trained = load_checkpoint(out / "checkpoint.npz")["trainer"]
    first = lambda sd: next(v.shape for k, v in sd.items() if k.endswith("weight") and "embed" not in k)
    assert first(trained["G"]) == g_first and first(trained["D"]) == d_first
