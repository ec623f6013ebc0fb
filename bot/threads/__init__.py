"""A discussion thread per posted card: started once, the presenter named in it, questions kept."""
