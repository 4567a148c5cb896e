"""Scheduled digests: group OKR reminders and manager digest cards, each sent exactly once."""
