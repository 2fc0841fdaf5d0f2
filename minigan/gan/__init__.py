"""The GAN game: losses, model presets, the Algorithm 1 trainer and checkpoints."""
from minigan.gan.checkpoint import load_checkpoint, save_checkpoint
from minigan.gan.losses import (clip_weights, critic_wasserstein_loss, d_minimax_loss, d_minimax_loss_logits,
                                g_nonsaturating_loss, g_nonsaturating_loss_logits, g_saturating_loss,
                                g_saturating_loss_logits, g_wasserstein_loss, gradient_penalty)
from minigan.gan.models import MODELS, PRESETS, make_discriminator, make_generator, mlp
from minigan.gan.trainer import LOSSES, GANTrainer, discriminator_output
