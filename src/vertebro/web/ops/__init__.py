"""What operators expect of a server: /healthz, /readyz, /metrics, a request id and one JSON log line per request."""
