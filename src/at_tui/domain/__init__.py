"""Pure rules and models: no I/O, no Textual."""
