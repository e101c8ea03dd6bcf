"""Core: the pieces every layer shares and that know nothing of policies.

Job: errors with positions (`errors`), exact money and rates (`quantities`), check characters and
plausibility of Chinese identifiers (`identifiers`), positions in JSON text (`jsonpos`).
May import: the standard library and third-party packages only (no other engine layer).
"""
