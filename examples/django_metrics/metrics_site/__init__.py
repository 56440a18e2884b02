"""The example's Django project: settings only (no web pages; the app is the metrics models)."""
