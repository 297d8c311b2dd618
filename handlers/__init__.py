"""The conversation: one module per feature, registered in one ordered place."""
