"""gen: lesson data in, verified randomized calculus problems out."""

__version__ = "0.1.0"
