"""The reference data: bundled data files validated at load, with what the central published laid over them."""
