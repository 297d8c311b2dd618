"""partybot's rules: settings, access policy, translation, CLI; nothing Telegram-shaped."""
