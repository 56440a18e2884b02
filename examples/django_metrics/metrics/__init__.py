"""An engineering-metrics app: team members, pull requests, reviews, commits, files and comments."""
