"""Time: wakes the bot when something in the database falls due."""
