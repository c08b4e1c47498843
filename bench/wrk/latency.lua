-- Prints the latency percentiles of a plain GET run in one machine-readable line.
done = function(summary, latency, requests)
  io.write(string.format(
    "RESULT requests=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f non2xx=%d\n",
    summary.requests, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.status))
end
