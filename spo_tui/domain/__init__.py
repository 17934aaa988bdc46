"""Domain: the rules, vocabularies, dates and urgency of the work. Plain Python, no I/O, no UI."""
