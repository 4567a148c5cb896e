"""The developer kit: everything that stands in for Feishu or drives the bot from outside, and is never
imported by the product (bot/, cards/).

- `devkit.sandbox`: the built-in Feishu sandbox, an emulator of the Open Platform endpoints the bot uses,
  seeded with a fictional company (星河科技).
- `devkit.webchat`: the demo's chat page (a Feishu-like window in the browser) and its Playwright driver.
- `devkit.demo`: `python -m bot demo`, the bot against the sandbox, in the terminal or on the chat page.
- `devkit.cardcheck`: a card JSON 2.0 schema check written from Feishu's documentation (used by tests).
- `devkit.cardtext`: cards rendered as plain text (the terminal demo and tests).
"""
