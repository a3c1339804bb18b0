"""Presentation: everything a person reads is rendered here, from the domain's results.

The domain steps decide (findings, pairs, batches, ledger rows) and never render; these
modules turn their results into text for the screen, JSON documents, and the words of the
files people open, in the run's language (``texts.say``), with personal data masked.
"""
