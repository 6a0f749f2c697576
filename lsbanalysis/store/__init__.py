"""The processed store: tidy observations, geography, boundaries and their provenance."""
