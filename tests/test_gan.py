"""GAN losses, model presets and the Algorithm 1 trainer."""
import numpy as np
import pytest

import minigan as mg
from minigan import gan, nn
from minigan.gan import losses as L


def _p(values):
    return mg.tensor(np.array(values).reshape(-1, 1), requires_grad=True, dtype="float64")


def test_losses_match_their_formulas():
    d_real, d_fake = np.array([0.9, 0.6, 0.3]), np.array([0.2, 0.5, 0.7])
    r, f = _p(d_real), _p(d_fake)
    assert L.d_minimax_loss(r, f).item() == pytest.approx(-(np.log(d_real).mean() + np.log(1 - d_fake).mean()))
    assert L.g_saturating_loss(f).item() == pytest.approx(np.log(1 - d_fake).mean())
    assert L.g_nonsaturating_loss(f).item() == pytest.approx(-np.log(d_fake).mean())
    assert L.critic_wasserstein_loss(r, f).item() == pytest.approx(d_fake.mean() - d_real.mean())
    assert L.g_wasserstein_loss(f).item() == pytest.approx(-d_fake.mean())


def test_logit_forms_equal_probability_forms_and_stay_finite():
    a_real, a_fake = np.array([2.0, -1.0, 0.5]), np.array([-3.0, 0.2, 1.5])
    sig = lambda a: 1 / (1 + np.exp(-a))
    assert L.d_minimax_loss_logits(_p(a_real), _p(a_fake)).item() == pytest.approx(
        L.d_minimax_loss(_p(sig(a_real)), _p(sig(a_fake))).item(), rel=1e-12)
    assert L.g_saturating_loss_logits(_p(a_fake)).item() == pytest.approx(L.g_saturating_loss(_p(sig(a_fake))).item(), rel=1e-12)
    assert L.g_nonsaturating_loss_logits(_p(a_fake)).item() == pytest.approx(
        L.g_nonsaturating_loss(_p(sig(a_fake))).item(), rel=1e-12)
    assert np.isfinite(L.g_nonsaturating_loss_logits(_p([-1000.0])).item())


def test_saturating_gradient_vanishes_where_nonsaturating_does_not():
    a = _p([-10.0])  # D confidently rejects the fake
    (g_sat,) = mg.grad(L.g_saturating_loss_logits(a), [a])
    (g_ns,) = mg.grad(L.g_nonsaturating_loss_logits(a), [a])
    assert abs(g_sat.item()) < 1e-4 < 0.99 < abs(g_ns.item())


def test_gradient_penalty_value_and_double_backward(float64):
    mg.manual_seed(0)
    critic = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1))
    real, fake = mg.randn(4, 3), mg.randn(4, 3)
    mg.manual_seed(1)
    penalty = L.gradient_penalty(critic, real, fake, weight=10.0)
    mg.manual_seed(1)
    eps = mg.rand(4, 1)
    x_hat = mg.tensor((eps * real + (1 - eps) * fake).numpy(), requires_grad=True)
    (g,) = mg.grad(critic(x_hat).sum(), [x_hat])
    expected = 10.0 * ((np.linalg.norm(g.numpy(), axis=1) - 1) ** 2).mean()
    assert penalty.item() == pytest.approx(expected, rel=1e-6)

    def penalty_of(*weights):
        for p, w in zip(critic.parameters(), weights):
            p.data = w.data
        mg.manual_seed(1)
        return L.gradient_penalty(critic, real, fake)

    assert mg.gradcheck(penalty_of, critic.parameters())
    with pytest.raises(ValueError, match=r"real batch \(4, 3\) and fake batch \(2, 3\) differ"):
        L.gradient_penalty(critic, real, fake[:2])


def test_clip_weights_in_place():
    layer = nn.Linear(10, 10)
    storage = layer.weight.data
    L.clip_weights(layer, 0.01)
    assert layer.weight.data is storage and np.abs(layer.weight.numpy()).max() <= 0.01


def test_presets_shapes_and_layers():
    G = gan.make_generator("mlp", 100, 784)
    D = gan.make_discriminator("mlp", 784)
    assert [m.weight.shape for m in G if isinstance(m, nn.Linear)] == [(256, 100), (512, 256), (1024, 512), (784, 1024)]
    assert [m.weight.shape for m in D if isinstance(m, nn.Linear)] == [(1024, 784), (512, 1024), (256, 512), (1, 256)]
    assert isinstance(G[-1], nn.Tanh) and isinstance(D[-1], nn.Sigmoid)
    G_bn = gan.make_generator("mlp-bn", 100, 784)
    assert all(m.eps == 1e-5 and m.momentum == 0.1 for m in G_bn if isinstance(m, nn.BatchNorm1d))
    assert any(isinstance(m, nn.Dropout) and m.p == 0.3 for m in gan.make_discriminator("mlp-bn", 784))
    assert not isinstance(gan.make_discriminator("toy", 2, "critic")[-1], nn.Sigmoid)
    with pytest.raises(ValueError, match="unknown model preset 'big'; valid presets: mlp, mlp-bn, small, toy"):
        gan.make_generator("big", 10, 10)


def _trainer(loss="nonsaturating", **kwargs):
    mg.manual_seed(0)
    data = mg.randn(64, 2)
    calls = []

    def sample_real():
        calls.append(1)
        return data[:16]

    G = gan.make_generator("toy", 4, 2, image=False)
    D = gan.make_discriminator("toy", 2, gan.discriminator_output(loss, kwargs.get("logits", False)))
    return gan.GANTrainer(G, D, sample_real, 4, loss=loss, **kwargs), calls


@pytest.mark.parametrize("loss, d_steps", [("nonsaturating", 1), ("minimax", 3), ("wgan", 5), ("wgan-gp", 2)])
def test_each_discriminator_step_draws_its_own_minibatch(loss, d_steps):
    trainer, calls = _trainer(loss, d_steps=d_steps)
    metrics = trainer.step()
    assert len(calls) == d_steps and metrics["step"] == 1
    assert set(metrics) == {"step", "d_loss", "g_loss", "d_real", "d_fake", "grad_norm_d", "grad_norm_g"}
    assert all(np.isfinite(v) for v in metrics.values())


def test_generator_step_freezes_discriminator_and_records_true_norms():
    trainer, _ = _trainer()
    d_grads = {}
    real_step = trainer.opt_d.step

    def remember_d_grads():
        d_grads.update({id(p): p.grad.numpy().copy() for p in trainer.D.parameters()})
        real_step()

    trainer.opt_d.step = remember_d_grads
    metrics = trainer.step()
    # after the G step D's gradients are still those of its own step: the G step computed none
    for p in trainer.D.parameters():
        np.testing.assert_array_equal(p.grad.numpy(), d_grads[id(p)])
        assert p.requires_grad  # unfrozen again
    expected = np.sqrt(sum((g.astype(np.float64) ** 2).sum() for g in d_grads.values()))
    assert metrics["grad_norm_d"] == pytest.approx(expected, rel=1e-5)
    expected_g = np.sqrt(sum((p.grad.numpy().astype(np.float64) ** 2).sum() for p in trainer.G.parameters()))
    assert metrics["grad_norm_g"] == pytest.approx(expected_g, rel=1e-5)


def test_d_step_leaves_the_generator_alone():
    trainer, _ = _trainer(d_steps=1)
    G_before = [p.numpy().copy() for p in trainer.G.parameters()]
    trainer.opt_g.step = lambda: None  # stop after the D step's effects
    trainer.step()
    for p, before in zip(trainer.G.parameters(), G_before):
        np.testing.assert_array_equal(p.numpy(), before)


def test_wgan_clips_and_uses_rmsprop():
    trainer, _ = _trainer("wgan")
    trainer.step()
    assert type(trainer.opt_d).__name__ == "RMSprop"
    assert max(np.abs(p.numpy()).max() for p in trainer.D.parameters()) <= 0.01 + 1e-9


def test_trainer_argument_errors():
    with pytest.raises(ValueError, match="unknown loss 'hinge'; valid losses: minimax, nonsaturating, wgan, wgan-gp"):
        _trainer("hinge")
    with pytest.raises(ValueError, match="must be >= 1, got 0"):
        _trainer(d_steps=0)
    with pytest.raises(ValueError, match="no logit form"):
        _trainer("wgan", logits=True)


def test_trainer_state_round_trip():
    a, _ = _trainer()
    a.step()
    b, _ = _trainer()
    b.load_state_dict(a.state_dict())
    assert b.step_count == 1
    for p, q in zip(a.G.parameters(), b.G.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


@pytest.mark.parametrize("loss, preset", [("nonsaturating", "mlp-bn"), ("minimax", "toy"), ("wgan", "toy"), ("wgan-gp", "toy")])
def test_a_full_training_step_runs_on_every_backend(backend, loss, preset):
    """On "strict" this is the GPU path without a GPU: any NumPy array leaking into device code raises."""
    from minigan.data import DataLoader
    mg.manual_seed(0)
    data = np.random.default_rng(0).standard_normal((64, 6)).astype(np.float32)
    loader = DataLoader(data, batch_size=16, drop_last=True)
    G = gan.make_generator(preset, 4, 6, image=True)
    D = gan.make_discriminator(preset, 6, gan.discriminator_output(loss))
    trainer = gan.GANTrainer(G, D, loader.sample_batch, 4, loss=loss, d_steps=2)
    for _ in range(2):
        metrics = trainer.step()
    assert all(np.isfinite(v) for v in metrics.values())
    assert all(p.backend is backend for p in G.parameters() + D.parameters())
    state = trainer.state_dict()
    assert all(type(v) is np.ndarray for v in state["G"].values())


def test_r1_penalty_value_gradient_and_double_backward(float64):
    # a linear D(x) = x w + b has grad_x D = w for every x: R1 = gamma/2 |w|^2, d R1 / dw = gamma w
    D = nn.Linear(3, 1)
    real = mg.randn(5, 3)
    w = D.weight.numpy().ravel()
    penalty = L.r1_penalty(D, real, weight=0.5)
    assert penalty.item() == pytest.approx(0.25 * (w ** 2).sum(), rel=1e-12)
    (g_w,) = mg.grad(penalty, [D.weight])
    np.testing.assert_allclose(g_w.numpy().ravel(), 0.5 * w, rtol=1e-12)
    assert not real.requires_grad   # the penalty differentiates a detached copy, not the caller's batch

    # a nonlinear D: the penalty's gradient w.r.t. D's weights (a second backward) against finite differences
    mg.manual_seed(0)
    D = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1))

    def penalty_of(*weights):
        for p, value in zip(D.parameters(), weights):
            p.data = value.data
        return L.r1_penalty(D, real, weight=2.0)

    assert mg.gradcheck(penalty_of, D.parameters())


def test_r1_weight_needs_a_logit_or_critic_discriminator():
    G = nn.Sequential(nn.Linear(2, 2))
    sample_real = lambda: mg.randn(4, 2)
    with pytest.raises(ValueError, match=r"r1_weight penalizes the discriminator's logit.*--logits"):
        gan.GANTrainer(G, nn.Sequential(nn.Linear(2, 1), nn.Sigmoid()), sample_real, 2, r1_weight=1.0)
    trainer = gan.GANTrainer(G, nn.Sequential(nn.Linear(2, 1)), sample_real, 2, logits=True, r1_weight=1.0)
    assert trainer.r1_weight == 1.0 and np.isfinite(float(trainer.step()["d_loss"]))


def test_r1_adds_its_penalty_to_the_d_loss(float64):
    # same weights, data and noise: the D loss with R1 is the plain one plus the penalty on that real batch
    losses = []
    for r1 in (None, 3.0):
        mg.manual_seed(0)
        G, D = nn.Sequential(nn.Linear(2, 2)), nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
        real = mg.randn(6, 2)
        expected = 0.0 if r1 is None else L.r1_penalty(D, real, r1).item()
        trainer = gan.GANTrainer(G, D, lambda: real, 2, logits=True, r1_weight=r1)
        losses.append(float(trainer.step()["d_loss"]) - expected)
    assert losses[1] == pytest.approx(losses[0], rel=1e-12)
