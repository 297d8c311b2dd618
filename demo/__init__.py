"""The sandbox's composition root and the demo county it seeds.

A top-level package beside bot/ so that bot/ holds only partybot's rules: like bot/app.py
and bot/cli.py, it may import handlers/, schedules/ and sandbox/ to wire them together.
"""
