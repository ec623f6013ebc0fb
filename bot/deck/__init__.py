"""A session as a slide deck: Marp Markdown, one self-contained HTML file, and PDF through a
headless Chromium. ``slides`` builds the deck from the database; the others draw it."""
