"""Accounts: sign-up, login, tokens and the caller they name, passwords, throttled checks."""
