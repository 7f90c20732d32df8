"""chartfix: find label-selector bugs in Helm charts by rendering them, fix them byte-exactly."""

__version__ = "0.1.0"

DOCS_URL = "https://github.com/chartfix/chartfix/blob/main/docs/"
"""Where chartfix's documentation (this repository's docs/) is published: SARIF's
`informationUri` and each rule's `helpUri` point there."""
