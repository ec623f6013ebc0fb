"""Cards that draft themselves: a paper's facts (arXiv, its HTML author block, Hugging Face),
the offline rules, the optional model, and the background worker that writes drafts into cards.
See ``docs/cards.md``."""
