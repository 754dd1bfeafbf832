"""Expectation suites as code, one module per layer; each function returns GX expectations."""
