"""The agency's own files, written from what at-tui holds (issue 12): the SPICO tracking
spreadsheet, the CRM import, the visit report, the monthly CM–AT pack, the indicators' charts.

Writers only: they take the domain's rows (`domain.tracking`, `domain.indicators`…) and write
a file; reading the laptop's store or the central is `store/` and `central/`'s. No Textual here.
"""
