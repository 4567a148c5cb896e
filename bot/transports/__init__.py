"""The two ways Feishu reaches the bot, both thin: the HTTPS webhook (webhook.py, a Flask app) and the long
connection (longconn.py, lark-oapi's ws.Client). Both hand lark-oapi's dispatcher (lark_events.py) the
bytes; it turns SDK objects into the inbound pipeline's dataclasses (bot/inbound.py)."""
