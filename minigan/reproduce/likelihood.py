"""The ``goodfellow`` tables' score: Parzen-window log-likelihood of MNIST test images
(Goodfellow et al. 2014, Table 1; the protocol of goodfeli/adversarial's ``parzen_ll.py``).

Generated samples and real images are compared as intensities in [0, 1] (the paper's scale).
Validation (to choose sigma): the first 1,000 images of MNIST train[50000:60000]; test: the
10,000 t10k images. The t10k stand-in (no training split at hand) trains the GAN on t10k and
takes validation and test from t10k too: a likelihood of seen data, not the paper's number.
"""
import numpy as np

from minigan.metrics import parzen_protocol


def validation_and_test(dataset, data_dir=None, quick=False):
    """(valid, test) image arrays in [0, 1], flattened, for the GAN's ``dataset``."""
    from minigan.data import load_dataset
    test = load_dataset("mnist_test", data_dir)
    if dataset == "mnist":
        train = load_dataset("mnist", data_dir)
        valid = train.x[50_000:60_000][:1000]
    else:   # the stand-in: everything from t10k
        valid = test.x[:1000]
    valid, test_x = test.to_data_space(valid), test.to_data_space(test.x)
    if quick:
        valid, test_x = valid[:100], test_x[:500]
    return valid, test_x


def parzen_scores(state, job, data_dir=None):
    """{"parzen_ll", "parzen_se", "parzen_sigma"} for the generator in ``state``."""
    from minigan.data import Dataset
    from minigan.sample import generate
    config = state["config"]
    meta = Dataset(config["dataset"], np.empty((0, config["data_dim"]), np.float32), (28, 28), "image")
    samples = meta.to_data_space(generate(state, job["eval_n"], seed=1))
    valid, test = validation_and_test(config["dataset"], data_dir, job["quick"])
    result = parzen_protocol(samples, valid, test)
    return {"parzen_ll": result["mean"], "parzen_se": result["se"], "parzen_sigma": result["sigma"]}
