"""Benchmarks: each module measures one path and prints ratios against a same-process baseline.

Absolute seconds depend on the machine; a ratio against a baseline measured in the same run
does not (much), so figures can be compared across machines and over time.
"""
