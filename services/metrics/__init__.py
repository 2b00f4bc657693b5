"""Pure metric computations: MarketData at an as-of date in, frozen readings out."""
