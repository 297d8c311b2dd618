"""Helpers the tests share: scripted people, builders, fixtures' constants, audit reads.

Not test modules: pytest collects nothing here. Import them as ``tests.support.<name>``.
"""
