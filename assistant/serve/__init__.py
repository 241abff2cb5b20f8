"""Serve: the assistant to people and programs.

Owns the HTTP server (JSON API, OpenAI-compatible API), the Gradio chat,
access control (tokens, logins, limits, framing), the guards on what
strangers may send, safe rendering of answers, and feedback. Turns domain
errors into messages and status codes; holds no answering logic.
"""
