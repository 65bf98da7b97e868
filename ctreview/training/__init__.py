"""Training: GAN and encoder loops, the defect head, synthetic defects, calibration.

Core package: never imports Qt. Split from :mod:`ctreview.model`, which keeps
the networks, model files and inference only.
"""
