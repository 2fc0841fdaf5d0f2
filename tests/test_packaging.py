"""Packaging: LICENSE, CHANGELOG, console scripts, --version, dependency bounds, the README's torch.nn example."""
import configparser
import importlib
import pathlib
import re

import pytest

import minigan

ROOT = pathlib.Path(__file__).resolve().parents[1]
CLIS = ["minigan.train", "minigan.sample", "minigan.grade", "minigan.theory.__main__",
        "minigan.assignments.make_student"]
CONSOLE_SCRIPTS = {"minigan-train", "minigan-sample", "minigan-evaluate", "minigan-grade", "minigan-theory"}

# torch.nn.Sequential(Linear(100, 256), LeakyReLU(0.2), Linear(256, 512), LeakyReLU(0.2),
#                     Linear(512, 1024), LeakyReLU(0.2), Linear(1024, 784), Tanh()).state_dict(),
# recorded with torch 2.13: the README's torch model for make_generator("mlp", 100, 784)
TORCH_MLP_GENERATOR = [
    ("0.weight", (256, 100)), ("0.bias", (256,)),
    ("2.weight", (512, 256)), ("2.bias", (512,)),
    ("4.weight", (1024, 512)), ("4.bias", (1024,)),
    ("6.weight", (784, 1024)), ("6.bias", (784,)),
]


def _setup_cfg():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg", encoding="utf-8")
    return cfg


def _lines(value):
    return [line.strip() for line in value.strip().splitlines() if line.strip()]


def test_license_is_mit():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    assert "the minigan authors" in text
    assert _setup_cfg()["metadata"]["license"] == "MIT"


def test_changelog_mentions_the_current_version():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(rf"^## \[?{re.escape(minigan.__version__)}\]?", text, flags=re.M)
    assert re.search(r"^## \[?Unreleased\]?", text, flags=re.M)


@pytest.mark.parametrize("module", CLIS)
def test_every_cli_prints_its_version(module, capsys):
    main = importlib.import_module(module).main
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code in (0, None)
    out = capsys.readouterr().out.strip()
    assert out.endswith(f" {minigan.__version__}")
    assert out.split()[-2] == module.removesuffix(".__main__")          # prog is "python -m <module>"


def test_console_scripts_name_importable_callables():
    scripts = {}
    for line in _lines(_setup_cfg()["options.entry_points"]["console_scripts"]):
        name, target = (part.strip() for part in line.split("=", 1))
        scripts[name] = target
    assert set(scripts) == CONSOLE_SCRIPTS
    for name, target in scripts.items():
        module, attr = target.split(":")
        assert callable(getattr(importlib.import_module(module), attr)), name
        assert attr == "main"


def test_install_requires_has_no_upper_caps():
    requirements = _lines(_setup_cfg()["options"]["install_requires"])
    assert any(r.startswith("numpy") for r in requirements)
    for requirement in requirements:
        assert "<" not in requirement and "~=" not in requirement and "==" not in requirement, requirement


def test_python_classifiers_match_python_requires():
    cfg = _setup_cfg()
    assert cfg["options"]["python_requires"].strip() == ">=3.10"
    classifiers = _lines(cfg["metadata"]["classifiers"])
    for minor in (10, 11, 12, 13):
        assert f"Programming Language :: Python :: 3.{minor}" in classifiers
    assert "License :: OSI Approved :: MIT License" in classifiers


def test_pyproject_holds_only_the_build_system():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.findall(r"^\[([^\]]+)\]", text, flags=re.M) == ["build-system"]


def test_mlp_generator_state_dict_matches_torch():
    """The minigan side of the README's torch.nn example: same keys, order and shapes as torch."""
    from minigan.gan import make_generator
    G = make_generator("mlp", latent_dim=100, data_dim=784)
    assert [(k, v.shape) for k, v in G.state_dict().items()] == TORCH_MLP_GENERATOR


def _readme_torch_block():
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), flags=re.S)
    (block,) = [b for b in blocks if "import torch" in b]
    return block


def test_readme_torch_example_shows_both_directions():
    block = _readme_torch_block()
    assert "torch_model.load_state_dict({k: torch.from_numpy(v) for k, v in G.state_dict().items()})" in block
    assert "G.load_state_dict({k: v.numpy() for k, v in torch_model.state_dict().items()})" in block


def test_readme_torch_example_runs():
    pytest.importorskip("torch")          # not a dependency: runs only where torch is installed
    exec(compile(_readme_torch_block(), str(ROOT / "README.md"), "exec"), {})
