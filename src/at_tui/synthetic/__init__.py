"""Synthetic FINESS and Annuaire Santé extracts, realistic in shape, for tests, benchmarks and demonstrations."""
