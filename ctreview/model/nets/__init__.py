"""The networks, ``torch.nn.Module`` subclasses only: no files, fitting or scoring.

* :mod:`~ctreview.model.nets.dcgan`: the format-1 AnoGAN's DCGAN generator,
  discriminator and encoder;
* :mod:`~ctreview.model.nets.conditioned`: the context-conditioned AnoGAN
  ``G(z, c)``, ``D(x, c)``, ``E(x, c)``;
* :mod:`~ctreview.model.nets.backbone`, :mod:`~ctreview.model.nets.lite0`,
  :mod:`~ctreview.model.nets.resnet`: the frozen feature backbones.

The defect head's U-Net lives with its inference in :mod:`ctreview.model.head`.
"""
