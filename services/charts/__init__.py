"""Charts: pure chart data from MarketData, PNG rendering (Agg), and a cached ChartService."""
