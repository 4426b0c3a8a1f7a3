"""Test doubles.  The main one is a fake Telegram Bot API server (``FakeBotAPI``) that a
real aiogram ``Bot`` talks to over HTTP and that rejects what real Telegram rejects."""
