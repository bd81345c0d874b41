"""Running it: Prometheus metrics and readiness checks, structured logging, the small
embedded HTTP server for them in Socket Mode.
"""
