"""Protocol skins of the sandbox: each speaks one venue's wire protocol over the venue-neutral core."""
