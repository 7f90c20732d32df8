"""chartfix: find label-selector bugs in Helm charts by rendering them, fix them byte-exactly."""

__version__ = "0.1.0"
