"""The GPU launch budget, checked without a GPU (issue 13).

On a GPU the small MLP GANs are bound by kernel launches and host syncs, not arithmetic: each array
call is about one CUDA launch, each device -> host transfer a blocking synchronization. The strict
backend counts both (minigan.strict.count_calls; a fused kernel of minigan.kernels is one call), so
CI can hold a training step to a budget: before the fused kernels, flat optimizers and on-device
metrics, one step of the ``mlp`` preset at batch 64 made 495 calls and one transfer.
"""
import numpy as np
import pytest

import minigan as mg
from minigan import train
from minigan.data import DataLoader
from minigan.gan import GANTrainer, discriminator_output, make_discriminator, make_generator
from minigan.gan import trainer as trainer_module
from minigan.strict import count_calls

BUDGET = 130   # array calls per GANTrainer.step() for the mlp preset at batch 64


def _mlp_trainer(loss="nonsaturating", logits=False, batch=64):
    mg.set_backend("strict")
    mg.manual_seed(0)
    G = make_generator("mlp", 100, 784)
    D = make_discriminator("mlp", 784, discriminator_output(loss, logits))
    data = np.random.default_rng(0).uniform(-1.0, 1.0, (4 * batch, 784)).astype(np.float32)
    loader = DataLoader(data, batch, drop_last=True)
    return GANTrainer(G, D, loader.sample_batch, 100, loss=loss, logits=logits)


@pytest.mark.parametrize("logits", [False, True], ids=["probability", "logits"])
def test_a_step_of_the_mlp_preset_stays_within_the_launch_budget_and_never_syncs(logits):
    trainer = _mlp_trainer(logits=logits)
    trainer.step()   # the first step allocates the optimizers' state buffers
    with count_calls() as count:
        rows = [trainer.step() for _ in range(3)]
    per_step = count.total / 3
    assert per_step <= BUDGET, f"{per_step:.0f} array calls per step, over the budget of {BUDGET}; " \
                               f"the most frequent: {count.calls.most_common(8)}"
    assert count.to_host == 0 and count.to_device == 0, "a training step moved data between host and device"
    assert count.calls["kernel adam"] == 2 * 3   # one fused update per optimizer and step, not one per tensor
    with count_calls() as count:
        metrics = trainer_module.metrics_to_host(rows)
    assert count.to_host == 1 and [m["step"] for m in metrics] == [2, 3, 4]
    assert all(np.isfinite(v) for m in metrics for v in m.values())
    assert rows[0]["d_loss"] == metrics[0]["d_loss"]   # read once, then a plain dict


def test_reading_a_row_of_step_metrics_is_one_transfer_and_it_behaves_as_a_dict():
    trainer = _mlp_trainer(batch=8)
    metrics = trainer.step()
    with count_calls() as count:
        keys, d_loss = set(metrics), metrics["d_loss"]
        metrics["epoch"] = 1
    assert count.to_host == 1 and isinstance(d_loss, float)
    assert keys == {"step", *trainer_module.METRICS} and metrics["epoch"] == 1 and len(metrics) == 8


def test_the_training_loop_reads_metrics_back_once_per_log_every_steps(tmp_path, monkeypatch):
    reads = []
    real = trainer_module.metrics_to_host

    def recording(rows):
        reads.append([r.step for r in rows])
        return real(rows)
    monkeypatch.setattr(trainer_module, "metrics_to_host", recording)
    rc = train.main(["--dataset", "gauss1d", "--n-samples", "64", "--batch-size", "16", "--steps", "12",
                     "--log-every", "4", "--sample-every", "6", "--no-progress", "--out", str(tmp_path / "run")])
    assert rc == 0
    # every --log-every steps, and where a checkpoint is written (its rows checked first): 4, 6, 8, 12
    assert reads == [[1, 2, 3, 4], [5, 6], [7, 8], [9, 10, 11, 12]]
    rows = (tmp_path / "run" / "metrics.csv").read_text().splitlines()
    assert [int(r.split(",")[0]) for r in rows[1:]] == [4, 8, 12]


def test_a_divergence_between_read_backs_stops_the_run_and_keeps_the_earlier_checkpoint(tmp_path, monkeypatch):
    from minigan.gan import load_checkpoint
    real_step = GANTrainer.step

    def poisoned(self):
        metrics = real_step(self)
        if self.step_count == 7:
            metrics["g_loss"] = float("inf")
        return metrics
    monkeypatch.setattr(GANTrainer, "step", poisoned)
    out = tmp_path / "run"
    rc = train.main(["--dataset", "gauss1d", "--n-samples", "64", "--batch-size", "16", "--steps", "12",
                     "--log-every", "4", "--sample-every", "6", "--no-progress", "--out", str(out)])
    assert rc == 1
    assert load_checkpoint(out / "checkpoint.npz")["trainer"]["step"] == 6
