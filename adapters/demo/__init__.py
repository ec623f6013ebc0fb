"""The offline demo (``yomikai run --demo``): try the whole bot with no network at all.

The console chat runs on a throwaway database, and every site the bot reads papers from is
played, in this process, by ``DemoSites``: an HTTP server on 127.0.0.1 that answers the bot's own
arXiv, HTML and trending clients in the real wire formats (Atom, LaTeXML pages, Hugging Face's
JSON) from a bundled catalog of 16 real arXiv papers, their metadata and abstracts verbatim
(``catalog/README.md`` says where each came from). So nominating, polling trending papers,
voting, closing a round, the drafted cards and ``/summary`` all work on a plane: no token, no
model, no request leaves the machine.

    async with demo_sites() as sites:
        settings = demo_settings(Settings(), sites, "sqlite:///…/demo.db")
        ...  # build and run the bot with these settings
"""

from adapters.demo.papers import Catalog, DemoPaper, load_catalog
from adapters.demo.sites import DemoSites, demo_settings, demo_sites

__all__ = ["Catalog", "DemoPaper", "DemoSites", "demo_settings", "demo_sites", "load_catalog"]
