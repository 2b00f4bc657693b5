"""Local stand-ins of the upstream APIs that behave like the real services, not only answer in
their formats: Yahoo wants a browser, its cookie and crumb; CoinGecko enforces plans, ids
and a per-minute limit; SEC wants a User-Agent; DefiLlama filters by ?stablecoin=.

They serve the bundled snapshot's own values (data/series, real public data) in each API's
real response shape, up to a fixed "today", so live at that date can be checked against
replay at the same date. Error bodies are the recorded ones under tests/fixtures/upstream.
"""
