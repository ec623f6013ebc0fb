"""The archive: what the group read before. ``/search`` (``search``) finds past and planned
sessions' papers and cards by their words; ``/yomikai history`` (``history``) says who presented
what and when, and how the rotation stands."""
