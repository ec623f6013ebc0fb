"""One way in, one way out: the inbox of requests, the outbox of posts, and the worker between.

- ``inbox``: requests recorded before they are acknowledged, finished with their effect.
- ``outbox``: posts written with the change they announce, each sent once.
- ``worker``: ``Delivery``, the one path every post takes to a platform, with retries.
- ``redraw``: posted ballots kept showing the stored tallies.
- ``codec``: messages as JSON; ``errors``: how adapters report a failed send.
"""
