"""AnoGAN inference: the latent search the seeds describe, and the format-1 model it began as.

* :mod:`~ctreview.model.anogan.search`: Adam on ``z`` with the seeds' loss,
  ``(1 - lambda) * sum|x - G(z)| + lambda * sum|f(x) - f(G(z))|``;
* :mod:`~ctreview.model.anogan.cond_search`: the same for the conditioned GAN;
* :mod:`~ctreview.model.anogan.anomaly`, :mod:`~ctreview.model.anogan.format1`:
  a format-1 AnoGAN folder, and its wrapping as a fused model.

The scorers that use them are in :mod:`ctreview.model.scorers`.
"""
