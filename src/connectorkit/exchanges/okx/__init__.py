"""OKX (API v5): the venue's facts and its pure wire layer.

Not registered as a connector yet: the ``okx`` and ``okx_perpetual`` connector classes and data
sources are built on the venue-neutral data-source templates (issues 11 and 12). What is here is
I/O-free and tested on OKX's recorded frames.
"""
