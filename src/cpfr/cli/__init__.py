"""The ``cpfr`` command line."""
