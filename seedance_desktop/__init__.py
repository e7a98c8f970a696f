"""Seedance Desktop: make videos with ByteDance Seedance 2.0 on fal, from the desktop."""

__version__ = "0.1.0"
