"""Corpus generators: larger landing folders made from the bundled corpus, deterministically."""
