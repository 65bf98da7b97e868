"""ctreview: triage X-ray CT volumes of electronic parts."""

__version__ = "0.1.0"
