"""Deciding: a claim and the applicant's history -> a `Decision` with its trace.

Job: claim vocabulary, checks and exact conversion (`claims`), earlier grants (`history`), the
decision and its trace (`decision`), the rule evaluator (`evaluator`), a policy loaded with its
rules compiled, ready to decide (`ready`), versions in force by funding year (`versions`).
May import: engine.core, engine.language.
"""
